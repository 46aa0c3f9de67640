"""Intake records for triage unit tests."""

from __future__ import annotations

from typing import Any

from tools.triage.intake import new_intake


def adult_intake(complaint: str) -> dict[str, Any]:
    """A 30-year-old asking for themselves, with one complaint present (said on turn 1)."""
    intake = new_intake()
    intake["subject"] = {
        "who": "self",
        "relation": None,
        "sex": None,
        "age": [30.0, 30.0],
        "age_stated": True,
    }
    intake["facts"] = {complaint: {"status": "present", "turn": 1, "said": ""}}
    return intake
