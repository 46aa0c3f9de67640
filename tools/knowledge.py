"""search_knowledge: hybrid (dense + keyword) retrieval over the knowledge base, with citations."""

from __future__ import annotations

from typing import Any

from assistant.errors import ToolUnavailableError, UserError
from tools.base import ToolContext, tool

MAX_K = 20
SOURCES = ("hpo", "wordnet", "icd10cm", "drugs", "document")


def _retriever(ctx: ToolContext) -> Any:
    from knowledge.index import KnowledgeIndex
    from knowledge.retrieval import Retriever
    from knowledge.sources import CODES, PASSAGES

    index = ctx.resources.get("kb.index", lambda: KnowledgeIndex.from_settings(ctx.settings))
    if index.count(PASSAGES) == 0 and index.count(CODES) == 0:
        raise ToolUnavailableError(
            "the knowledge base is empty: run `clinassist kb ingest` (a few minutes, once)"
        )
    return ctx.resources.get(
        "kb.retriever",
        lambda: Retriever(index, abstain_dense=ctx.settings.kb.abstain_similarity),
    )


@tool
def search_knowledge(
    query: str, k: int = 5, source: str | None = None, *, ctx: ToolContext
) -> dict[str, Any]:
    """Search the medical knowledge base; returns passages with their sources for citation."""
    query = (query or "").strip()
    if not query:
        raise UserError("search_knowledge needs a non-empty query")
    if source is not None and source not in SOURCES:
        raise UserError(f"unknown knowledge source {source!r}: use one of {', '.join(SOURCES)}")
    k = max(1, min(int(k), MAX_K))
    found = _retriever(ctx).search(query, k, source=source)
    results = [h.as_result() for h in found.hits]
    return {
        "results": results,
        "abstain": found.abstain,
        "needs_review": found.abstain,
        "reason": found.reason,
        "collection": found.collection,
        "expanded_query": found.expanded_query,
        "disclaimer": "Reference passages for decision support, not a diagnosis.",
    }
