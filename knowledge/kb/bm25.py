"""The keyword half of hybrid retrieval: a bm25s index over passages and their names, kept
in memory or memory-mapped from the read snapshot."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.kb.query import tokenize


def topic_key(meta: dict[str, Any]) -> str:
    """The topic page a sectioned passage belongs to (``NIDDK_0000001`` for
    ``NIDDK_0000001_2``, ``NIDDK_0000001_care``)."""
    return str(meta.get("identifier", "")).rsplit("_", 1)[0]


class BM25Index:
    def __init__(self, ids: list[str], docs: list[str], metas: list[dict[str, Any]]) -> None:
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs each build at DEBUG
        self.ids = ids
        self.docs = docs
        self.metas = metas
        self.fields = {
            key: np.array([str(m.get(key, "")) for m in metas], dtype=object)
            for key in ("source", "type", "section")
        }
        self.row: dict[str, int] = {d: i for i, d in enumerate(ids)}
        # the keyword index sees the title too where the text does not start with it
        # (consumer passages: "Kidney Stones — Symptoms" is the title, not in the text)
        corpus = [
            tokenize(d if d.startswith(str(m.get("title", ""))) else f"{m.get('title', '')}. {d}")
            or ["__empty__"]
            for d, m in zip(docs, metas, strict=True)
        ]
        self.model = bm25s.BM25()
        if ids:
            self.model.index(corpus, show_progress=False)
        self.vocab: dict[str, int] = dict(getattr(self.model, "vocab_dict", {}) or {})
        # consumer topics: (topic page, section) -> rows, for the asked-section promotion
        self.by_topic_section: dict[tuple[str, str], list[int]] = {}
        for i, m in enumerate(metas):
            if m.get("section") and m.get("identifier"):
                key = (topic_key(m), str(m["section"]))
                self.by_topic_section.setdefault(key, []).append(i)
        # Title channel: passages whose title words all appear in the query (exact-name match).
        self.title_tokens: list[frozenset[str]] = []
        self.by_title_token: dict[str, list[int]] = {}
        for i, m in enumerate(metas):
            # a topic's overview is named by the topic alone ("what is back pain?"); its other
            # sections by topic and section ("back pain symptoms")
            name = m.get("topic") if m.get("section") == "information" else m.get("title")
            toks = frozenset(tokenize(str(name or "")))
            self.title_tokens.append(toks)
            for t in toks:
                self.by_title_token.setdefault(t, []).append(i)

    @classmethod
    def restore(
        cls,
        *,
        ids: list[str],
        docs: Sequence[str],
        metas: Sequence[dict[str, Any]],
        tables: dict[str, Any],
        bm25_dir: Path,
    ) -> BM25Index:
        """The index :func:`knowledge.kb.snapshot.write` saved: bm25s memory-mapped, texts and
        metadata decoded per row on access, the title and section tables as saved."""
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)
        self = cls.__new__(cls)
        self.ids = ids
        self.docs = docs  # type: ignore[assignment]
        self.metas = metas  # type: ignore[assignment]
        self.fields = {k: np.array(v, dtype=object) for k, v in tables["fields"].items()}
        self.row = {d: i for i, d in enumerate(ids)}
        self.model = (
            bm25s.BM25.load(str(bm25_dir), mmap=True, show_progress=False) if ids else bm25s.BM25()
        )
        self.vocab = dict(getattr(self.model, "vocab_dict", {}) or {})
        self.by_topic_section = {(p, s): rows for p, s, rows in tables["by_topic_section"]}
        self.title_tokens = FrozenRows(tables["title_tokens"])  # type: ignore[assignment]
        self.by_title_token = tables["by_title_token"]
        return self

    def doc(self, did: str) -> tuple[str, dict[str, Any]]:
        i = self.row[did]
        return self.docs[i], self.metas[i]

    def mask(self, where: dict[str, Any] | None) -> np.ndarray | None:
        """Rows matching a Chroma-style equality filter (``{"k": v}`` or ``{"$and": [...]}``)."""
        if not where:
            return None
        conds = where.get("$and", [where])
        out = np.ones(len(self.ids), dtype=bool)
        for cond in conds:
            for key, value in cond.items():
                column = self.fields.get(key)
                if column is None:
                    column = np.array([str(m.get(key, "")) for m in self.metas], dtype=object)
                out &= column == value
        return out

    def title_matches(self, tokens: list[str], limit: int) -> list[int]:
        """Passages whose title's words are all in the query, longest titles first."""
        q = set(tokens)
        cands = {i for t in q for i in self.by_title_token.get(t, ())}
        found = [i for i in cands if self.title_tokens[i] and self.title_tokens[i] <= q]
        found.sort(key=lambda i: (-len(self.title_tokens[i]), i))
        return found[:limit]

    def scores(self, tokens: list[str]) -> np.ndarray:
        known = [self.vocab[t] for t in tokens if t in self.vocab]
        if not self.ids or not known:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self.model.get_scores(known), dtype=np.float32)


class FrozenRows(Sequence[frozenset[str]]):
    """Token lists as frozensets, made when a row is read (a title match reads a few)."""

    def __init__(self, rows: list[list[str]]) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [frozenset(r) for r in self.rows[i]]
        return frozenset(self.rows[i])


@dataclass
class RankedLists:
    """One collection's ranked candidates for one query."""

    dense: list[tuple[str, float]] = field(default_factory=list)
    alias: list[tuple[str, float]] = field(default_factory=list)
    bm25: list[tuple[str, float]] = field(default_factory=list)
    title: list[str] = field(default_factory=list)
    fetched: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    keyword: bool = False

    @property
    def channels(self) -> int:
        return bool(self.dense) + bool(self.alias) + self.keyword
