"""search_knowledge tool: contract shape, citations, abstain -> needs_review, input errors,
and a clear 'not built' message when the index is empty."""

from __future__ import annotations

from typing import Any

import pytest

from assistant.core.config import Settings
from assistant.core.embeddings import HashingEmbedder
from assistant.core.errors import ToolUnavailableError, UserError
from assistant.core.state import empty_case
from knowledge.kb.index import KnowledgeIndex
from knowledge.kb.sources import Chunk
from tools.base import Resources, ToolContext
from tools.knowledge import search_knowledge


def ctx_with(settings: Settings, index: KnowledgeIndex) -> ToolContext:
    resources = Resources(settings)
    resources.put("kb.index", index)
    return ToolContext(
        case_id="t",
        mode="clinician",
        settings=settings,
        resources=resources,
        case=empty_case("clinician"),
        load_blob=lambda sha: b"",
    )


@pytest.fixture
def index() -> KnowledgeIndex:
    ix = KnowledgeIndex.ephemeral(HashingEmbedder(256))
    ix.ingest_chunks(
        "hpo",
        [
            Chunk(
                id="hpo:HP:0002107",
                text="Pneumothorax. Accumulation of air in the pleural cavity.",
                title="Pneumothorax",
                source="hpo",
                type="definition",
                identifier="HP:0002107",
                url="https://hpo.jax.org/browse/term/HP:0002107",
                licence="HPO licence",
                version="2025-01-16",
            ),
            Chunk(
                id="hpo:HP:0002202",
                text="Pleural effusion. Excess fluid in the pleural cavity.",
                title="Pleural effusion",
                source="hpo",
                type="definition",
                identifier="HP:0002202",
                url="",
                licence="HPO licence",
                version="2025-01-16",
            ),
        ],
        fingerprint="f",
        version="2025-01-16",
        licence="HPO licence",
    )
    return ix


def call(ctx: ToolContext, **args: Any) -> dict[str, Any]:
    spec_args = search_knowledge.args_model(**args).model_dump()
    return search_knowledge.fn(**spec_args, ctx=ctx)  # type: ignore[no-any-return]


def test_results_follow_the_contract_with_citations(
    settings: Settings, index: KnowledgeIndex
) -> None:
    out = call(ctx_with(settings, index), query="what is a pneumothorax", k=1)
    (r,) = out["results"]
    assert {"id", "source", "title", "text", "score", "url"} <= set(r)
    assert r["id"] == "hpo:HP:0002107" and r["citation"] == "HPO HP:0002107 (2025-01-16)"
    assert 0 < r["score"] <= 1 and out["abstain"] is False and out["needs_review"] is False


def test_weak_evidence_abstains_and_needs_review(settings: Settings, index: KnowledgeIndex) -> None:
    out = call(ctx_with(settings, index), query="best sourdough bread recipe")
    assert out["abstain"] is True and out["needs_review"] is True


def test_index_loaded_once_per_process(settings: Settings, index: KnowledgeIndex) -> None:
    ctx = ctx_with(settings, index)
    call(ctx, query="pleural effusion")
    retriever = ctx.resources.get("kb.retriever", lambda: None)
    call(ctx, query="pneumothorax")
    assert ctx.resources.get("kb.retriever", lambda: None) is retriever


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ({"query": "  "}, "non-empty"),
        ({"query": "x", "source": "pubmed"}, "unknown knowledge source"),
    ],
)
def test_bad_input_is_a_user_error(
    settings: Settings, index: KnowledgeIndex, args: dict[str, Any], match: str
) -> None:
    with pytest.raises(UserError, match=match):
        call(ctx_with(settings, index), **args)


def test_empty_index_says_how_to_build_it(settings: Settings) -> None:
    with pytest.raises(ToolUnavailableError, match="kb ingest"):
        call(
            ctx_with(settings, KnowledgeIndex.ephemeral(HashingEmbedder(64))), query="pneumothorax"
        )


def test_tool_schema_keeps_its_arguments() -> None:
    props = search_knowledge.json_schema()["function"]["parameters"]["properties"]
    assert set(props) == {"query", "k", "source", "section", "audience"}
    assert set(props["audience"]["anyOf"][0]["enum"]) == {"consumer", "clinician"}


def _consumer_index() -> KnowledgeIndex:
    from knowledge.kb.ingest import ingest_sources
    from knowledge.kb.sources.medquad import MedQuADSource

    ix = KnowledgeIndex.ephemeral(HashingEmbedder(256))
    ingest_sources(ix, [MedQuADSource(topics={"Back Pain", "Common Cold"})])
    return ix


def test_section_and_audience_filters(settings: Settings) -> None:
    ctx = ctx_with(settings, _consumer_index())
    out = call(ctx, query="back pain", section="When to see a doctor", audience="consumer")
    assert out["results"] and {r["section"] for r in out["results"]} == {"when-to-see-a-doctor"}
    top = out["results"][0]
    assert top["audience"] == "consumer" and top["topic"] == "Back Pain"
    assert top["citation"].endswith(": Back Pain — When to see a doctor")
    assert {r["section"] for r in call(ctx, query="back pain", section="self_care")["results"]} == {
        "self-care"
    }
    with pytest.raises(UserError, match="unknown section 'diet'"):
        call(ctx, query="back pain", section="diet")
    with pytest.raises(ValueError):
        call(ctx, query="back pain", audience="nurses")


def test_patient_mode_searches_consumer_text_first_and_returns_the_care_passage(
    settings: Settings,
) -> None:
    ctx = ctx_with(settings, _consumer_index())
    ctx.mode = "patient"
    out = call(ctx, query="what should I do about back pain")
    assert out["collection"] == "consumer" and out["results"][0]["topic"] == "Back Pain"
    assert out["care"]["section"] == "when-to-see-a-doctor"
    assert "health care provider" in out["care"]["text"]
