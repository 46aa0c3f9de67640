"""`clinassist eval kb`: recall@1/5/10 and MRR for dense-only, BM25-only and hybrid retrieval
in one run, on the held-out test split of ``knowledge/data/kb/queries.jsonl``, plus the abstain
rate on unanswerable questions. Uses the configured index (built first if missing).

Tuning uses the dev split only: ``clinassist eval kb --split dev [--misses]`` (``--misses``
prints the hybrid misses of that split; ``KB_EVAL_SPLIT=dev`` sets the split too).
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

from assistant.core.config import Settings
from assistant.core.types import Echo
from knowledge.kb.retrieval import Mode, Retriever

MODES: tuple[Mode, ...] = ("dense", "bm25", "hybrid")
KS = (1, 5, 10)


def rank_metrics(ranks: list[int]) -> dict[str, float]:
    """Recall@k (``KS``) and MRR from 1-based ranks of the first relevant hit (0: not found)."""
    n = max(len(ranks), 1)
    return {
        **{f"recall@{k}": round(sum(0 < r <= k for r in ranks) / n, 3) for k in KS},
        "mrr": round(sum(1.0 / r if r else 0.0 for r in ranks) / n, 3),
    }


def recall_at_5_by(groups: dict[str, list[int]]) -> dict[str, float]:
    """Recall@5 of each group of ranks, groups in name order."""
    return {
        g: round(sum(0 < r <= 5 for r in ranks) / len(ranks), 3)
        for g, ranks in sorted(groups.items())
    }


SPLITS = ("dev", "test", "all")
SPLIT_ENV = "KB_EVAL_SPLIT"
"""Not ``CLINASSIST_*``: those are configuration overrides (an unknown key is an error)."""


def load_queries(split: str | None = None) -> list[dict[str, Any]]:
    text = (
        resources.files("knowledge.data.kb").joinpath("queries.jsonl").read_text(encoding="utf-8")
    )
    rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    return [r for r in rows if split is None or r["split"] == split]


def score(
    retriever: Retriever,
    queries: list[dict[str, Any]],
    mode: Mode,
    audience: str | None = "clinician",
) -> dict[str, Any]:
    """Recall@k, MRR over answerable queries; abstain rates on both kinds. The term look-ups
    search the term and code collections (``audience="clinician"``) unless told otherwise."""
    positives = [q for q in queries if q["relevant"]]
    negatives = [q for q in queries if not q["relevant"]]
    ranks: list[int] = []
    misses = []
    per_kind: dict[str, list[int]] = {}
    false_abstain = 0
    for q in positives:
        res = retriever.search(q["question"], max(KS), mode=mode, audience=audience)
        ids = [h.id for h in res.hits]
        rank = next((i + 1 for i, d in enumerate(ids) if d in q["relevant"]), 0)
        ranks.append(rank)
        per_kind.setdefault(q["kind"], []).append(rank)
        false_abstain += res.abstain
        if rank != 1:
            misses.append({"id": q["id"], "question": q["question"], "rank": rank, "top": ids[:3]})
    n = max(len(positives), 1)
    abstained = sum(
        retriever.search(q["question"], 5, mode=mode, audience=audience).abstain for q in negatives
    )
    return {
        "n": len(positives),
        **rank_metrics(ranks),
        "recall@5_by_kind": recall_at_5_by(per_kind),
        "negatives": len(negatives),
        "abstain_on_negatives": round(abstained / max(len(negatives), 1), 3),
        "abstain_on_answerable": round(false_abstain / n, 3),
        "misses": misses,
    }


class _Remembering:
    """An embedder that embeds each text once (the evaluation asks the same questions of
    several retriever configurations)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.memo: dict[str, Any] = {}

    def embed(self, texts: list[str]) -> Any:
        import numpy as np

        todo = [t for t in dict.fromkeys(texts) if t not in self.memo]
        if todo:
            self.memo.update(zip(todo, self.inner.embed(todo), strict=True))
        return np.stack([self.memo[t] for t in texts])


def split_from_env() -> str:
    split = os.environ.get(SPLIT_ENV, "test").strip().lower() or "test"
    if split not in SPLITS:
        from assistant.core.errors import UserError

        raise UserError(f"{SPLIT_ENV}={split!r}: use one of {', '.join(SPLITS)}")
    return split


def evaluate(
    settings: Settings, out_dir: Path, echo: Echo, *, split: str | None = None
) -> dict[str, Any]:
    from knowledge.kb import ingest as ing
    from knowledge.kb.index import KnowledgeIndex

    index = KnowledgeIndex.from_settings(settings)
    if not ing.is_built(index):
        echo("kb: building the default index first (a few minutes, once)")
        ing.ingest(index, [], echo=echo)
    index.embedder = _Remembering(index.embedder)  # type: ignore[assignment]  # embed once
    retriever = Retriever(index)
    retriever.warm()
    split = split or split_from_env()
    out: dict[str, Any] = {
        "index": index.location,
        "embedder": index.embedder.name,
        "split": split,
    }
    queries = load_queries(None if split == "all" else split)
    for mode in MODES:
        r = score(retriever, queries, mode)
        out[mode] = r
        echo(
            f"kb[{mode:6s}] {split} n={r['n']}: recall@1 {r['recall@1']:.3f}  recall@5 {r['recall@5']:.3f}  "
            f"recall@10 {r['recall@10']:.3f}  MRR {r['mrr']:.3f}  abstain: negatives "
            f"{r['abstain_on_negatives']:.2f}, answerable {r['abstain_on_answerable']:.2f}"
        )
    echo(
        "kb[hybrid] recall@5 by kind: "
        + ", ".join(f"{k} {v:.2f}" for k, v in out["hybrid"]["recall@5_by_kind"].items())
    )
    r = score(retriever, queries, "hybrid", audience=None)
    out["hybrid, all sources"] = r
    echo(
        f"kb[hybrid, all sources] {split}: recall@5 {r['recall@5']:.3f}  MRR {r['mrr']:.3f} "
        "(term look-ups with consumer passages competing)"
    )
    _plot(out, out_dir)
    from knowledge.kb import evaluate_consumer as consumer
    from knowledge.kb import normalization

    out["medquad"] = consumer.eval_heldout(retriever, split, echo)
    out["normalization"] = normalization.evaluate(retriever, split, echo)
    from knowledge.kb.eval_docs import write_docs

    write_docs(out, echo)
    return out


def _plot(out: dict[str, Any], out_dir: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = ["recall@1", "recall@5", "recall@10", "mrr"]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    width = 0.27
    for i, mode in enumerate(MODES):
        ax.bar(
            [x + i * width for x in range(len(metrics))],
            [out[mode][m] for m in metrics],
            width,
            label=mode,
        )
    ax.set_xticks([x + width for x in range(len(metrics))], metrics)
    ax.set_ylim(0, 1)
    ax.set_title(f"Knowledge base retrieval, {out.get('split', 'test')} split")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_dir / "kb_retrieval.png", dpi=100)
    plt.close(fig)
