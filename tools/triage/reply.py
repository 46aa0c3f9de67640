"""A triage decision as text: the level first, then why, the questions, and what to watch for.
Deterministic templates from assistant/policy/messages.py; no language model decides or rewrites it."""

from __future__ import annotations

from assistant.policy import messages
from tools.triage.engine import Decision


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return "; ".join(items[:-1]) + "; or " + items[-1]


def safety_net_lines(decision: Decision) -> list[str]:
    lines: list[str] = []
    if decision.safety.get("emergency"):
        lines.append(
            messages.TRIAGE_NET_EMERGENCY.format(items=_join(decision.safety["emergency"]))
        )
    if decision.safety.get("urgent") and decision.level in ("self_care", "routine"):
        lines.append(messages.TRIAGE_NET_URGENT.format(items=_join(decision.safety["urgent"])))
    if decision.review and decision.level == "self_care":
        lines.append(messages.TRIAGE_NET_REVIEW.format(review=decision.review))
    elif decision.level == "routine":
        lines.append(messages.TRIAGE_NET_ROUTINE)
    return lines


def compose(decision: Decision, *, mode: str = "patient", with_level: bool = True) -> str:
    """The reply. ``with_level`` False when the emergency banner already said where to go."""
    if mode == "clinician":
        return _clinician(decision)
    parts: list[str] = []
    if decision.provisional and decision.next_questions:
        parts.append(messages.TRIAGE_ASK)
        parts.append(
            "\n".join(f"{i}. {q['text']}" for i, q in enumerate(decision.next_questions, 1))
        )
        if decision.safety.get("emergency"):
            parts.append(
                messages.TRIAGE_ASK_SAFETY.format(items=_join(decision.safety["emergency"]))
            )
        return "\n\n".join(parts)
    if with_level or decision.level != "emergency":
        parts.append(messages.TRIAGE_LEVEL[decision.level])
    reasons = [r for r in decision.reasons if not r.startswith("not yet ruled out: ")]
    unsure = [
        r.removeprefix("not yet ruled out: ")
        for r in decision.reasons
        if r.startswith("not yet ruled out: ")
    ]
    if reasons:
        parts.append(messages.TRIAGE_WHY.format(reasons="; ".join(reasons)))
    if unsure:
        parts.append(messages.TRIAGE_NOT_RULED_OUT.format(items=_join(unsure)))
    if decision.level != "emergency":
        net = safety_net_lines(decision)
        if net:
            parts.append("\n".join(net))
    return "\n\n".join(parts)


def _clinician(decision: Decision) -> str:
    lines = [
        messages.TRIAGE_CLINICIAN.format(
            level=messages.TRIAGE_LEVEL_CLINICIAN[decision.level]
            + (" (provisional)" if decision.provisional else ""),
            reasons="; ".join(decision.reasons) or "-",
        )
    ]
    if decision.missing:
        lines.append(messages.TRIAGE_CLINICIAN_MISSING.format(items="; ".join(decision.missing)))
    if decision.next_questions:
        lines.append(
            messages.TRIAGE_CLINICIAN_QUESTIONS.format(
                items=" / ".join(q["text"] for q in decision.next_questions)
            )
        )
    return "\n".join(lines)
