"""Precomputed vectors: int8 round trip, lookup by text, checksum and model checks, ingestion
embeds only the texts the table lacks, and the shipped table holds the packaged model's
vectors of the default corpus."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from assistant.core.embeddings import HashingEmbedder
from knowledge.kb import vectors
from knowledge.kb.index import KnowledgeIndex
from knowledge.kb.sources import PASSAGES, Chunk, aliases_of

MODEL_CACHE = Path("~/.cache/clinassist/models").expanduser()


class CountingEmbedder(HashingEmbedder):
    """The hashing embedder posing as a model with files (``model_dir``), counting texts."""

    def __init__(self, model_dir: Path, name: str = "fake-model") -> None:
        super().__init__(64)
        self.name = name
        self.model_dir = model_dir
        self.seen: list[str] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.seen += list(texts)
        return super().embed(texts)


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"weights")
    (folder / "tokenizer.json").write_text("{}")
    return folder


def chunk(i: int, text: str, aliases: tuple[str, ...] = ()) -> Chunk:
    return Chunk(
        id=f"f:{i}",
        text=text,
        title=f"t{i}",
        source="fixture",
        type="term",
        identifier=str(i),
        url="",
        licence="CC0",
        version="1",
        aliases=aliases,
    )


def test_int8_rows_keep_the_cosine() -> None:
    rng = np.random.default_rng(1)
    vecs = rng.standard_normal((200, 384)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    q, scale = vectors.quantize(vecs)
    back = vectors.dequantize(q, scale)
    assert q.dtype == np.int8 and back.dtype == np.float32
    assert np.allclose(np.linalg.norm(back, axis=1), 1.0, atol=1e-5)
    assert float((back * vecs).sum(axis=1).min()) > 0.9999
    zero_q, zero_s = vectors.quantize(np.zeros((1, 4), np.float32))
    assert not np.isnan(vectors.dequantize(zero_q, zero_s)).any()


def test_table_round_trip_and_lookup(tmp_path: Path, model_dir: Path) -> None:
    emb = CountingEmbedder(model_dir)
    texts = ["dyspnea", "shortness of breath", "Pneumothorax", "pleural effusion"]
    out = tmp_path / "t.npz"
    stamp = vectors.save(emb.embed(texts), texts, model=emb.name, key="k", out=out)
    assert stamp["texts"] == 4 and json.loads(out.with_suffix(".json").read_text()) == stamp
    table = vectors.load(out)
    assert table is not None and table.model == "fake-model"
    found, got = table.lookup(["pleural effusion", "unknown text", "dyspnea"])
    assert found.tolist() == [True, False, True]
    want = emb.embed(["pleural effusion", "dyspnea"])
    assert float((got * want).sum(axis=1).min()) > 0.9999
    with pytest.raises(ValueError):
        vectors.save(emb.embed(["a", "a"]), ["a", "a"], model="m", key="k", out=out)


def test_a_corrupt_table_or_another_model_is_ignored(tmp_path: Path, model_dir: Path) -> None:
    emb = CountingEmbedder(model_dir)
    out = tmp_path / "t.npz"
    vectors.save(
        emb.embed(["a", "b"]), ["a", "b"], model=emb.name, key=vectors.model_key(model_dir), out=out
    )
    assert vectors.for_embedder(emb, out) is not None
    assert vectors.for_embedder(CountingEmbedder(model_dir, name="other"), out) is None
    assert vectors.for_embedder(HashingEmbedder(64), out) is None  # no model files
    (model_dir / "model.safetensors").write_bytes(b"fine-tuned weights")
    assert vectors.for_embedder(emb, out) is None
    vectors.save(
        emb.embed(["a", "b"]), ["a", "b"], model=emb.name, key=vectors.model_key(model_dir), out=out
    )
    data = bytearray(out.read_bytes())
    data[-40] ^= 0xFF
    out.write_bytes(bytes(data))
    assert vectors.load(out) is None and vectors.for_embedder(emb, out) is None
    assert vectors.load(tmp_path / "missing.npz") is None


def test_ingest_embeds_only_what_the_table_lacks(tmp_path: Path, model_dir: Path) -> None:
    emb = CountingEmbedder(model_dir)
    shipped = ["pleural effusion", "fluid around the lung", "dyspnea"]
    out = tmp_path / "t.npz"
    vectors.save(emb.embed(shipped), shipped, model=emb.name, key="k", out=out)
    table = vectors.load(out)
    assert table is not None
    index = KnowledgeIndex.ephemeral(emb)
    index._ingest_embedder_ = pre = vectors.PrecomputedEmbedder(emb, table)
    emb.seen.clear()
    chunks = [
        chunk(1, "pleural effusion", ("fluid around the lung", "water on the lung")),
        chunk(2, "dyspnea", ("dyspnea",)),
        chunk(3, "new passage"),
    ]
    index.ingest_chunks("a", chunks, fingerprint="f", version="1", licence="x")
    assert sorted(emb.seen) == ["new passage", "water on the lung"]
    assert (pre.hits, pre.misses) == (4, 2)
    got = index.collection(PASSAGES).get(ids=["f:1", "f:3"], include=["embeddings"])
    stored = dict(zip(got["ids"], np.asarray(got["embeddings"]), strict=True))
    want = emb.embed(["pleural effusion", "new passage"])
    assert float(stored["f:1"] @ want[0]) > 0.9999 and float(stored["f:3"] @ want[1]) > 0.9999
    assert index.count(aliases_of(PASSAGES)) == 3


def test_blocks_cover_every_row_in_order(
    tmp_path: Path, model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from knowledge.kb import index as index_module

    monkeypatch.setattr(index_module, "BATCH", 8)
    monkeypatch.setattr(index_module, "EMBED_BLOCK", 16)
    emb = CountingEmbedder(model_dir)
    index = KnowledgeIndex.ephemeral(emb)
    many = [chunk(i, f"passage number {i}", (f"alias {i}",)) for i in range(45)]
    index.ingest_chunks("a", many, fingerprint="f", version="1", licence="x")
    ids = [c.id for c in many]
    got = index.collection(PASSAGES).get(ids=ids, include=["embeddings"])
    stored = dict(zip(got["ids"], np.asarray(got["embeddings"]), strict=True))
    want = emb.embed([c.text for c in many])
    assert np.allclose(np.stack([stored[i] for i in ids]), want, atol=1e-6)
    assert index.count(aliases_of(PASSAGES)) == 45


def test_the_shipped_table_is_intact_and_for_the_packaged_model() -> None:
    stamp = json.loads(vectors.STAMP.read_text(encoding="utf-8"))
    assert stamp["model"] == "all-MiniLM-L6-v2" and stamp["dim"] == 384
    assert vectors.file_sha256(vectors.TABLE) == stamp["sha256"]
    from assistant.core.models import minilm_dir

    model = minilm_dir()
    if model is None:
        pytest.skip("the embedding model package is not installed")
    assert stamp["model_key"] == vectors.model_key(model)


@pytest.mark.slow
def test_the_shipped_vectors_are_the_models_vectors_of_the_corpus() -> None:
    from assistant.core import onnx_minilm
    from assistant.core.models import minilm_dir

    model = minilm_dir()
    if model is None:
        pytest.skip("the embedding model package is not installed")
    table = vectors.load()
    assert table is not None
    texts = random.Random(7).sample(vectors.corpus_texts(["hpo", "icd10cm", "medquad"]), 60)
    found, got = table.lookup(texts)
    assert found.all()
    fresh = onnx_minilm.OnnxMiniLMEmbedder(model, MODEL_CACHE, threads=1).embed(texts)
    assert float((got * fresh).sum(axis=1).min()) > 0.9995
