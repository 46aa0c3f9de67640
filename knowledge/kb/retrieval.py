"""Hybrid retrieval: dense (Chroma: passage vectors and one vector per name/synonym) + BM25
(bm25s) fused by reciprocal rank fusion.

Also: metadata filters (source, type), de-duplication, synonym/abbreviation query expansion
and an abstain signal when the best evidence is weak.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from knowledge.kb.bm25 import BM25Index, RankedLists, topic_key
from knowledge.kb.index import KnowledgeIndex
from knowledge.kb.query import (
    CODE_QUERY,
    QueryExpander,
    strip_frame,
    tokenize,
)
from knowledge.kb.sources import CODES, COLLECTIONS, CONSUMER, PASSAGES, citation
from knowledge.kb.sources import sections as sec

Mode = Literal["hybrid", "dense", "bm25"]
RRF_K = 60
CANDIDATES = 50
TITLE_CANDIDATES = 5
ABSTAIN_DENSE = 0.40
"""Below this cosine (MiniLM) for the best passage, and with weak keyword overlap, abstain."""
ABSTAIN_COVERAGE = 0.5
KEYWORD_WEIGHT: dict[str, float] = {}
"""RRF weight of the keyword lists (BM25, exact title) per collection; 1 unless listed."""

_AUDIENCE = {"hpo": "clinician", "icd10cm": "clinician", "drugs": "clinician"}
"""Audience of the sources ingested before passages carried one."""


@dataclass
class Hit:
    id: str
    text: str
    meta: dict[str, Any]
    score: float
    dense_score: float | None = None
    """Cosine similarity of the query and the passage's own vector (what abstain reads)."""
    alias_score: float | None = None
    """Best cosine similarity of the query and one of the passage's names or synonyms."""
    bm25_score: float | None = None
    ranks: dict[str, int] = field(default_factory=dict)

    def as_result(self) -> dict[str, Any]:
        m = self.meta
        return {
            "id": self.id,
            "source": m.get("source", ""),
            "title": m.get("title", ""),
            "text": self.text,
            "score": round(self.score, 4),
            "url": m.get("url", ""),
            "identifier": m.get("identifier", ""),
            "type": m.get("type", ""),
            "licence": m.get("licence", ""),
            "version": m.get("version", ""),
            "ingested": m.get("ingested", ""),
            "citation": citation(m),
            "dense_score": None if self.dense_score is None else round(self.dense_score, 4),
            "bm25_score": None if self.bm25_score is None else round(self.bm25_score, 4),
            "alias_score": None if self.alias_score is None else round(self.alias_score, 4),
            "topic": m.get("topic") or m.get("title", ""),
            "section": m.get("section", ""),
            "section_label": sec.label(str(m["section"])) if m.get("section") else "",
            "audience": m.get("audience") or _AUDIENCE.get(str(m.get("source", "")), ""),
            "organization": m.get("organization", ""),
        }


@dataclass
class SearchResult:
    hits: list[Hit]
    abstain: bool
    collection: str
    expanded_query: str
    reason: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)
    """Wall time per stage (embed, dense, alias, bm25, title, fuse, abstain): for ``bench kb``."""


def _fuse(
    hits: dict[str, Hit],
    lists: RankedLists,
    bm: BM25Index,
    alias_weight: float = 1.0,
    keyword_weight: float = 1.0,
) -> None:
    """Reciprocal rank fusion of one collection's lists into ``hits`` (scores add up)."""

    def hit_for(did: str) -> Hit:
        if did not in hits:
            doc, meta = bm.doc(did) if did in bm.row else lists.fetched.get(did, ("", {}))
            hits[did] = Hit(did, doc, meta, 0.0)
        return hits[did]

    for rank, (did, sim) in enumerate(lists.dense):
        hit = hit_for(did)
        hit.dense_score = sim
        hit.ranks["dense"] = rank + 1
        hit.score += 1.0 / (RRF_K + rank + 1)
    for rank, (did, sim) in enumerate(lists.alias):
        hit = hit_for(did)
        hit.alias_score = sim
        hit.ranks["alias"] = rank + 1
        hit.score += alias_weight / (RRF_K + rank + 1)
    best_bm = lists.bm25[0][1] if lists.bm25 else 0.0
    for rank, (did, s) in enumerate(lists.bm25):
        hit = hit_for(did)
        hit.bm25_score = s / best_bm if best_bm else 0.0
        hit.ranks["bm25"] = rank + 1
        hit.score += keyword_weight / (RRF_K + rank + 1)
    for rank, did in enumerate(lists.title):
        hit = hit_for(did)
        hit.ranks["title"] = rank + 1
        hit.score += keyword_weight / (RRF_K + rank + 1)


