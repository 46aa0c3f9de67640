"""Per-case state: what persists across turns and restarts, and the graph's working state."""

from __future__ import annotations

from typing import Any, TypedDict

from assistant.core.schema import AttachmentRef, Citation, Mode, Safety, ToolCall


class CaseState(TypedDict, total=False):
    """Stored per case (JSON). Messages live in the turns table; this holds the rest."""

    mode: Mode
    attachments: list[dict[str, Any]]  # AttachmentRef dumps, in order of arrival
    findings: list[dict[str, Any]]  # entities from extract_entities, newest report last
    observations: list[
        dict[str, Any]
    ]  # the newest report's observations ({finding, status, evidence, report})
    images: list[dict[str, Any]]  # classify_image results, with the attachment hash
    last_answer: str
    intake: dict[str, Any]  # virtual-doctor triage record (tools/triage/intake.py)
    disposition: dict[str, Any]  # the latest triage decision: its Turn summary and its age
    crisis: bool  # thoughts of suicide or self-harm told in this case (held until a final decision)


class Message(TypedDict):
    role: str  # "user" | "assistant"
    content: str


class TurnState(TypedDict, total=False):
    """What flows through the graph for one turn (nodes return partial updates)."""

    case_id: str
    mode: Mode
    text: str
    redacted_text: str
    attachments: list[AttachmentRef]
    case: CaseState
    history: list[Message]
    intent: str
    plan: list[dict[str, Any]]
    tool_calls: list[ToolCall]
    citations: list[Citation]
    safety: Safety
    reply: str
    stop: bool
    triage: dict[str, Any] | None  # the Turn's triage summary (patient mode, or on request)


def empty_case(mode: Mode) -> CaseState:
    return {
        "mode": mode,
        "attachments": [],
        "findings": [],
        "observations": [],
        "images": [],
        "last_answer": "",
    }
