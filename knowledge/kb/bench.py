"""`clinassist bench kb`: ingest rate and hybrid query latency (p50/p95, query embedding
included) at the default corpus and at 100k synthetic chunks (20k with --quick)."""

from __future__ import annotations

import os
import random
import time
from typing import Any

import numpy as np

from assistant.core.config import Settings
from assistant.core.embeddings import build_embedder
from assistant.core.types import Echo


def _pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, 100 * q)), 2) if values else float("nan")


def _load() -> list[float]:
    """1/5/15-minute load averages: a timing on this 2-core machine means little without."""
    return [round(x, 2) for x in os.getloadavg()]


def _latency(retriever: Any, queries: list[str], reps: int) -> dict[str, Any]:
    """End-to-end p50/p95 (query embedding included) and p50/p95 per search stage."""
    for q in queries[:5]:
        retriever.search(q, 5)  # warm: BM25 built, model loaded
    load_before = _load()
    lat = []
    stages: dict[str, list[float]] = {}
    for i in range(reps):
        t0 = time.perf_counter()
        res = retriever.search(queries[i % len(queries)], 5)
        lat.append((time.perf_counter() - t0) * 1000)
        for stage, ms in res.timings_ms.items():
            stages.setdefault(stage, []).append(ms)
    return {
        "n": reps,
        "p50_ms": _pct(lat, 0.5),
        "p95_ms": _pct(lat, 0.95),
        "stages_ms": {k: {"p50": _pct(v, 0.5), "p95": _pct(v, 0.95)} for k, v in stages.items()},
        "loadavg_before": load_before,
        "loadavg_after": _load(),
    }


def _stages(r: dict[str, Any]) -> str:
    parts = [f"{k} {v['p50']}/{v['p95']}" for k, v in r["stages_ms"].items()]
    return (
        f"  stages p50/p95 ms: {', '.join(parts)}; load average "
        f"{r['loadavg_before'][0]} -> {r['loadavg_after'][0]}"
    )


def bench(settings: Settings, *, quick: bool, echo: Echo) -> dict[str, Any]:
    from knowledge.kb import ingest as ing
    from knowledge.kb.evaluate import load_queries
    from knowledge.kb.index import KnowledgeIndex
    from knowledge.kb.retrieval import Retriever
    from knowledge.kb.sources import get_source

    embedder = build_embedder(settings)
    embedder.embed(["warm up"])
    out: dict[str, Any] = {"embedder": embedder.name, "loadavg_start": _load()}
    from knowledge.kb.evaluate_consumer import heldout

    # term look-ups and consumer questions (held-out MedQuAD dev questions), interleaved
    terms = [q["question"] for q in load_queries()]
    consumer_qs = [q["question"] for q in heldout("dev")][: len(terms)]
    queries = [q for pair in zip(terms, consumer_qs, strict=False) for q in pair]

    # 1. ingest rate (embedding + storage) on a sample of the default corpus
    n_sample = 128 if quick else 1024
    sample = []
    for name in ("hpo", "icd10cm", "medquad"):
        chunks = list(get_source(name).chunks())
        sample += random.Random(0).sample(chunks, n_sample // 3)
    scratch = KnowledgeIndex.ephemeral(embedder)
    t0 = time.perf_counter()
    scratch.ingest_chunks("sample", sample, fingerprint="x", version="1", licence="x")
    rate = len(sample) / (time.perf_counter() - t0)
    out["ingest"] = {"sample_chunks": len(sample), "chunks_per_s": round(rate, 1)}
    echo(f"kb ingest: {rate:.0f} chunks/s ({embedder.name}, {len(sample)} default-corpus chunks)")

    # 2. query latency on the default corpus (the configured index), if it is built
    index = KnowledgeIndex.from_settings(settings, embedder)
    total = sum(index.count(k) for k in ("passages", "icd10cm", "consumer"))
    if total and ing.is_built(index):
        r = _latency(Retriever(index), queries, 60 if quick else 300)
        out["default_corpus"] = {"chunks": total, **r}
        echo(
            f"kb query (default corpus, {total} chunks, hybrid): p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms"
        )
        echo(_stages(r))
    else:
        echo("kb query (default corpus): skipped: run `clinassist kb ingest` first")

    # 3. synthetic corpus: stored with random unit vectors (embedding 100k passages would take
    #    ~rate-limited minutes and is measured in 1.); queries use the real embedder. A quarter
    #    of it is consumer-health passages in their own collection (as in the default corpus,
    #    ~25k of ~56k), so a query searches two collections, as an unfiltered question does.
    n_syn = 20_000 if quick else 100_000
    words = list({w for c in sample for w in c.text.lower().split() if w.isalpha()})
    rng = random.Random(1)
    from knowledge.kb.sources import CONSUMER, PASSAGES, Chunk

    def consumer(i: int) -> bool:
        return i % 4 == 0

    syn_chunks = [
        Chunk(
            id=f"syn:{i}",
            text=" ".join(rng.choices(words, k=40)),
            title=f"synthetic {i}",
            source="synthetic",
            type="definition",
            identifier=f"syn{i // 8}_{i % 8}",
            url="",
            licence="none",
            version="1",
            collection=CONSUMER if consumer(i) else PASSAGES,
            section="symptoms" if consumer(i) else "",
            topic=f"topic {i // 8}" if consumer(i) else "",
            # two names per term passage, as in the default corpus (~60k aliases for 31k
            # passages); consumer passages have none
            aliases=() if consumer(i) else (f"synthetic {i}", " ".join(rng.choices(words, k=3))),
        )
        for i in range(n_syn)
    ]
    n_alias = sum(len(c.aliases) for c in syn_chunks)
    gen = np.random.default_rng(2)
    vecs = gen.standard_normal((n_syn, embedder.dim)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    alias_vecs = gen.standard_normal((n_alias, embedder.dim)).astype(np.float32)
    alias_vecs /= np.linalg.norm(alias_vecs, axis=1, keepdims=True)
    big = KnowledgeIndex.ephemeral(embedder)
    t0 = time.perf_counter()
    big.ingest_chunks(
        "synthetic",
        syn_chunks,
        fingerprint="x",
        version="1",
        licence="x",
        embeddings=vecs,
        alias_embeddings=alias_vecs,
    )
    store_s = time.perf_counter() - t0
    retr = Retriever(big)
    t0 = time.perf_counter()
    retr.warm()
    bm25_s = time.perf_counter() - t0
    r = _latency(retr, queries, 60 if quick else 300)
    out["synthetic"] = {
        "chunks": n_syn,
        "store_chunks_per_s": round(n_syn / store_s, 1),
        "bm25_build_s": round(bm25_s, 2),
        **r,
    }
    echo(
        f"kb query ({n_syn} synthetic chunks, hybrid): p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms "
        f"(a quarter of them consumer passages; store {n_syn / store_s:.0f} chunks/s, "
        f"BM25 build {bm25_s:.1f} s)"
    )
    echo(_stages(r))
    return out