class Retriever:
    """Hybrid search over a :class:`KnowledgeIndex`; builds its BM25 indexes on first use."""

    def __init__(
        self,
        index: KnowledgeIndex,
        *,
        expander: QueryExpander | None = None,
        abstain_dense: float = ABSTAIN_DENSE,
        abstain_coverage: float = ABSTAIN_COVERAGE,
        keyword_weight: dict[str, float] | None = None,
        promote: bool = True,
    ) -> None:
        self.index = index
        self.keyword_weight = dict(KEYWORD_WEIGHT if keyword_weight is None else keyword_weight)
        """RRF weight of the BM25 and title lists per collection (default 1)."""
        self.promote = promote
        self.expander = expander if expander is not None else QueryExpander()
        self.abstain_dense = abstain_dense
        self.abstain_coverage = abstain_coverage
        self._bm25: dict[str, tuple[tuple[int, int], BM25Index]] = {}
        self._lock = threading.Lock()

    def bm25(self, kind: str) -> BM25Index:
        saved = self.index.keyword_index(kind)  # a local index's snapshot: no rebuild
        if saved is not None:
            return saved
        key = (self.index.generation, self.index.cached_count(kind))
        cached = self._bm25.get(kind)
        if cached and cached[0] == key:
            return cached[1]
        with self._lock:
            cached = self._bm25.get(kind)
            if cached and cached[0] == key:
                return cached[1]
            built = BM25Index(*self.index.all_documents(kind))
            self._bm25[kind] = (key, built)
            return built

    def warm(self) -> None:
        for kind in COLLECTIONS:
            self.bm25(kind)

    def pick_collections(
        self,
        query: str,
        source: str | None = None,
        section: str | None = None,
        audience: str | None = None,
    ) -> list[str]:
        """Which collections a query searches: code look-ups the ICD-10-CM codes; a section or
        the consumer audience the consumer-health passages; a named term source or the
        clinician audience the term passages; anything else terms and consumer text, fused."""
        if source in ("icd10cm", "icd10cm-full"):
            return [CODES]
        if source == "medquad" or section or audience == "consumer":
            return [CONSUMER]
        if source is None and CODE_QUERY.search(query):
            return [CODES]
        if source is not None or audience == "clinician":
            return [PASSAGES]
        return [PASSAGES, CONSUMER]

    def pick_collection(self, query: str, source: str | None) -> str:
        return self.pick_collections(query, source)[0]

    def search(
        self,
        query: str,
        k: int = 5,
        *,
        source: str | None = None,
        type: str | None = None,
        section: str | None = None,
        audience: str | None = None,
        mode: Mode = "hybrid",
        collection: str | None = None,
        expand: bool = True,
        alias_weight: float = 1.0,
    ) -> SearchResult:
        kinds = (
            [collection] if collection else self.pick_collections(query, source, section, audience)
        )
        src = "icd10cm" if source == "icd10cm-full" else source
        expanded = self.expander.expand(query) if expand else query
        conds: list[dict[str, Any]] = [
            {key: value}
            for key, value in (("source", src), ("type", type), ("section", section))
            if value
        ]
        where: dict[str, Any] | None = (
            None if not conds else conds[0] if len(conds) == 1 else {"$and": conds}
        )
        n = max(CANDIDATES, k * 4)
        indexes = {kind: self.bm25(kind) for kind in kinds}  # built on first use: not timed
        if len(indexes) > 1:  # a collection nothing was ingested into is not searched
            indexes = {kind: bm for kind, bm in indexes.items() if bm.ids} or indexes
        timings: dict[str, float] = {}
        t = time.perf_counter()

        def lap(stage: str) -> None:
            nonlocal t
            now = time.perf_counter()
            timings[stage] = timings.get(stage, 0.0) + (now - t) * 1000
            t = now

        qvec: np.ndarray | None = None
        if mode in ("hybrid", "dense"):
            qvec = self.index.embedder.embed([strip_frame(expanded, code=kinds == [CODES])])[0]
            lap("embed")
        q_tokens = tokenize(expanded)
        hits: dict[str, Hit] = {}
        channels = 0
        for kind, bm in indexes.items():
            lists = self._lists(kind, bm, qvec, q_tokens, where, mode, n, lap)
            channels = max(channels, lists.channels)
            _fuse(hits, lists, bm, alias_weight, self.keyword_weight.get(kind, 1.0))
        channels = max(channels, 1)
        for hit in hits.values():
            hit.score = min(1.0, hit.score * (RRF_K + 1) / channels)  # 1.0: first in every list
        ordered = sorted(hits.values(), key=lambda h: (-h.score, -(h.dense_score or 0.0)))
        if self.promote and CONSUMER in indexes and not section:
            ordered = promote_sections(ordered, sec.asked_sections(query), indexes[CONSUMER])
        ordered = dedupe(ordered, limit=k)
        lap("fuse")
        abstain, reason = self._abstain(ordered, query)
        lap("abstain")
        return SearchResult(ordered, abstain, "+".join(indexes), expanded, reason, timings)

    def _lists(
        self,
        kind: str,
        bm: BM25Index,
        qvec: np.ndarray | None,
        q_tokens: list[str],
        where: dict[str, Any] | None,
        mode: Mode,
        n: int,
        lap: Any,
    ) -> RankedLists:
        """The ranked candidate lists of one collection (dense, alias, BM25, title)."""
        out = RankedLists()
        if qvec is not None:
            out.dense = [
                (d, sim) for d, sim, _, _ in self.index.dense(kind, qvec, n, where, fetch=False)
            ]
            lap("dense")
            alias_hits = self.index.dense_aliases(kind, qvec, n, where)
            # Texts and metadata come from the in-memory keyword index (no Chroma read per
            # query); ids it does not hold yet (written by another instance) are fetched, once
            # for both lists.
            missing = list(
                dict.fromkeys(d for d, _ in (*out.dense, *alias_hits) if d not in bm.row)
            )
            out.fetched = self.index.get(kind, missing) if missing else {}
            out.alias = [(d, s) for d, s in alias_hits if d in bm.row or d in out.fetched]
            lap("alias")
        mask = bm.mask(where)
        if mode in ("hybrid", "bm25") and bm.ids:
            out.bm25 = [(bm.ids[i], s) for i, s in _top(bm.scores(q_tokens), mask, n)]
            out.keyword = True
        lap("bm25")
        if mode == "hybrid" and bm.ids:
            out.title = [
                bm.ids[i] for i in bm.title_matches(q_tokens, n) if mask is None or mask[i]
            ][:TITLE_CANDIDATES]
        lap("title")
        return out

    def passage(self, pid: str, kind: str = CONSUMER) -> Hit | None:
        """A stored passage by id (from the in-memory keyword index), or None."""
        bm = self.bm25(kind)
        if pid not in bm.row:
            return None
        doc, meta = bm.doc(pid)
        return Hit(pid, doc, meta, 0.0)

    def care_passage(self, hits: list[Hit]) -> Hit | None:
        """The "when to see a doctor" passage of the best-ranked consumer topic among ``hits``
        (derived per topic page at ingest), or None when that topic has none."""
        for hit in hits:
            if hit.meta.get("section") == sec.CARE:
                return hit
            ident = str(hit.meta.get("identifier", ""))
            if hit.meta.get("collection") == CONSUMER and "_" in ident:
                return self.passage(f"{hit.meta.get('source')}:{ident.rsplit('_', 1)[0]}_care")
        return None

    def _abstain(self, hits: list[Hit], query: str) -> tuple[bool, str]:
        """Abstain unless the best passage is semantically close (dense cosine) or, without a
        dense score, covers most of the query's content words (all of them in hybrid mode)."""
        if not hits:
            return True, "no passage matched"
        # the query's own words or its expanded form ("sore throat" + its synonyms): a passage
        # holding every word the user wrote covers the question even without the synonyms
        cover = max(
            _coverage(set(tokenize(text)), hits[:3])
            for text in (query, self.expander.expand(query))
        )
        best_dense = max((h.dense_score for h in hits if h.dense_score is not None), default=None)
        if best_dense is not None and best_dense >= self.abstain_dense:
            return False, ""
        if cover >= (0.99 if best_dense is not None else self.abstain_coverage):
            return False, ""
        if best_dense is None:
            return True, f"weak keyword match ({cover:.0%} of the query's words)"
        return True, f"best passage similarity {best_dense:.2f} < {self.abstain_dense:.2f}"


