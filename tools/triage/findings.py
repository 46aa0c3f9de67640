"""What one patient message says (``parse.parse`` fills it; nothing here knows earlier turns)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tools.triage.values import Range

Status = str  # "present" | "absent" | "possible"


@dataclass
class Mention:
    concept: str
    status: Status
    start: int
    end: int
    text: str


@dataclass
class Findings:
    """Everything one message says (nothing here knows about earlier turns)."""

    text: str  # normalised
    mentions: dict[str, Mention] = field(default_factory=dict)
    subject: str | None = None  # "self" | "other"
    relation: str | None = None
    sex: str | None = None
    age: Range | None = None
    age_stated: bool = False
    duration: Range | None = None
    duration_by: dict[str, Range] = field(default_factory=dict)
    temperature: float | None = None
    severity: float | None = None
    course: str | None = None
    polarity: str | None = None  # for answers: "yes" | "no" | "unsure"
    sentences: list[str] = field(default_factory=list)
    # pieces nothing explained, near a concept: (concept, score, piece) - see semantic.Near
    near: list[tuple[str, float, str]] = field(default_factory=list)

    def status(self, concept: str) -> Status | None:
        m = self.mentions.get(concept)
        return m.status if m else None

    def present(self) -> list[str]:
        return [c for c, m in self.mentions.items() if m.status != "absent"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "mentions": {c: m.status for c, m in self.mentions.items()},
            "subject": self.subject,
            "relation": self.relation,
            "sex": self.sex,
            "age": list(self.age) if self.age else None,
            "duration": list(self.duration) if self.duration else None,
            "temperature": self.temperature,
            "severity": self.severity,
            "course": self.course,
            "polarity": self.polarity,
        }
