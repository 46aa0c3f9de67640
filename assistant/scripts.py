"""Scripted conversations (YAML) that drive the assistant end to end, from the CLI and pytest.

case: demo-1
mode: clinician
turns:
  - user: "Findings: No pneumothorax. Small left pleural effusion."
    attach: [path/relative/to/this/file.png]
    expect:
      tools: [extract_entities]        # exactly these, in order
      tools_include: [extract_entities]
      reply_contains: ["pleural effusion"]
      reply_not_contains: ["pneumothorax is present"]
      safety: {emergency: false}
      citations_min: 1                 # extension
      error: true                      # extension: the turn must be rejected as bad input
      triage: {level: urgent, provisional: false}   # extension: the Turn's triage fields
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.core.errors import ScriptError, UserError
from assistant.core.schema import Turn
from assistant.service import Assistant


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Expect(_Strict):
    tools: list[str] | None = None
    tools_include: list[str] | None = None
    reply_contains: list[str] = Field(default_factory=list)
    reply_not_contains: list[str] = Field(default_factory=list)
    safety: dict[str, bool] = Field(default_factory=dict)
    citations_min: int | None = None
    error: bool = False
    triage: dict[str, Any] | None = None


class ScriptTurn(_Strict):
    user: str = ""
    attach: list[str] = Field(default_factory=list)
    mode: Literal["clinician", "patient"] | None = None
    expect: Expect = Field(default_factory=Expect)


class Script(_Strict):
    case: str
    mode: Literal["clinician", "patient"] = "clinician"
    description: str = ""
    turns: list[ScriptTurn]


@dataclass
class TurnOutcome:
    index: int
    user: str
    turn: Turn | None
    error: str | None
    failures: list[str] = field(default_factory=list)


@dataclass
class ScriptOutcome:
    path: Path
    case: str
    turns: list[TurnOutcome]

    @property
    def failures(self) -> list[str]:
        return [f"turn {t.index + 1}: {f}" for t in self.turns for f in t.failures]

    @property
    def ok(self) -> bool:
        return not self.failures


def load_script(path: Path) -> Script:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScriptError(f"cannot read script {path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise ScriptError(f"{path} is not valid YAML: {exc}") from exc
    try:
        return Script.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise ScriptError(f"{path}: {loc}: {err['msg']}") from exc


def check(expect: Expect, turn: Turn) -> list[str]:
    failures = []
    names = [t.name for t in turn.tools]
    if expect.tools is not None and names != expect.tools:
        failures.append(f"tools were {names}, expected exactly {expect.tools}")
    if expect.tools_include is not None:
        missing = [t for t in expect.tools_include if t not in names]
        if missing:
            failures.append(f"tools {names} lack {missing}")
    reply = turn.reply.lower()
    for needle in expect.reply_contains:
        if needle.lower() not in reply:
            failures.append(f"reply does not contain {needle!r}")
    for needle in expect.reply_not_contains:
        if needle.lower() in reply:
            failures.append(f"reply contains {needle!r}")
    flags = turn.safety.model_dump()
    for key, want in expect.safety.items():
        if key not in flags:
            failures.append(
                f"unknown safety flag {key!r}; valid: {', '.join(k for k in flags if k != 'reasons')}"
            )
        elif flags[key] != want:
            failures.append(f"safety.{key} was {flags[key]}, expected {want}")
    if expect.triage is not None:
        got = turn.triage.model_dump() if turn.triage else {}
        for key, want in expect.triage.items():
            if got.get(key) != want:
                failures.append(f"triage.{key} was {got.get(key)!r}, expected {want!r}")
    if expect.citations_min is not None and len(turn.citations) < expect.citations_min:
        failures.append(
            f"{len(turn.citations)} citations, expected at least {expect.citations_min}"
        )
    return failures


SCRIPT_ACTOR = "script"
"""The audit actor of everything a script does (``script`` or ``script:<file>``)."""


def script_owned(assistant: Assistant, case_id: str) -> bool:
    """True when every audit entry of ``case_id`` was written by a script: only such a case
    may be reset or continued by run-script."""
    return all(
        actor == SCRIPT_ACTOR or actor.startswith(SCRIPT_ACTOR + ":")
        for actor in assistant.store.audit_actors(case_id)
    )


def run_script(
    assistant: Assistant,
    path: Path,
    *,
    on_turn: Callable[[TurnOutcome], None] | None = None,
    fresh: bool = True,
) -> ScriptOutcome:
    """Run one script. With ``fresh`` (default) an existing case of the same id that only
    scripts wrote starts over; a case anyone else wrote in is never touched (ScriptError)."""
    script = load_script(path)
    if assistant.store.exists(script.case):
        if not script_owned(assistant, script.case):
            raise ScriptError(
                f"{path}: case {script.case!r} already holds turns that no script wrote; "
                "run-script never touches it: give the script another `case:` id"
            )
        if fresh:
            assistant.reset(script.case, actor=SCRIPT_ACTOR)
    outcomes = []
    for i, step in enumerate(script.turns):
        attach = [(path.parent / a) for a in step.attach]
        outcome = TurnOutcome(index=i, user=step.user, turn=None, error=None)
        try:
            outcome.turn = assistant.respond(
                script.case,
                step.user,
                attach,
                step.mode or script.mode,
                actor=f"{SCRIPT_ACTOR}:{path.name}",
            )
        except UserError as exc:
            outcome.error = exc.message
        if outcome.error is not None:
            if not step.expect.error:
                outcome.failures.append(f"rejected: {outcome.error}")
        elif step.expect.error:
            outcome.failures.append("expected the turn to be rejected as bad input")
        elif outcome.turn is not None:
            outcome.failures.extend(check(step.expect, outcome.turn))
        outcomes.append(outcome)
        if on_turn is not None:
            on_turn(outcome)
    return ScriptOutcome(path=path, case=script.case, turns=outcomes)


def expand(paths: list[Path]) -> list[Path]:
    """Files as given; folders -> their *.yaml / *.yml files, sorted."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted([*p.glob("*.yaml"), *p.glob("*.yml")]))
        else:
            out.append(p)
    return out


def outcome_json(outcome: TurnOutcome) -> dict[str, Any]:
    data: dict[str, Any] = (
        outcome.turn.contract_json() if outcome.turn is not None else {"error": outcome.error}
    )
    data["expectations_failed"] = outcome.failures
    return data