def _coverage(words: set[str], hits: list[Hit]) -> float:
    """The largest share of ``words`` one of ``hits`` holds."""
    if not words:
        return 0.0
    return max((len(words & set(tokenize(h.text))) / len(words) for h in hits), default=0.0)


PROMOTE_FROM = 3
"""Topics of the best this many hits can have their asked-for section promoted."""


PROMOTE_TOPICS = 2
"""At most this many topic pages (the same topic often has a page in two sources)."""


def promote_sections(hits: list[Hit], wanted: list[str], bm: BM25Index) -> list[Hit]:
    """When the question asks for a section ("what are the symptoms of ...", "what should I
    do about ..."), the asked-for section of the best-ranked consumer topic pages (among the
    top :data:`PROMOTE_FROM` hits, at most :data:`PROMOTE_TOPICS` pages) moves up to where
    that page first ranked, taken from the index when neither retriever found it; other hits
    keep their order."""
    if not wanted:
        return hits
    key = wanted[0]
    out = list(hits)
    done: set[str] = set()
    for hit in hits[:PROMOTE_FROM]:
        page = topic_key(hit.meta)
        if hit.meta.get("collection") != CONSUMER or not hit.meta.get("section") or page in done:
            continue
        done.add(page)
        rows = bm.by_topic_section.get((page, key))
        if rows:
            pid = bm.ids[rows[0]]
            found = next((h for h in out if h.id == pid), None)
            if found is None:
                doc, meta = bm.doc(pid)
                found = Hit(pid, doc, meta, hit.score)
            pos = next(i for i, h in enumerate(out) if h.id == hit.id)
            out = [h for h in out if h.id != pid]
            found.ranks["section"] = 1
            found.score = max(found.score, hit.score)
            out.insert(min(pos, len(out)), found)
        if len(done) >= PROMOTE_TOPICS:
            break
    return out


def _top(scores: np.ndarray, mask: np.ndarray | None, n: int) -> list[tuple[int, float]]:
    """The ``n`` best (row, score) with a positive score (and inside ``mask``), best first."""
    if mask is not None:
        scores = np.where(mask, scores, 0.0)
    top = min(n, len(scores))
    if top <= 0:
        return []
    idx = np.argpartition(-scores, top - 1)[:top]
    idx = idx[np.argsort(-scores[idx], kind="stable")]
    return [(int(i), float(scores[i])) for i in idx if scores[i] > 0]


def dedupe(hits: list[Hit], limit: int | None = None) -> list[Hit]:
    """Drop repeated ids and passages whose normalised text is the same as a better one;
    stop once ``limit`` passages are kept."""
    seen_ids: set[str] = set()
    seen_text: set[str] = set()
    out: list[Hit] = []
    for h in hits:
        if limit is not None and len(out) >= limit:
            break
        if h.id in seen_ids:
            continue
        norm = hashlib.sha1(" ".join(tokenize(h.text))[:400].encode()).hexdigest()
        if norm in seen_text:
            continue
        seen_ids.add(h.id)
        seen_text.add(norm)
        out.append(h)
    return out
