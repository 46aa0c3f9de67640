"""The read snapshot of a local knowledge base: the same rankings as Chroma, a fallback to
Chroma when ``CURRENT`` is missing, invalidation on write, no Chroma client on the read path."""

from __future__ import annotations

import dataclasses
from pathlib import Path

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
