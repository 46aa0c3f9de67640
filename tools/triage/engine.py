"""The decision: from an intake record to a level of care, its reasons, the next questions and
safety-netting. Deterministic: the same record always gives the same decision.

Each rule's test is three-valued: true, false, or unknown when a fact the protocol says is
relevant has not been established yet. The level is the highest level of the rules that hold.
Rules that could still raise the level drive the next questions (most urgent first, fewest
unknowns first, at most two questions per turn, at most ``MAX_ROUNDS`` rounds). While questions
are open the level is never ``self_care``; when the conversation has to decide, a rule that is
still undecided counts one level lower (never below routine), or at its own level when the rule
says ``assume``. An emergency is never delayed by a question.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assistant.policy.messages import TRIAGE_UNCLEAR as UNCLEAR_REASON
from tools.triage.intake import NOT_UNDERSTOOD
from tools.triage.lexicon import LEVELS, RANK, VALUE_FACTS, Lexicon, Rule, lexicon
from tools.triage.logic import (
    Truth,
    View,
    child_age_unknown,
    evaluate,
    present_concepts,
    relevant_items,
)
from tools.triage.questions import (
    MAX_QUESTIONS,
    OPEN_TOPIC,
    missing_items,
    next_questions,
    open_question,
    red_flag_status,
    safety_net,
)
from tools.triage.same_fact import flag_key, one_per_fact
from tools.triage.unexplained import unexplained_reason

__all__ = [
    "MAX_ROUNDS",
    "RANK",
    "Decision",
    "Truth",
    "decide",
    "evaluate",
    "present_concepts",
    "relevant_items",
]

MAX_ROUNDS = 4


@dataclass
class Decision:
    level: str
    provisional: bool
    reasons: list[str]
    missing: list[str]
    next_questions: list[dict[str, Any]]
    safety: dict[str, list[str]]  # {"emergency": [...], "urgent": [...]} signs to act on
    review: str | None
    rules: list[str]
    complaints: list[dict[str, Any]]
    red_flags: dict[str, str]
    red_flag_names: list[str] = field(default_factory=list)
    # why home care may (or may not) be decided from minor-illness evidence: see home_care_gate
    gate: dict[str, Any] = field(default_factory=dict)


def _below(level: str) -> str:
    return LEVELS[max(RANK["routine"], RANK[level] - 1)]


def decide(
    intake: dict[str, Any],
    *,
    red_flags: list[str] | None = None,
    lex: Lexicon | None = None,
    allow_questions: bool = True,
    learned_floor: tuple[str, str] | None = None,
    home_care: str | None = None,
    blockers: tuple[str, ...] = (),
) -> Decision | None:
    """The level for this record, or None when it holds no symptom at all. ``learned_floor``: (level,
    reason) from the learned safety net (``classifier.py``): the level is at least that one
    (it can only raise the level; a learned emergency, like a rule's, is not delayed by a
    question). ``home_care``: the reason, in words, when the learned view says home care is
    likely; it decides ``self_care`` only where ``home_care_gate`` allows it (``blockers``: the
    risk factors that rule it out)."""
    lex = lex or lexicon()
    present = present_concepts(intake, lex)
    flags = list(red_flags or [])
    if not present and not flags:
        return None
    relevant = relevant_items(intake, lex, present)
    view = View(intake, lex, relevant)
    view.suppressed = {c for c in lex.generic if c not in present}
    fired: list[Rule] = []
    possible: list[tuple[Rule, list[str]]] = []
    for rule in lex.rules:
        truth, unknown = evaluate(rule, view)
        if truth is True:
            fired.append(rule)
        elif truth is None:
            possible.append((rule, unknown))
    level = max((r.level for r in fired), key=RANK.__getitem__, default="routine")
    keyed = _reasons(fired, level)
    if flags:
        level = "emergency"
        keyed = [*((flag_key(f), f) for f in flags), *keyed]
    reasons = one_per_fact(keyed, lex)
    if not flags and learned_floor and learned_floor[0] == "emergency" and level != "emergency":
        level = "emergency"  # never delayed by a question, like a rule's emergency
        reasons = [*reasons[:3], learned_floor[1]]
    complaints = [
        {
            "id": c,
            "name": lex.concepts[c].name,
            "hpo": lex.concepts[c].hpo,
            "status": intake["facts"][c]["status"],
        }
        for c in present
    ]
    red = red_flag_status(view, relevant, lex)
    if level == "emergency":
        return Decision(
            "emergency",
            False,
            reasons[:4],
            [],
            [],
            {},
            None,
            [r.id for r in fired],
            complaints,
            red,
            flags,
        )
    raising = [(r, u) for r, u in possible if RANK[r.level] > RANK[level]]
    # Only warning signs (rules at urgent or emergency with an unknown sign, or marked `assume`)
    # hold the level up while unknown; a routine-level rule ("a cough for more than 3 weeks") or
    # an unknown duration alone is asked about but not assumed.
    warning = [
        (r, u)
        for r, u in raising
        if RANK[r.level] >= RANK["urgent"]
        and (
            r.assume
            or any(item not in VALUE_FACTS for item in u)
            or ("age" in u and child_age_unknown(intake))
        )
    ]
    can_ask = allow_questions and intake.get("rounds", 0) < MAX_ROUNDS
    questions = next_questions(raising, view, lex, intake, present) if can_ask else []
    # nothing specific recognised (only a catch-all complaint): ask the open question first
    generic_only = all(c in lex.generic for c in present)
    if (
        generic_only
        and can_ask
        and OPEN_TOPIC in lex.topics
        and OPEN_TOPIC not in intake.get("asked", {})
    ):
        questions = [open_question(lex), *questions][:MAX_QUESTIONS]
    missing = missing_items(raising, lex)
    provisional = bool(questions)
    final_level = level
    floor_reasons: list[str] = []
    if provisional:
        # while asking: never home care with a warning sign unknown; and when nothing specific
        # was recognised, at least "today" until the warning signs are ruled out
        floor = "urgent" if generic_only else "routine"
        if warning and RANK[final_level] < RANK[floor]:
            final_level = floor
            if generic_only:
                floor_reasons = [
                    r.reason for r, _u in warning if r.level in ("urgent", "emergency")
                ]
    else:
        for rule, _unknown in warning:
            floor = rule.level if rule.assume else _below(rule.level)
            if RANK[floor] > RANK[final_level]:
                final_level = floor
        if RANK[final_level] > RANK[level]:
            floor_reasons = [
                r.reason
                for r, _u in warning
                if (r.level if r.assume else _below(r.level)) == final_level
            ]
        if generic_only and RANK[final_level] < RANK["routine"]:
            final_level = "routine"  # nothing recognised: never home care
    if intake.get("unexplained") and RANK[final_level] < RANK["routine"]:
        # part of the story was not understood: never home care
        final_level = "routine"
        floor_reasons = [unexplained_reason(intake)]
    learned_reasons: list[str] = []
    if learned_floor and RANK[final_level] < RANK[learned_floor[0]]:
        final_level = learned_floor[0]
        learned_reasons = [learned_floor[1]]
    gate = home_care_gate(
        intake,
        lex,
        present,
        blockers,
        open_=provisional or bool(flags) or bool(warning) or bool(learned_reasons),
        fired=fired,
        final_level=final_level,
    )
    if home_care and gate["allowed"]:
        final_level = "self_care"
        floor_reasons = []
        learned_reasons = [home_care]
    unclear = [
        lex.concepts[c].name
        for c, f in intake.get("facts", {}).items()
        if f.get("said") == NOT_UNDERSTOOD and f.get("status") == "unsure" and c in lex.concepts
    ]
    if unclear:  # visible: which warning sign could not be ruled out from the answers
        learned_reasons = [*learned_reasons, f"{UNCLEAR_REASON}: {unclear[0]}"]
    safety, review = safety_net(view, relevant, final_level, present, lex)
    all_reasons = (
        reasons
        if not floor_reasons
        else [*reasons[:2], *[f"not yet ruled out: {r}" for r in floor_reasons[:2]]]
    )[: 5 - len(learned_reasons)] + learned_reasons
    return Decision(
        final_level,
        provisional,
        all_reasons,
        missing,
        questions,
        safety,
        review,
        [r.id for r in fired],
        complaints,
        red,
        flags,
        gate,
    )


def home_care_gate(
    intake: dict[str, Any],
    lex: Lexicon,
    present: list[str],
    blockers: tuple[str, ...],
    *,
    open_: bool,
    fired: list[Rule],
    final_level: str,
) -> dict[str, Any]:
    """Whether minor-illness evidence (the learned view of the story) may decide home care where
    the rules left the catch-all "see your doctor": only a final decision (no question open, no
    red flag, no warning sign still unknown: every relevant one was asked and answered no), at
    routine only by the catch-all (no rule held at routine or above except the catch-all
    complaints' own: "feeling unwell", "pain without a clear cause"; a rule for a named problem,
    such as a lump or a changing mole, always stands), no piece of the story left not understood
    unless the warning sign it came near was asked and answered no,
    no risk factor among ``blockers``, not a baby under 1 and no one aged 50 or over (an age
    given, or a range whose lower end is 50 or more, such as a grandparent's; a narrow range that
    reaches 65 counts too), the age told when the one who is ill is someone else, and no
    duration that may be 2 weeks or more. ``recognised`` (a named complaint, not only the
    catch-all) is kept for the record but not required: the stories the gate is for are mostly
    ones only the catch-all took in. Each part is kept, so the record says why home care was or
    was not possible."""
    facts = intake.get("facts", {})
    age = (intake.get("subject") or {}).get("age")
    duration = (intake.get("values") or {}).get("duration")
    parts = {
        "final": not open_,
        "catch_all_level": final_level == "routine"
        and all(
            RANK[r.level] < RANK["routine"]
            or (not r.when.any and all(c in lex.generic for c in r.when.all))
            for r in fired
        ),
        # a piece of the story not understood counts only while the concept it came near is
        # not settled: once that warning sign was asked and answered no, it no longer blocks
        "understood": all(
            facts.get(u.get("near"), {}).get("status") == "absent"
            for u in intake.get("unexplained") or []
        ),
        "no_risk_factor": not any(
            facts.get(c, {}).get("status") in ("present", "possible") for c in blockers
        ),
        # someone else whose age is not known ("my son", "my dad": a relation's wide range) may
        # be a child or an older parent
        "age_known_if_someone_else": _narrow(age)
        or (intake.get("subject") or {}).get("who") != "other",
        # 50 or over (a given age, or a range starting there: a grandparent), or a narrow range
        # ("in his late 60s") that reaches 65
        "not_infant_or_older": not (
            age and (age[0] < 1 or age[0] >= 50 or (_narrow(age) and age[-1] >= 65))
        ),
        "short": not (duration and duration[-1] >= 14),
    }
    # kept for the record, not required: the gate is for the stories only the catch-all took in
    recognised = bool(present) and not all(c in lex.generic for c in present)
    return {"allowed": all(parts.values()), **parts, "recognised": recognised}


def _narrow(age: list[float] | None) -> bool:
    """An age given or told closely enough to decide on (not an adult's or a relation's default
    range such as 16-110 or 30-110)."""
    return age is not None and len(age) > 0 and age[-1] - age[0] <= 25


def _reasons(fired: list[Rule], level: str) -> list[tuple[str, str]]:
    """(rule id, reason) of the rules that set the level, highest first (at least one)."""
    ordered = sorted(fired, key=lambda r: -RANK[r.level])
    out: list[tuple[str, str]] = []
    for r in ordered:
        if RANK[r.level] < RANK[level] and len(out) >= 1:
            break
        out.append((r.id, r.reason))
    return out
