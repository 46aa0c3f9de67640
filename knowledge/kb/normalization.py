"""Concept normalization: a free phenotype phrase ("absence of some middle or distal
phalanges", "skin tags") -> HPO terms, best first.

:func:`normalize` searches the HPO terms only (not codes, not consumer passages), adds the
HPO-style wording of case-report phrasing (``knowledge/data/kb/phenotype_phrases.yaml``:
"absence of" -> aplasia, "small" -> hypoplasia). Tried on the GSC+ dev mentions and dropped:
counting the name/synonym vectors twice in the fusion (accuracy@1 0.496 -> 0.370).

Measured in ``clinassist eval kb`` on GSC+ mentions (``gsc_plus_mentions.jsonl``: phrases as
written in published abstracts with the HPO term annotators chose), against today's behaviour
in the same run: the phrase searched as a question (``Retriever.search``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from assistant.core.types import Echo
from knowledge.kb.retrieval import Hit, Retriever
from knowledge.kb.sources import PASSAGES

KS = (1, 5, 10)


@lru_cache(maxsize=1)
def rewrites() -> list[tuple[re.Pattern[str], list[str]]]:
    text = (
        resources.files("knowledge.data.kb")
        .joinpath("phenotype_phrases.yaml")
        .read_text(encoding="utf-8")
    )
    data = yaml.safe_load(text) or {}
    return [
        (re.compile(rf"\b{pattern}\b", re.I), [str(v) for v in values])
        for pattern, values in data.get("rewrites", {}).items()
    ]


def rewrite(phrase: str) -> str:
    """The phrase plus the HPO wording of its case-report words, e.g. "absence of some middle
    phalanges" -> "... (aplasia; absent)"."""
    extra: list[str] = []
    for pattern, values in rewrites():
        if pattern.search(phrase):
            extra += [v for v in values if v.lower() not in phrase.lower()]
    extra = list(dict.fromkeys(extra))
    return f"{phrase} ({'; '.join(extra)})" if extra else phrase


def normalize(retriever: Retriever, phrase: str, k: int = 5) -> list[Hit]:
    """HPO terms for a free phrase, best first."""
    # the term collection without a metadata filter (a filtered Chroma query is ~10x slower),
    # then only HPO terms kept
    hits = retriever.search(rewrite(phrase), 2 * k, collection=PASSAGES).hits
    return [h for h in hits if h.meta.get("source") == "hpo"][:k]


def _mentions(split: str) -> list[dict[str, Any]]:
    text = (
        resources.files("knowledge.data.kb")
        .joinpath("gsc_plus_mentions.jsonl")
        .read_text(encoding="utf-8")
    )
    rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    return [r for r in rows if split == "all" or r["split"] == split]


def _score(rank_of: Callable[[str, str], int], mentions: list[dict[str, Any]]) -> dict[str, Any]:
    hits = dict.fromkeys(KS, 0)
    rr = 0.0
    for m in mentions:
        rank = rank_of(m["phrase"], f"hpo:{m['hpo']}")
        for k in KS:
            hits[k] += 0 < rank <= k
        rr += 1.0 / rank if rank else 0.0
    n = max(len(mentions), 1)
    return {
        "n": len(mentions),
        **{f"accuracy@{k}" if k == 1 else f"recall@{k}": round(hits[k] / n, 3) for k in KS},
        "mrr": round(rr / n, 3),
    }


def evaluate(retriever: Retriever, split: str, echo: Echo) -> dict[str, Any]:
    mentions = _mentions(split)

    def today(phrase: str, want: str) -> int:
        ids = [h.id for h in retriever.search(phrase, max(KS), audience="clinician").hits]
        return ids.index(want) + 1 if want in ids else 0

    def new(phrase: str, want: str) -> int:
        ids = [h.id for h in normalize(retriever, phrase, max(KS))]
        return ids.index(want) + 1 if want in ids else 0

    out: dict[str, Any] = {"split": split}
    for name, fn in (("today (search)", today), ("normalize", new)):
        r = _score(fn, mentions)
        out[name] = r
        echo(
            f"kb[GSC+ {split}] {name:15s} n={r['n']}: accuracy@1 {r['accuracy@1']:.3f}  "
            f"recall@5 {r['recall@5']:.3f}  recall@10 {r['recall@10']:.3f}  MRR {r['mrr']:.3f}"
        )
    return out
