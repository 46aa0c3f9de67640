"""Hybrid retrieval on a tiny fixture corpus: fusion, filters, de-duplication, expansion,
abstain; plus the evaluation metrics code and the shipped query set's integrity."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.core.embeddings import HashingEmbedder
from knowledge.kb.evaluate import load_queries, score
from knowledge.kb.index import KnowledgeIndex
from knowledge.kb.query import QueryExpander, load_synonyms, strip_frame, tokenize
from knowledge.kb.retrieval import Retriever, dedupe
from knowledge.kb.sources import CODES, PASSAGES, Chunk, aliases_of

CORPUS = [
    (
        "hpo:HP:0002107",
        "hpo",
        "definition",
        "Pneumothorax",
        "Pneumothorax. Accumulation of air in the pleural cavity leading to a collapsed lung.",
    ),
    (
        "hpo:HP:0002202",
        "hpo",
        "definition",
        "Pleural effusion",
        "Pleural effusion. The presence of an excessive amount of fluid in the pleural cavity.",
    ),
    (
        "hpo:HP:0001649",
        "hpo",
        "definition",
        "Tachycardia",
        "Tachycardia. Abnormally rapid heart rate, a fast heartbeat.",
    ),
    (
        "hpo:HP:0002094",
        "hpo",
        "definition",
        "Dyspnea",
        "Dyspnea. Difficult or labored breathing; shortness of breath.",
    ),
    (
        "wordnet:1-n",
        "wordnet",
        "definition",
        "pneumothorax",
        "pneumothorax: abnormal presence of air in the pleural cavity",
    ),
    (
        "doc:a:0.0",
        "document",
        "section",
        "Ward protocol — Chest drains",
        "Chest drains. Insert a chest drain in the safe triangle for a large pneumothorax.",
    ),
    (
        "doc:b:0.0",
        "document",
        "section",
        "Copy of ward protocol",
        "Chest drains. Insert a chest drain in the safe triangle for a large pneumothorax.",
    ),
]
CODES_CORPUS = [
    (
        "icd10cm:J93.0",
        "J93.0 Spontaneous tension pneumothorax",
        "J93.0 Spontaneous tension pneumothorax.",
    ),
    (
        "icd10cm:J90",
        "J90 Pleural effusion, not elsewhere classified",
        "J90 Pleural effusion, not elsewhere classified.",
    ),
]


def _chunk(
    cid: str,
    text: str,
    *,
    title: str | None = None,
    source: str = "hpo",
    type: str = "definition",
    identifier: str | None = None,
    collection: str = PASSAGES,
    aliases: tuple[str, ...] = (),
) -> Chunk:
    return Chunk(
        id=cid,
        text=text,
        title=text.split(".")[0] if title is None else title,
        source=source,
        type=type,
        identifier=cid if identifier is None else identifier,
        url="",
        licence="x",
        version="1",
        collection=collection,
        aliases=aliases,
    )


@pytest.fixture(scope="module")
def retriever() -> Retriever:
    index = KnowledgeIndex.ephemeral(HashingEmbedder(256))
    chunks = [
        _chunk(i, t, title=title, source=s, type=ty, identifier=i.split(":", 1)[1])
        for i, s, ty, title, t in CORPUS
    ]
    chunks += [
        Chunk(
            id=i,
            text=t,
            title=title,
            source="icd10cm",
            type="code",
            identifier=i[8:],
            url="",
            licence="public domain",
            version="2026",
            collection=CODES,
        )
        for i, title, t in CODES_CORPUS
    ]
    index.ingest_chunks("fixture", chunks, fingerprint="f", version="1", licence="x")
    return Retriever(
        index,
        expander=QueryExpander({"PTX": ["pneumothorax"], "SOB": ["dyspnea"]}),
        abstain_dense=0.35,
    )


def test_hybrid_puts_the_defining_passage_first(retriever: Retriever) -> None:
    res = retriever.search("what is a pneumothorax", 3)
    assert res.hits[0].id in {"hpo:HP:0002107", "wordnet:1-n"}
    assert {"dense", "bm25"} <= set(res.hits[0].ranks)
    assert not res.abstain and res.collection == PASSAGES


def test_rrf_score_is_one_when_both_retrievers_rank_first(retriever: Retriever) -> None:
    hit = retriever.search("Tachycardia abnormally rapid heart rate fast heartbeat", 1).hits[0]
    assert hit.id == "hpo:HP:0001649" and hit.score == pytest.approx(1.0)


def test_single_retriever_modes(retriever: Retriever) -> None:
    dense = retriever.search("pleural effusion fluid", 3, mode="dense").hits
    bm25 = retriever.search("pleural effusion fluid", 3, mode="bm25").hits
    assert all(h.bm25_score is None for h in dense) and all(h.dense_score is None for h in bm25)
    assert bm25[0].id == "hpo:HP:0002202"


def test_source_and_type_filters_apply_to_both_retrievers(retriever: Retriever) -> None:
    for mode in ("dense", "bm25", "hybrid"):
        hits = retriever.search("pneumothorax air", 5, source="wordnet", mode=mode).hits  # type: ignore[arg-type]
        assert [h.id for h in hits] == ["wordnet:1-n"]
        assert all(
            h.meta["type"] == "section"
            for h in retriever.search("chest drain", 5, type="section", mode=mode).hits
        )  # type: ignore[arg-type]


def test_identical_passages_are_deduplicated(retriever: Retriever) -> None:
    ids = [h.id for h in retriever.search("chest drain safe triangle", 5).hits]
    assert ("doc:a:0.0" in ids) != ("doc:b:0.0" in ids)


def test_code_questions_go_to_the_icd_collection(retriever: Retriever) -> None:
    res = retriever.search("ICD-10 code for spontaneous tension pneumothorax", 2)
    assert res.collection == CODES and res.hits[0].id == "icd10cm:J93.0"
    assert res.hits[0].as_result()["citation"] == "ICD-10-CM J93.0 (2026)"
    assert retriever.search("pleural effusion", 1, source="icd10cm").hits[0].id == "icd10cm:J90"


def test_abbreviations_expand_the_query(retriever: Retriever) -> None:
    res = retriever.search("SOB", 3, mode="bm25")
    assert "dyspnea" in res.expanded_query and res.hits[0].id == "hpo:HP:0002094"
    assert retriever.search("SOB", 3, mode="bm25", expand=False).hits == []


def test_abstains_when_evidence_is_weak(retriever: Retriever) -> None:
    res = retriever.search("who won the football world cup in 1998", 3)
    assert res.abstain and res.reason
    assert not retriever.search("pleural effusion", 3).abstain


def test_index_writes_invalidate_the_keyword_index(retriever: Retriever) -> None:
    index = KnowledgeIndex.ephemeral(HashingEmbedder(64))
    r = Retriever(index, expander=QueryExpander({}))
    assert r.search("syncope", 1, mode="bm25").hits == []
    index.ingest_chunks(
        "x",
        [
            Chunk(
                id="x:1",
                text="syncope is fainting",
                title="Syncope",
                source="doc",
                type="section",
                identifier="1",
                url="",
                licence="x",
                version="1",
            )
        ],
        fingerprint="f",
        version="1",
        licence="x",
    )
    assert r.search("syncope", 1, mode="bm25").hits[0].id == "x:1"


def test_expander_is_case_sensitive_for_capitalised_abbreviations() -> None:
    exp = QueryExpander({"MI": ["myocardial infarction"], "collapsed lung": ["pneumothorax"]})
    assert exp.expansions("hx of MI") == ["myocardial infarction"]
    assert exp.expansions("mi casa") == []
    assert exp.expansions("A Collapsed Lung?") == ["pneumothorax"]


def test_shipped_synonym_list_loads_and_covers_common_abbreviations() -> None:
    syn = load_synonyms()
    assert len(syn) >= 150 and {"MI", "SOB", "COPD", "heart attack"} <= set(syn)


def test_tokenize_keeps_icd_codes_and_drops_stopwords() -> None:
    assert tokenize("What is the code J93.0 for lungs?") == ["code", "j93.0", "lung"]


def test_dedupe_keeps_first_of_equal_texts() -> None:
    from knowledge.kb.retrieval import Hit

    hits = [
        Hit("a", "Same text.", {}, 1.0),
        Hit("b", "same  TEXT", {}, 0.9),
        Hit("a", "x", {}, 0.1),
    ]
    assert [h.id for h in dedupe(hits)] == ["a"]


def test_query_set_is_large_split_and_well_formed() -> None:
    rows = load_queries()
    assert len(rows) >= 150
    assert {r["split"] for r in rows} == {"dev", "test"}
    assert len({r["id"] for r in rows}) == len(rows)
    assert len({r["question"].lower() for r in rows}) == len(rows)
    assert all(r["relevant"] or r["kind"] == "negative" for r in rows)
    assert sum(r["kind"] == "handwritten" for r in rows) >= 60


def test_score_computes_recall_and_mrr(retriever: Retriever) -> None:
    queries = [
        {
            "id": "1",
            "kind": "k",
            "question": "pleural effusion fluid",
            "relevant": ["hpo:HP:0002202"],
        },
        {"id": "2", "kind": "k", "question": "zzzz qqqq", "relevant": ["hpo:HP:0002107"]},
        {"id": "3", "kind": "negative", "question": "recipe for sourdough bread", "relevant": []},
    ]
    out = score(retriever, queries, "bm25")
    assert out["n"] == 2 and out["recall@1"] == 0.5 and out["mrr"] == 0.5
    assert out["negatives"] == 1 and out["misses"][0]["id"] == "2"


@pytest.mark.slow
def test_real_minilm_hybrid_and_abstain_threshold() -> None:
    """The packaged MiniLM with the default abstain threshold on the fixture corpus."""
    from assistant.core.embeddings import MiniLMEmbedder

    index = KnowledgeIndex.ephemeral(MiniLMEmbedder())
    chunks = [_chunk(i, t, title=title, source=s, type=ty) for i, s, ty, title, t in CORPUS]
    index.ingest_chunks("fixture", chunks, fingerprint="f", version="1", licence="x")
    r = Retriever(index)  # shipped synonym list, default thresholds
    res = r.search("my heart is racing", 2)
    assert res.hits[0].id == "hpo:HP:0001649" and not res.abstain
    assert r.search("I get out of breath easily", 2).hits[0].id == "hpo:HP:0002094"
    assert r.search("Who painted the Mona Lisa?", 3).abstain


def test_strip_frame_removes_question_boilerplate_only() -> None:
    from knowledge.kb.query import strip_frame

    assert strip_frame("What is the medical term for a collapsed lung?") == "a collapsed lung"
    assert strip_frame("My child has curvature of 3rd toe. What is that called?") == (
        "curvature of 3rd toe"
    )
    assert strip_frame("what do doctors call hair loss") == "hair loss"
    assert strip_frame("headache") == "headache"
    assert strip_frame("What is that called?") == "What is that called?"  # never empty


def test_search_reports_stage_timings_and_reads_texts_from_memory(
    retriever: Retriever, monkeypatch: pytest.MonkeyPatch
) -> None:
    res = retriever.search("what is a pneumothorax", 3)
    assert {"embed", "dense", "bm25", "fuse"} <= set(res.timings_ms)
    assert all(v >= 0 for v in res.timings_ms.values())
    # dense hits carry their text and metadata although Chroma was asked for distances only
    top = res.hits[0]
    assert top.text and top.meta["title"] and top.dense_score is not None
    calls: list[list[str]] = []
    real_get = retriever.index.get
    monkeypatch.setattr(
        retriever.index, "get", lambda kind, ids: calls.append(list(ids)) or real_get(kind, ids)
    )
    retriever.search("pleural effusion", 3, mode="dense")
    assert calls == []  # every dense id was found in the in-memory keyword index


def test_dense_without_fetch_returns_ids_and_similarities(retriever: Retriever) -> None:
    index = retriever.index
    qvec = index.embedder.embed(["pneumothorax"])[0]
    full = index.dense(PASSAGES, qvec, 3)
    bare = index.dense(PASSAGES, qvec, 3, fetch=False)
    assert [h[0] for h in bare] == [h[0] for h in full]
    assert [round(h[1], 5) for h in bare] == [round(h[1], 5) for h in full]
    assert all(h[2] == "" and h[3] == {} for h in bare) and full[0][2]


def test_eval_split_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.core.errors import UserError
    from knowledge.kb.evaluate import SPLIT_ENV, split_from_env

    monkeypatch.delenv(SPLIT_ENV, raising=False)
    assert split_from_env() == "test"
    monkeypatch.setenv(SPLIT_ENV, "dev")
    assert split_from_env() == "dev"
    monkeypatch.setenv(SPLIT_ENV, "train")
    with pytest.raises(UserError):
        split_from_env()
    assert {r["split"] for r in load_queries("dev")} == {"dev"}


def test_alias_vectors_find_a_passage_by_one_of_its_synonyms() -> None:
    index = KnowledgeIndex.ephemeral(HashingEmbedder(256))
    chunks = [
        _chunk(
            "hpo:1",
            "Nocturia. Excessive urination at night.",
            aliases=("Nocturia", "Peeing a lot at night", "Frequent urination at night"),
        ),
        _chunk("hpo:2", "Polyuria. Increased urine volume over the day."),
        _chunk(
            "icd10cm:R35",
            "R35 Polyuria. Includes: frequency of micturition at night.",
            aliases=("Polyuria", "Peeing a lot at night"),
            source="icd10cm",
            type="code",
            collection=CODES,
        ),
    ]
    index.ingest_chunks("fx", chunks, fingerprint="f", version="1", licence="x")
    assert index.count(aliases_of(PASSAGES)) == 3 and index.count(aliases_of(CODES)) == 2
    r = Retriever(index, expander=QueryExpander({}))
    res = r.search("peeing a lot at night", 2, mode="dense")
    assert res.hits[0].id == "hpo:1" and res.hits[0].ranks["alias"] == 1
    assert res.hits[0].alias_score == pytest.approx(1.0, abs=1e-4)  # the alias itself
    # aliases stay inside their collection and obey the filters
    assert all(h.id.startswith("hpo:") for h in res.hits)
    assert r.search("peeing a lot at night", 2, source="wordnet", mode="dense").hits == []
    assert r.search("icd code for peeing a lot at night", 1).hits[0].id == "icd10cm:R35"
    # removing the source removes its alias vectors
    index.remove_source("fx")
    assert index.count(aliases_of(PASSAGES)) == index.count(aliases_of(CODES)) == 0


def test_code_words_are_stripped_before_embedding_a_code_lookup() -> None:
    assert strip_frame("What is the ICD-10 code for tension pneumothorax?", code=True) == (
        "tension pneumothorax"
    )
    assert strip_frame("billing code migraine", code=True) == "migraine"
    assert strip_frame("hepatitis a icd code", code=True) == "hepatitis a"
    assert strip_frame("ICD code", code=True) == "ICD code"  # never empty
    assert strip_frame("billing code migraine") == "billing code migraine"


@given(st.text(max_size=80))
def test_strip_frame_never_returns_nothing_for_a_query_with_words(query: str) -> None:
    for code in (False, True):
        out = strip_frame(query, code=code)
        assert out == query or (tokenize(out) and len(out) <= len(query))
