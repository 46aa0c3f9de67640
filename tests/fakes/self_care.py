"""A knowledge base of one consumer-health passage (sore throat), for patient-mode graph tests."""

from __future__ import annotations

from typing import Any

from tools.base import ToolContext, tool

ADVICE = "Rest and fluids help. A pharmacist can suggest lozenges or sprays."


@tool
def search_knowledge(
    query: str, k: int = 5, source: str | None = None, *, ctx: ToolContext
) -> dict[str, Any]:
    """Fixture KB with one consumer-health passage, found for a throat question only."""
    hit = {
        "id": "kb-sore-throat",
        "source": "fixture",
        "title": "Sore throat",
        "text": f"Sore throats usually get better by themselves within a week. {ADVICE}",
        "score": 0.9,
    }
    found = "throat" in query.lower()
    return {"results": [hit] if found else [], "abstain": not found}
