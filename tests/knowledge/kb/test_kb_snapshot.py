"""The read snapshot of a local knowledge base: the same rankings as Chroma, a fallback to
Chroma when ``CURRENT`` is missing, invalidation on write, no Chroma client on the read path."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from assistant.core.embeddings import HashingEmbedder
from knowledge.kb import snapshot
from knowledge.kb.index import KnowledgeIndex
from knowledge.kb.query import QueryExpander
from knowledge.kb.retrieval import Retriever
from knowledge.kb.sources import CODES, CONSUMER, PASSAGES, Chunk

ROWS = [  # id, collection, source, type, title, text, aliases, topic, section
    ("hpo:1", PASSAGES, "hpo", "definition", "Dyspnea", "Dyspnea. Difficult or laboured breathing.",
     ("Shortness of breath", "Breathlessness"), "", ""),
    ("hpo:2", PASSAGES, "hpo", "definition", "Pneumothorax",
     "Pneumothorax. Air in the pleural space causing lung collapse.", ("Collapsed lung",), "", ""),
    ("hpo:3", PASSAGES, "hpo", "definition", "Pleural effusion",
     "Pleural effusion. Fluid in the pleural space around the lung.", ("Fluid on the lung",), "",
     ""),
    ("wordnet:1", PASSAGES, "wordnet", "definition", "asthma",
     "asthma. Respiratory disorder with wheezing and shortness of breath.", (), "", ""),
    ("wordnet:2", PASSAGES, "wordnet", "definition", "nocturia",
     "nocturia. Excessive urination at night.", ("Peeing at night",), "", ""),
    ("drugs:1", PASSAGES, "drugs", "drug", "metformin",
     "metformin. An oral drug that lowers blood glucose in type 2 diabetes.", (), "", ""),
    ("icd10cm:R06.0", CODES, "icd10cm", "code", "R06.0 Dyspnea",
     "R06.0 Dyspnea. Includes orthopnea and shortness of breath.", ("Shortness of breath",), "",
     ""),
    ("icd10cm:J93", CODES, "icd10cm", "code", "J93 Pneumothorax",
     "J93 Pneumothorax and air leak.", (), "", ""),
    ("icd10cm:J45", CODES, "icd10cm", "code", "J45 Asthma", "J45 Asthma. Allergic asthma.", (),
     "", ""),
    ("medquad:1", CONSUMER, "medquad", "qa", "Asthma: symptoms",
     "Asthma symptoms include wheezing, coughing and shortness of breath.", (), "asthma",
     "symptoms"),
    ("medquad:2", CONSUMER, "medquad", "qa", "Asthma: treatment",
     "Asthma is treated with inhaled steroids and quick-relief inhalers.", (), "asthma",
     "treatment"),
    ("medquad:3", CONSUMER, "medquad", "qa", "Common cold: symptoms",
     "A cold causes a runny nose, sneezing and a sore throat.", (), "common cold", "symptoms"),
]  # fmt: skip

QUERIES = [
    ("shortness of breath", {}),
    ("what is a pneumothorax", {}),
    ("fluid around the lung", {"mode": "dense"}),
    ("peeing at night", {"mode": "dense"}),
    ("metformin diabetes", {"mode": "bm25"}),
    ("icd code for dyspnea", {}),
    ("asthma treatment", {"section": "treatment"}),
    ("breathing", {"source": "hpo"}),
    ("lung", {"source": "wordnet", "type": "definition"}),
    ("asthma symptoms", {"audience": "consumer"}),
]


def chunks() -> list[Chunk]:
    return [
        Chunk(
            id=i,
            text=text,
            title=title,
            source=source,
            type=type_,
            identifier=i.split(":", 1)[1],
            url="",
            licence="x",
            version="1",
            collection=coll,
            aliases=aliases,
            topic=topic,
            section=section,
        )
        for i, coll, source, type_, title, text, aliases, topic, section in ROWS
    ]


def ranking(index: KnowledgeIndex, query: str, kw: dict[str, object]) -> list[tuple[str, float]]:
    res = Retriever(index, expander=QueryExpander({})).search(query, 5, **kw)  # type: ignore[arg-type]
    return [(h.id, round(h.score, 6)) for h in res.hits]


@pytest.fixture
def built(tmp_path: Path) -> Path:
    kb = tmp_path / "kb"
    index = KnowledgeIndex.persistent(kb, HashingEmbedder(256))
    index.ingest_chunks("fixture", chunks(), fingerprint="f", version="1", licence="x")
    with index.write_lock():
        index.write_snapshot()
    return kb


def test_snapshot_rankings_equal_chromas(built: Path) -> None:
    from_snapshot = KnowledgeIndex.persistent(built, HashingEmbedder(256))
    assert from_snapshot.snapshot() is not None
    got = {q: ranking(from_snapshot, q, kw) for q, kw in QUERIES}
    snapshot.invalidate(built)  # CURRENT gone: the same index answers from Chroma
    from_chroma = KnowledgeIndex.persistent(built, HashingEmbedder(256))
    assert from_chroma.snapshot() is None
    want = {q: ranking(from_chroma, q, kw) for q, kw in QUERIES}
    assert got == want
    assert all(want[q] for q, _ in QUERIES[:4])  # the comparison is not between empty lists


def test_snapshot_texts_metadata_and_counts_equal_chromas(built: Path) -> None:
    index = KnowledgeIndex.persistent(built, HashingEmbedder(256))
    ids = [r[0] for r in ROWS if r[1] == CONSUMER]
    saved = index.get(CONSUMER, ids)
    counts = {k: index.count(k) for k in (PASSAGES, CODES, CONSUMER)}
    snapshot.invalidate(built)
    chroma = KnowledgeIndex.persistent(built, HashingEmbedder(256))
    assert saved == chroma.get(CONSUMER, ids)
    assert (
        counts
        == {k: chroma.count(k) for k in (PASSAGES, CODES, CONSUMER)}
        == {
            PASSAGES: 6,
            CODES: 3,
            CONSUMER: 3,
        }
    )


def test_a_query_from_the_snapshot_never_opens_chroma(built: Path) -> None:
    index = KnowledgeIndex.persistent(built, HashingEmbedder(256))
    assert ranking(index, "shortness of breath", {})
    assert callable(index._client) and not hasattr(index._client, "get_or_create_collection")


def test_missing_current_falls_back_to_chroma(built: Path) -> None:
    (built / snapshot.DIR / snapshot.POINTER).unlink()
    index = KnowledgeIndex.persistent(built, HashingEmbedder(256))
    assert index.snapshot() is None
    assert ranking(index, "what is a pneumothorax", {})[0][0] == "hpo:2"


def test_another_embedders_snapshot_is_not_used(built: Path) -> None:
    index = KnowledgeIndex.persistent(built, HashingEmbedder(128))
    assert index.snapshot() is None


def test_a_write_invalidates_the_snapshot_until_the_next_one(built: Path) -> None:
    index = KnowledgeIndex.persistent(built, HashingEmbedder(256))
    assert index.snapshot() is not None
    extra = dataclasses.replace(chunks()[0], id="hpo:9", text="Orthopnea. Dyspnea lying flat.")
    index.ingest_chunks("extra", [extra], fingerprint="g", version="1", licence="x")
    assert snapshot.current_token(built) is None and index.snapshot() is None
    assert index.count(PASSAGES) == 7  # from Chroma, including the new passage
    with index.write_lock():
        index.write_snapshot()
    fresh = KnowledgeIndex.persistent(built, HashingEmbedder(256))
    assert fresh.snapshot() is not None and fresh.count(PASSAGES) == 7
    assert "hpo:9" in fresh.get(PASSAGES, ["hpo:9"])


def test_write_lock_is_exclusive(built: Path) -> None:
    a = KnowledgeIndex.persistent(built, HashingEmbedder(256))
    b = KnowledgeIndex.persistent(built, HashingEmbedder(256))
    with a.write_lock() as got_a:
        assert got_a
        with b.write_lock(wait=False) as got_b:
            assert not got_b


def _contents(kb: Path) -> tuple[dict[str, object], list[object]]:
    """Everything a snapshot holds but its vectors (comparable with ==), and the vectors.
    Chroma hands a stored vector back within a float32 rounding step of what was stored (a
    relative 1e-7), so vectors are compared with that tolerance, and rankings exactly."""
    import json

    path = snapshot.root_of(kb) / str(snapshot.current_token(kb))
    loaded = snapshot.load(kb, HashingEmbedder(256).name)
    assert loaded is not None
    out: dict[str, object] = {}
    vectors: list[object] = []
    for kind in (PASSAGES, CODES, CONSUMER):
        coll = loaded.collections[kind]
        out[kind] = (
            list(coll.keyword.ids),
            list(coll.keyword.docs),
            list(coll.keyword.metas),
            np.asarray(coll.alias_parent).tolist(),
            json.loads((path / f"{kind}.tables.json").read_text(encoding="utf-8")),
            (path / f"{kind}.bm25" / "params.index.json").read_text(encoding="utf-8"),
        )
        vectors += [np.array(coll.vectors), np.array(coll.alias_vectors)]
    return out, vectors


def test_the_ingesting_process_writes_the_snapshot_a_fresh_process_reads_from_chroma(
    tmp_path: Path,
) -> None:
    """The snapshot after an ingest takes the rows it just stored from memory (``written``)
    and the rest from Chroma: it equals one read entirely back from Chroma, including rows an
    earlier process stored, a replaced passage and a deleted one."""
    kb = tmp_path / "kb"
    earlier = KnowledgeIndex.persistent(kb, HashingEmbedder(256))
    rows = chunks()
    earlier.ingest_chunks("early", rows[:4], fingerprint="e", version="1", licence="x")
    index = KnowledgeIndex.persistent(kb, HashingEmbedder(256))  # another process, later
    index.ingest_chunks("late", rows[4:], fingerprint="l", version="1", licence="x")
    revised = dataclasses.replace(rows[6], text="R06.0 Dyspnea, revised.", aliases=("Puffing",))
    index.ingest_chunks("late", [*rows[4:6], revised, *rows[8:]], fingerprint="m", version="2",
                        licence="x")  # fmt: skip
    assert index.written.rows[PASSAGES]  # the rows it stored are at hand
    with index.write_lock():
        index.write_snapshot()
    assert not index.written.rows
    from_memory, memory_vectors = _contents(kb)
    memory_rankings = {q: ranking(index, q, kw) for q, kw in QUERIES}
    fresh = KnowledgeIndex.persistent(kb, HashingEmbedder(256))
    assert not fresh.written.rows
    with fresh.write_lock():
        fresh.write_snapshot()
    from_chroma, chroma_vectors = _contents(kb)
    assert from_chroma == from_memory
    for got, want in zip(memory_vectors, chroma_vectors, strict=True):
        assert got.shape == want.shape and np.allclose(got, want, rtol=1e-6, atol=1e-7)  # type: ignore[attr-defined]
    assert {q: ranking(fresh, q, kw) for q, kw in QUERIES} == memory_rankings
    ids, docs = from_memory[CODES][0], from_memory[CODES][1]  # type: ignore[index]
    assert "icd10cm:J93" not in ids and "R06.0 Dyspnea, revised." in docs
    assert len(from_memory[PASSAGES][0]) == 6  # type: ignore[index]
