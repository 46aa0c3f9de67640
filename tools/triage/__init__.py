"""Virtual-doctor triage: an intake record per case, a level of care with reasons, the next
questions, and safety-netting, all from rules kept as data (``tools/triage/data``).

    triage(text="my 2 year old has a temperature of 39", ctx=ctx)
    -> {"level": "urgent" | ..., "reasons": [...], "next_questions": [...], "safety_net": [...],
        "intake": {...}, "reply": "...", ...}

The level comes from the rules and the project's red-flag rules only; a language model never
decides or changes it. The tool reads the case's intake record and returns the updated one
(the graph stores it), so a conversation remembers what was said and what was asked.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from assistant.policy import safety
from tools.base import ToolContext, tool
from tools.triage.classifier import MAX_STORY_CHARS, Model, assess_story
from tools.triage.engine import RANK, Decision, decide
from tools.triage.intake import (
    expected_values,
    new_intake,
    next_episode,
    starts_new_episode,
    update,
)
from tools.triage.lexicon import NOT_RECOGNISED
from tools.triage.parse import parse, warm
from tools.triage.reply import compose, safety_net_lines

__all__ = ["assess", "triage", "warm"]

MAX_LEVEL_HISTORY = 50


def _understood(record: dict[str, Any], complaints: list[dict[str, Any]]) -> bool:
    """Whether some complaint was recognised, not only stood in for by the catch-all."""
    guessed = record["facts"].get("unwell_general", {}).get("said") == NOT_RECOGNISED
    return any(not (guessed and c.get("id") == "unwell_general") for c in complaints)


def assess(
    text: str,
    intake: dict[str, Any] | None = None,
    *,
    mode: str = "patient",
    embedder: Any = None,
    cache_dir: Path | None = None,
    learned: Model | None = None,
) -> dict[str, Any]:
    """One message against a case's intake record (not modified): the decision and new record.
    ``embedder``: for semantic matching (``parse``) and the learned safety net (``learned``, by
    default the shipped model; it only works with the embedder it was trained for and may only
    raise the level, to urgent or emergency); otherwise the level comes from the rules, the red-flag rules and
    what was recognised."""
    record = copy.deepcopy(intake) if intake else new_intake()
    found = parse(text, expect=expected_values(record), embedder=embedder, cache_dir=cache_dir)
    if starts_new_episode(record, found):
        record = next_episode(record)
    turn = int(record.get("turns", 0)) + 1
    update(record, found, turn=turn)
    flags = [f.name for f in safety.red_flags(text)]
    record["red_flags"] = list(dict.fromkeys([*record.get("red_flags", []), *flags]))
    record["story"] = (str(record.get("story", "")) + "\n" + text).strip()[-MAX_STORY_CHARS:]
    decision = decide(record, red_flags=record["red_flags"])
    if decision is None:
        # nothing recognised (or everything denied): the catch-all complaint, so the story still
        # gets a level - provisional, at least urgent while a warning sign is unknown - and an
        # open question; never no level and never home care
        record["facts"]["unwell_general"] = {
            "status": "present",
            "turn": turn,
            "said": NOT_RECOGNISED,
        }
        decision = decide(record, red_flags=record["red_flags"])
        assert decision is not None  # a present complaint always gives a decision
    # the learned safety net reads the whole episode's story; it may only raise the level, so it
    # does not run when the rules (or a red flag) already say emergency
    view = (
        None if decision.level == "emergency" else assess_story(record["story"], embedder, learned)
    )
    record["learned"] = view
    floor = _learned_floor(record, view)
    if floor and RANK[floor[0]] > RANK[decision.level]:
        raised = decide(record, red_flags=record["red_flags"], learned_floor=floor)
        decision = raised if raised is not None else decision
    elif view:
        # home care from minor-illness evidence, only where the gate allows it (engine.py)
        gated = decide(
            record,
            red_flags=record["red_flags"],
            home_care=view.get("home_care"),
            blockers=tuple(view.get("blockers", ())),
        )
        decision = gated if gated is not None else decision
    record["home_care"] = decision.gate or None
    if decision.next_questions:
        record["pending"] = [
            {
                "id": q["id"],
                "topics": q["topics"],
                "concepts": q["concepts"],
                "describe": q.get("describe", False),
            }
            for q in decision.next_questions
        ]
        record["rounds"] = int(record.get("rounds", 0)) + 1
    record["final"] = not decision.provisional
    record["levels"] = [
        *record.get("levels", []),
        {"turn": turn, "level": decision.level, "provisional": decision.provisional},
    ][-MAX_LEVEL_HISTORY:]
    return _result(decision, record, mode)


def _learned_floor(record: dict[str, Any], view: dict[str, Any] | None) -> tuple[str, str] | None:
    """The highest level the learned safety net has raised to in this episode: a raise stands
    for the episode (like a red flag), so later answers or words added to the story do not
    undo it."""
    kept = record.get("learned_floor")
    floor = (kept[0], kept[1]) if kept else None
    if view and view.get("raise_to"):
        new = (str(view["raise_to"]), str(view["reason"]))
        if floor is None or RANK[new[0]] > RANK[floor[0]]:
            floor = new
    if floor:
        record["learned_floor"] = list(floor)
    return floor


def _result(decision: Decision, record: dict[str, Any], mode: str) -> dict[str, Any]:
    top = decision.complaints[0]["name"] if decision.complaints else None
    return {
        "level": decision.level,
        "provisional": decision.provisional,
        "reasons": decision.reasons,
        "missing": decision.missing,
        "next_questions": [
            {"id": q["id"], "text": q["text"], "topics": q["topics"]}
            for q in decision.next_questions
        ],
        "safety_net": safety_net_lines(decision),
        "complaints": decision.complaints,
        "understood": _understood(record, decision.complaints),
        "red_flags": decision.red_flags,
        "rules": decision.rules,
        "learned": record.get("learned"),
        "emergency_reasons": decision.red_flag_names or decision.reasons,
        "knowledge_query": top
        if (not decision.provisional and decision.level in ("self_care", "routine"))
        else None,
        "intake": record,
        "reply": compose(decision, mode=mode),
        "reply_after_banner": compose(decision, mode=mode, with_level=False),
        "disclaimer": "Rule-based triage for decision support; not a diagnosis.",
    }


@tool
def triage(
    text: str | None = None, attachment: str | None = None, *, ctx: ToolContext
) -> dict[str, Any]:
    """Virtual-doctor triage of a symptom story: update the case's intake record and decide where
    to get care (emergency, urgent, routine, self_care) with reasons, questions and safety-netting."""
    if text and text.strip():
        body = text
    else:
        from tools.ner import report_text

        body = report_text(text, attachment, ctx)
    intake: Any = ctx.case.get("intake")
    from assistant.core.embeddings import build_embedder

    embedder = ctx.resources.get("embedder", lambda: build_embedder(ctx.settings))
    return assess(
        body,
        intake if isinstance(intake, dict) else None,
        mode=ctx.mode,
        embedder=embedder,
        cache_dir=ctx.settings.data_dir / "cache",
    )
