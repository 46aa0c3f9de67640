"""search_knowledge: hybrid (dense + keyword) retrieval over the knowledge base, with citations."""

from __future__ import annotations

from typing import Any

from assistant.errors import ToolUnavailableError
from tools.base import ToolContext, tool


@tool
def search_knowledge(
    query: str, k: int = 5, source: str | None = None, *, ctx: ToolContext
) -> dict[str, Any]:
    """Search the medical knowledge base; returns passages with their sources for citation."""
    raise ToolUnavailableError("the knowledge base is not built in this build (issue #4)")
