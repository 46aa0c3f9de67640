"""`clinassist kb ingest|stats` (search goes through the search_knowledge tool)."""

from __future__ import annotations

from assistant.config import Settings
from assistant.errors import ToolUnavailableError


def ingest(settings: Settings, sources: list[str]) -> None:
    raise ToolUnavailableError("the knowledge base is not built in this build (issue #4)")


def stats(settings: Settings) -> None:
    raise ToolUnavailableError("the knowledge base is not built in this build (issue #4)")
