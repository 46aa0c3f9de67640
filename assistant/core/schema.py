"""The Turn of the contract and the pieces it is made of (pydantic, JSON-ready)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Mode = Literal["clinician", "patient"]
MODES: tuple[Mode, ...] = ("clinician", "patient")


class ToolCall(BaseModel):
    """One tool call: what the agent asked for and what came back."""

    name: str
    args: dict[str, Any] = Field(default_factory=dict)
    ok: bool = True
    result: dict[str, Any] | None = None
    error: str | None = None
    ms: int = 0
    code: str | None = Field(default=None, description="error code (assistant/core/errors.py)")
    user_error: bool = Field(default=False, description="failed because of bad input")


class Citation(BaseModel):
    id: str
    source: str
    title: str
    url: str | None = None


class Safety(BaseModel):
    emergency: bool = False
    refused: bool = False
    phi_redacted: bool = False
    needs_review: bool = False
    reasons: list[str] = Field(default_factory=list)

    def flag(self, reason: str, **flags: bool) -> None:
        for key, value in flags.items():
            if value:
                setattr(self, key, True)
        if reason not in self.reasons:
            self.reasons.append(reason)


class AttachmentRef(BaseModel):
    """An attachment stored by content hash; ``name`` is only the user's file name."""

    sha256: str
    name: str
    media_type: str
    kind: Literal["image", "dicom", "report"]
    size: int


TriageLevel = Literal["self_care", "routine", "urgent", "emergency"]
TRIAGE_LEVELS: tuple[TriageLevel, ...] = ("self_care", "routine", "urgent", "emergency")
"""The levels of care, least urgent first (a level's index is its rank)."""
TRIAGE_RANK: dict[str, int] = {level: i for i, level in enumerate(TRIAGE_LEVELS)}


class TriageInfo(BaseModel):
    """Where to get care, decided by rules (tools/triage), with why and what would change it."""

    level: TriageLevel
    provisional: bool = Field(default=False, description="questions are still open")
    reasons: list[str] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)
    next_questions: list[dict[str, Any]] = Field(default_factory=list)
    safety_net: list[str] = Field(default_factory=list)
    standing: bool = Field(
        default=False,
        description="the conversation's earlier emergency or same-day decision, repeated",
    )


class Turn(BaseModel):
    model_config = ConfigDict(extra="allow")

    case_id: str
    mode: Mode
    reply: str
    tools: list[ToolCall] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)
    safety: Safety = Field(default_factory=Safety)
    latency_ms: int = 0
    index: int = 0
    user: str = ""
    attachments: list[AttachmentRef] = Field(default_factory=list)
    intent: str = ""
    created_at: str = ""
    triage: TriageInfo | None = None

    def contract_json(self) -> dict[str, Any]:
        """The contract's keys first, our extensions after."""
        return self.model_dump(mode="json")
