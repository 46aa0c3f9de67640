"""search_knowledge: hybrid (dense + keyword) retrieval over the knowledge base, with citations.

Filters: ``source`` (one ingested source), ``section`` (a part of a consumer-health topic:
``information``, ``symptoms``, ``causes``, ``treatment``, ``self-care``,
``when-to-see-a-doctor``, ``prevention``, ``outlook``, ...: ``knowledge/data/kb/consumer.yaml``)
and ``audience`` (``consumer``: plain-language consumer-health passages; ``clinician``: term
definitions and codes). In patient mode, without filters, consumer passages are searched first
and everything else only when they do not answer (abstain); the top consumer topic's "when to
see a doctor" passage, when it has one, comes back as ``care``.
"""

from __future__ import annotations

from typing import Any, Literal

from assistant.core.errors import KnowledgeBuildingError, ToolUnavailableError, UserError
from assistant.policy import messages
from tools.base import ToolContext, tool

MAX_K = 20
SOURCES = ("hpo", "wordnet", "icd10cm", "drugs", "document", "medquad")
Audience = Literal["consumer", "clinician"]


def _retriever(ctx: ToolContext) -> Any:
    from knowledge.kb.build import is_building
    from knowledge.kb.index import KnowledgeIndex
    from knowledge.kb.retrieval import Retriever
    from knowledge.kb.sources import COLLECTIONS

    building = is_building(ctx.settings)
    if building is not None:  # never read a store another process is writing
        raise KnowledgeBuildingError(messages.KB_BUILDING.format(detail=building.detail))
    index = ctx.resources.get("kb.index", lambda: KnowledgeIndex.from_settings(ctx.settings))
    if all(index.count(kind) == 0 for kind in COLLECTIONS):
        raise ToolUnavailableError(
            "the knowledge base is empty: run `clinassist kb ingest` (a few minutes, once)"
        )
    return ctx.resources.get(
        "kb.retriever",
        lambda: Retriever(index, abstain_dense=ctx.settings.kb.abstain_similarity),
    )


def _section(name: str | None) -> str | None:
    if name is None or not name.strip():
        return None
    from knowledge.kb.sources import sections

    key = sections.normalize(name)
    if key is None:
        raise UserError(f"unknown section {name!r}: use one of {', '.join(sections.keys())}")
    return key


@tool
def search_knowledge(
    query: str,
    k: int = 5,
    source: str | None = None,
    section: str | None = None,
    audience: Audience | None = None,
    *,
    ctx: ToolContext,
) -> dict[str, Any]:
    """Search the medical knowledge base; returns passages with their sources for citation."""
    query = (query or "").strip()
    if not query:
        raise UserError("search_knowledge needs a non-empty query")
    if source is not None and source not in SOURCES:
        raise UserError(f"unknown knowledge source {source!r}: use one of {', '.join(SOURCES)}")
    key = _section(section)
    k = max(1, min(int(k), MAX_K))
    retriever = _retriever(ctx)
    consumer_first = ctx.mode == "patient" and source is None and key is None and audience is None
    found = retriever.search(
        query, k, source=source, section=key, audience="consumer" if consumer_first else audience
    )
    if consumer_first and (found.abstain or not found.hits):
        found = retriever.search(query, k)  # nothing consumer-level: every source
    results = [h.as_result() for h in found.hits]
    out: dict[str, Any] = {
        "results": results,
        "abstain": found.abstain,
        "needs_review": found.abstain,
        "reason": found.reason,
        "collection": found.collection,
        "expanded_query": found.expanded_query,
        "disclaimer": "Reference passages for decision support, not a diagnosis.",
    }
    if ctx.mode == "patient" and not found.abstain:
        care = retriever.care_passage(found.hits)
        if care is not None:  # the answer adds it after its own sentences
            out["care"] = care.as_result()
    return out
