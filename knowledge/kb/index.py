"""The vector store: Chroma behind one class, with our own embedding function.

- :meth:`KnowledgeIndex.from_settings`: ``PersistentClient`` under ``settings.data_dir / "kb"``,
  or an ``HttpClient`` when ``KNOWLEDGE_CHROMA_URL`` (e.g. ``http://127.0.0.1:8000``) is set.
- :meth:`KnowledgeIndex.http`: a Chroma server (``chroma run``) for multi-instance deployments.
- :meth:`KnowledgeIndex.ephemeral`: in memory, for tests.

Embeddings always come from :mod:`assistant.core.embeddings` (never Chroma's downloading default).
A manifest collection records each ingested source's content hash, so re-ingesting an
unchanged source is a no-op and a changed one replaces its chunks.

Why one ~600-line module: almost all of it is the one class whose state (the client, its
collections, the manifest, the read snapshot's token) every method keeps consistent across an
ingest; the helpers it needs are small and private to it. The query side lives in
``retrieval.py``, ``query.py`` and ``bm25.py``, the pre-computed vectors in ``vectors.py``.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from assistant.core.config import Settings
from assistant.core.embeddings import Embedder, build_embedder
from assistant.core.errors import ClinassistError
from knowledge.kb.sources import STORED_COLLECTIONS, Chunk, aliases_of

URL_ENV = "KNOWLEDGE_CHROMA_URL"
BATCH = 256
EMBED_BLOCK = 4096
"""Texts per embedder call during ingest: the ONNX embedder sorts a call's texts by length,
so a bigger call pads less (and the progress bar still moves every BATCH rows)."""
PAGE = 5000
"""Ids per Chroma get/delete call."""
COUNT_TTL_S = 10.0
ALIAS_FANOUT = 2
"""Alias vectors fetched per wanted passage (a passage's several synonyms can all be near)."""
ALIAS_SEP = "~"
"""Alias ids are ``<passage id>~<n>``."""
Progress = Callable[[int], None]
TEXT_KEY = "text"
"""A passage's text is stored in Chroma as this metadata field, not as its document: Chroma
keeps every document in an SQLite FTS5 trigram index (nothing here searches it), ~40 % of a
MedQuAD passage's insert cost; a metadata string costs a tenth of that. Reads take this field
(the document only for a row stored before, which has no such field: an upsert without
documents keeps a row's old document) and never return it as metadata."""


def stored_row(doc: str | None, meta: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """(text, metadata) of a stored passage as Chroma returns it (see TEXT_KEY)."""
    out = dict(meta or {})
    text = out.pop(TEXT_KEY, None)
    return (str(text) if text is not None else doc or ""), out


class IndexError_(ClinassistError):
    code = "E500"


def _slug(name: str) -> str:
    return re.sub(r"[^a-zA-Z0-9]+", "-", name).strip("-").lower()[:40] or "emb"


def _chroma_ef(embedder: Embedder) -> Any:
    from chromadb.api.types import Documents, EmbeddingFunction, Embeddings

    class ClinassistEmbeddingFunction(EmbeddingFunction[Documents]):
        """Wraps an :class:`assistant.core.embeddings.Embedder` (no downloads)."""

        def __init__(self, inner: Embedder) -> None:
            self.inner = inner

        def __call__(self, input: Documents) -> Embeddings:
            return list(self.inner.embed(list(input)))

        @staticmethod
        def name() -> str:
            return "clinassist"

        def get_config(self) -> dict[str, Any]:
            return {"embedder": self.inner.name, "dim": self.inner.dim}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> ClinassistEmbeddingFunction:
            from assistant.core.embeddings import HashingEmbedder

            return ClinassistEmbeddingFunction(HashingEmbedder(int(config.get("dim", 384))))

        def default_space(self) -> Any:
            return "cosine"

    return ClinassistEmbeddingFunction(embedder)


class UniqueEmbedder:
    """Embeds each distinct string once per ingest: sources repeat texts (the same synonym
    under several terms, the same heading on several pages). Only strings that occur more than
    once in ``texts`` are remembered."""

    def __init__(self, embedder: Embedder, texts: Iterable[str]) -> None:
        self.embedder = embedder
        seen: set[str] = set()
        self.repeated: set[str] = set()
        for t in texts:
            (self.repeated if t in seen else seen).add(t)
        self.memo: dict[str, np.ndarray] = {}
        self.calls = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        todo = list(dict.fromkeys(t for t in texts if t not in self.memo))
        new = np.asarray(self.embedder.embed(todo)) if todo else np.zeros((0, self.embedder.dim))
        self.calls += len(todo)
        fresh = dict(zip(todo, new, strict=True))
        for t, v in fresh.items():
            if t in self.repeated:
                self.memo[t] = v
        return np.stack([fresh[t] if t in fresh else self.memo[t] for t in texts])


class _Blocks:
    """Vectors of ``texts`` read in order, embedded EMBED_BLOCK texts per embedder call."""

    def __init__(self, embedder: UniqueEmbedder, texts: Sequence[str]) -> None:
        self.embedder = embedder
        self.texts = texts
        self.start = 0
        self.vecs = np.zeros((0, embedder.embedder.dim), dtype=np.float32)

    def rows(self, start: int, n: int) -> np.ndarray:
        """Rows ``start .. start + n`` (called with increasing, contiguous ranges)."""
        if start + n > self.start + len(self.vecs):
            self.start = start
            self.vecs = self.embedder.embed(self.texts[start : start + max(n, EMBED_BLOCK)])
        return self.vecs[start - self.start : start - self.start + n]


@dataclass
class IngestResult:
    source: str
    status: str  # "unchanged", "added", "replaced"
    chunks: int
    seconds: float = 0.0


class KnowledgeIndex:
    """Chunks in Chroma collections (``passages``, ``icd10cm``) plus a manifest."""

    def __init__(
        self,
        client: Any,
        embedder: Embedder,
        *,
        location: str,
        prefix: str = "kb",
        kb_dir: Path | None = None,
    ) -> None:
        """``client``: a Chroma client, or a function making one (called on first use: a
        query answered from the snapshot never imports chromadb). ``kb_dir``: the local
        folder of a persistent index, where its read snapshot lives (:mod:`knowledge.kb.snapshot`)."""
        self._client = client
        self.embedder = embedder
        self.location = location
        self.prefix = prefix
        self.kb_dir = kb_dir
        self._ef_: Any = None
        self._collections: dict[str, Any] = {}
        self._counts: dict[str, tuple[int, float, int]] = {}
        self.generation = 0  # bumps on every write in this process (retrievers rebuild BM25)
        self._snap: Any = None
        self._snap_token: str | None = None
        self._ingest_embedder_: Embedder | None = None
        from knowledge.kb.snapshot import Written

        self.written = Written(enabled=kb_dir is not None)
        """Rows this process stored (the next read snapshot takes them from here)."""

    @property
    def client(self) -> Any:
        if callable(self._client) and not hasattr(self._client, "get_or_create_collection"):
            self._client = self._client()
        return self._client

    @property
    def _ef(self) -> Any:
        if self._ef_ is None:
            self._ef_ = _chroma_ef(self.embedder)
        return self._ef_

    # -- the read snapshot ------------------------------------------------------------------
    def snapshot(self) -> Any:
        """The current read snapshot (:class:`knowledge.kb.snapshot.Snapshot`) or None: none
        written, or a write since. Re-read when another process writes a new one."""
        if self.kb_dir is None:
            return None
        from knowledge.kb import snapshot

        token = snapshot.current_token(self.kb_dir)
        if token != self._snap_token:
            self._snap = snapshot.load(self.kb_dir, self.embedder.name) if token else None
            self._snap_token = token
            self.generation += 1
        return self._snap

    def write_snapshot(self) -> str | None:
        """After writes: save what queries read (the caller holds the write lock)."""
        if self.kb_dir is None:
            return None
        from knowledge.kb import snapshot

        try:
            return snapshot.write(self, self.kb_dir)
        finally:
            self.written.clear()

    @contextlib.contextmanager
    def write_lock(self, *, wait: bool = True) -> Iterator[bool]:
        """Exclusive across processes for a local index (``<kb>/.write.lock``): one writer at a
        time, and no snapshot of a half-written store. Yields False when ``wait`` is off and
        another process holds it."""
        if self.kb_dir is None:
            yield True
            return
        import fcntl

        self.kb_dir.mkdir(parents=True, exist_ok=True)
        with (self.kb_dir / ".write.lock").open("a") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _before_write(self) -> None:
        if self.kb_dir is not None:
            from knowledge.kb import snapshot

            snapshot.invalidate(self.kb_dir)
            self._snap, self._snap_token = None, None

    def keyword_index(self, kind: str) -> Any:
        """The snapshot's keyword index of ``kind`` (a ``bm25.BM25Index``), or None."""
        snap = self.snapshot()
        return snap.collections[kind].keyword if snap and kind in snap.collections else None

    # -- constructors -------------------------------------------------------------------
    @staticmethod
    def _chroma_settings() -> Any:
        from chromadb.config import Settings as ChromaSettings

        return ChromaSettings(anonymized_telemetry=False, allow_reset=True)

    @classmethod
    def persistent(cls, path: Path, embedder: Embedder) -> KnowledgeIndex:
        """Chroma files under ``path``; the client opens on first use (see ``client``)."""
        path.mkdir(parents=True, exist_ok=True)

        def open_client() -> Any:
            import chromadb

            return chromadb.PersistentClient(path=str(path), settings=cls._chroma_settings())

        return cls(open_client, embedder, location=str(path), kb_dir=path)

    @classmethod
    def http(cls, url: str, embedder: Embedder) -> KnowledgeIndex:
        from urllib.parse import urlparse

        import chromadb

        parsed = urlparse(url if "://" in url else f"http://{url}")
        try:
            client = chromadb.HttpClient(
                host=parsed.hostname or "127.0.0.1",
                port=parsed.port or 8000,
                ssl=parsed.scheme == "https",
                settings=cls._chroma_settings(),
            )
        except Exception as exc:
            raise IndexError_(f"cannot reach the Chroma server at {url}: {exc}") from exc
        return cls(client, embedder, location=url)

    @classmethod
    def ephemeral(cls, embedder: Embedder) -> KnowledgeIndex:
        """In memory; each call gets its own collections (Chroma shares ephemeral state)."""
        import chromadb

        client = chromadb.EphemeralClient(settings=cls._chroma_settings())
        return cls(client, embedder, location="memory", prefix=f"t{uuid.uuid4().hex[:10]}")

    @classmethod
    def from_settings(cls, settings: Settings, embedder: Embedder | None = None) -> KnowledgeIndex:
        embedder = embedder or build_embedder(settings)
        url = settings.kb.chroma_url or os.environ.get(URL_ENV)
        if url:
            return cls.http(url, embedder)
        return cls.persistent(settings.data_dir / "kb", embedder)

    # -- collections --------------------------------------------------------------------
    def collection_name(self, kind: str) -> str:
        return f"{self.prefix}-{kind}-{_slug(self.embedder.name)}"

    def collection(self, kind: str) -> Any:
        if kind not in self._collections:
            self._collections[kind] = self.client.get_or_create_collection(
                self.collection_name(kind),
                embedding_function=self._ef,
                metadata={"hnsw:space": "cosine"},
            )
        return self._collections[kind]

    def manifest(self) -> dict[str, dict[str, Any]]:
        got = self.collection("manifest").get(include=["metadatas"])
        return {i: dict(m or {}) for i, m in zip(got["ids"], got["metadatas"] or [], strict=False)}

    def count(self, kind: str) -> int:
        snap = self.snapshot()
        if snap is not None:
            for name, coll in snap.collections.items():
                if kind == name:
                    return len(coll.keyword.ids)
                if kind == aliases_of(name):
                    return len(coll.alias_parent)
        return int(self.collection(kind).count())

    def cached_count(self, kind: str) -> int:
        """``count`` cached for COUNT_TTL_S (and until this process writes): cheap per query,
        while writes by another instance (a shared Chroma server) are seen within seconds."""
        if self.snapshot() is not None:
            return self.count(kind)
        now = time.monotonic()
        hit = self._counts.get(kind)
        if hit and hit[0] == self.generation and now - hit[1] < COUNT_TTL_S:
            return hit[2]
        n = self.count(kind)
        self._counts[kind] = (self.generation, now, n)
        return n

    # -- writes -------------------------------------------------------------------------
    def ingest_embedder(self) -> Embedder:
        """What ingestion embeds with: the shipped precomputed vectors
        (:mod:`knowledge.kb.vectors`) for the texts they hold when they were computed by this
        index's model, the embedder itself for every other text."""
        if self._ingest_embedder_ is None:
            from knowledge.kb import vectors

            table = vectors.for_embedder(self.embedder)
            self._ingest_embedder_ = (
                vectors.PrecomputedEmbedder(self.embedder, table) if table else self.embedder
            )
        return self._ingest_embedder_

    def needs_ingest(self, key: str, fingerprint: str) -> bool:
        got = self.collection("manifest").get(ids=[key], include=["metadatas"])
        metas = got.get("metadatas") or []
        return not (metas and metas[0] and metas[0].get("fingerprint") == fingerprint)

    def _source_ids(self, key: str) -> dict[str, set[str]]:
        """Every stored id ingested under ``key``, per collection."""
        out: dict[str, set[str]] = {}
        for kind in STORED_COLLECTIONS:
            coll = self.collection(kind)
            ids: set[str] = set()
            offset = 0
            while True:
                got = coll.get(where={"source_key": key}, include=[], limit=PAGE, offset=offset)
                ids.update(got["ids"])
                offset += len(got["ids"])
                if len(got["ids"]) < PAGE:
                    break
            out[kind] = ids
        return out

    def _delete(self, ids_by_kind: dict[str, set[str]]) -> None:
        for kind, ids in ids_by_kind.items():
            gone = sorted(ids)
            for start in range(0, len(gone), PAGE):
                self.collection(kind).delete(ids=gone[start : start + PAGE])

    def remove_source(self, key: str) -> None:
        self._before_write()
        self._delete(self._source_ids(key))
        self.collection("manifest").delete(ids=[key])
        self.generation += 1

    def ingest_chunks(
        self,
        key: str,
        chunks: Sequence[Chunk],
        *,
        fingerprint: str,
        version: str,
        licence: str,
        progress: Progress | None = None,
        embeddings: np.ndarray | None = None,
        alias_embeddings: np.ndarray | None = None,
    ) -> IngestResult:
        """Replace everything ingested before under ``key`` by ``chunks`` (already validated).

        ``embeddings`` (one row per chunk) and ``alias_embeddings`` (one row per alias, in
        chunk order) skip the embedder: benchmarks use them to store synthetic chunks; normal
        ingestion leaves them out."""
        t0 = time.perf_counter()
        self._before_write()
        existed = bool(self.collection("manifest").get(ids=[key], include=[])["ids"])
        seen: set[str] = set()
        unique: list[Chunk] = []
        for c in chunks:
            if c.id not in seen:
                seen.add(c.id)
                unique.append(c)
        if embeddings is not None and len(unique) != len(embeddings):
            raise ValueError("embeddings must have one row per unique chunk")
        # Replace in place: chunks whose id survives are overwritten (upsert), the rest are
        # deleted afterwards. Deleting everything first would leave every replaced vector as
        # a deleted node in Chroma's HNSW graph, which searches still walk (slower tails).
        stale = self._source_ids(key)
        today = datetime.now(UTC).date().isoformat()
        texts = [c.embed_text or c.text for c in unique]
        blocks = _Blocks(UniqueEmbedder(self.ingest_embedder(), texts), texts)
        for start in range(0, len(unique), BATCH):
            batch = unique[start : start + BATCH]
            if embeddings is not None:
                vecs = embeddings[start : start + len(batch)]
            else:
                vecs = blocks.rows(start, len(batch))
            by_kind: dict[str, list[int]] = {}
            for i, c in enumerate(batch):
                by_kind.setdefault(c.collection, []).append(i)
            for kind, rows in by_kind.items():
                stale.get(kind, set()).difference_update(batch[i].id for i in rows)
                ids = [batch[i].id for i in rows]
                docs = [batch[i].text for i in rows]
                metas = [
                    {**batch[i].metadata(), "source_key": key, "ingested": today} for i in rows
                ]
                self.collection(kind).upsert(
                    ids=ids,
                    embeddings=vecs[rows],
                    metadatas=[{**m, TEXT_KEY: d} for m, d in zip(metas, docs, strict=True)],
                )
                self.written.add(kind, ids, vecs[rows], docs, metas)
            if progress:
                progress(len(batch))
        self._ingest_aliases(key, unique, progress, alias_embeddings, stale)
        self._delete(stale)
        self._write_manifest(key, fingerprint, version, licence, len(unique), today)
        self.generation += 1
        return IngestResult(
            key, "replaced" if existed else "added", len(unique), time.perf_counter() - t0
        )

    def _ingest_aliases(
        self,
        key: str,
        chunks: Sequence[Chunk],
        progress: Progress | None,
        vectors: np.ndarray | None = None,
        stale: dict[str, set[str]] | None = None,
    ) -> None:
        """One vector per alias (``Chunk.aliases``), id ``<chunk id>~<n>`` (the passage id is
        read back from it), with the ``source``, ``type`` and ``source_key`` metadata of its
        passage and no document."""
        rows = [
            (f"{c.id}{ALIAS_SEP}{n}", alias, c)
            for c in chunks
            for n, alias in enumerate(c.aliases)
            if alias.strip()
        ]
        if vectors is not None and len(vectors) != len(rows):
            raise ValueError("alias_embeddings must have one row per alias")
        texts = [alias for _, alias, _ in rows]
        blocks = _Blocks(UniqueEmbedder(self.ingest_embedder(), texts), texts)
        for start in range(0, len(rows), BATCH):
            batch = rows[start : start + BATCH]
            if vectors is not None:
                vecs = vectors[start : start + len(batch)]
            else:
                vecs = blocks.rows(start, len(batch))
            by_kind: dict[str, list[int]] = {}
            for i, (_, _, c) in enumerate(batch):
                by_kind.setdefault(c.collection, []).append(i)
            for kind, idx in by_kind.items():
                if stale is not None:
                    stale.get(aliases_of(kind), set()).difference_update(batch[i][0] for i in idx)
                ids = [batch[i][0] for i in idx]
                # no documents (alias texts are never read back: the passage id is in the alias
                # id) and only the metadata that filters and re-ingest bookkeeping read: Chroma
                # stores each document in a full-text index and each metadata field as a row,
                # ~35 % of an alias row's insert cost
                self.collection(aliases_of(kind)).upsert(
                    ids=ids,
                    embeddings=vecs[idx],
                    metadatas=[
                        {"source": batch[i][2].source, "type": batch[i][2].type, "source_key": key}
                        for i in idx
                    ],
                )
                self.written.add(aliases_of(kind), ids, vecs[idx])
            if progress:
                progress(len(batch))

    def _write_manifest(
        self, key: str, fingerprint: str, version: str, licence: str, n: int, day: str
    ) -> None:
        vec = np.zeros(self.embedder.dim, dtype=np.float32)
        vec[0] = 1.0
        self.collection("manifest").upsert(
            ids=[key],
            documents=[key],
            embeddings=[vec],
            metadatas=[
                {
                    "fingerprint": fingerprint,
                    "version": version,
                    "licence": licence,
                    "chunks": n,
                    "ingested": day,
                }
            ],
        )

    # -- reads --------------------------------------------------------------------------
    def all_documents(
        self, kind: str, page: int = 5000
    ) -> tuple[list[str], list[str], list[dict[str, Any]]]:
        saved = self.keyword_index(kind)
        if saved is not None:
            return list(saved.ids), list(saved.docs), list(saved.metas)
        coll = self.collection(kind)
        ids: list[str] = []
        docs: list[str] = []
        metas: list[dict[str, Any]] = []
        offset = 0
        while True:
            got = coll.get(include=["documents", "metadatas"], limit=page, offset=offset)
            if not got["ids"]:
                break
            ids += got["ids"]
            for d, m in zip(got["documents"] or [], got["metadatas"] or [], strict=True):
                text, meta = stored_row(d, m)
                docs.append(text)
                metas.append(meta)
            offset += len(got["ids"])
            if len(got["ids"]) < page:
                break
        return ids, docs, metas

    def dense(
        self,
        kind: str,
        query_vec: np.ndarray,
        n: int,
        where: dict[str, Any] | None = None,
        *,
        fetch: bool = True,
    ) -> list[tuple[str, float, str, dict[str, Any]]]:
        """(id, cosine similarity, text, metadata), best first. ``fetch=False`` skips reading
        texts and metadata from Chroma (returned empty): the retriever already holds them.
        From the snapshot: exact cosine over all vectors (Chroma's HNSW approximates it)."""
        snap = self.snapshot()
        if snap is not None and kind in snap.collections:
            from knowledge.kb.snapshot import top

            coll_snap = snap.collections[kind]
            bm = coll_snap.keyword
            sims = np.asarray(coll_snap.vectors @ np.asarray(query_vec, dtype=np.float32))
            rows = top(sims, n, bm.mask(where))
            return [
                (
                    bm.ids[i],
                    float(sims[i]),
                    bm.docs[i] if fetch else "",
                    dict(bm.metas[i]) if fetch else {},
                )
                for i in rows
            ]
        coll = self.collection(kind)
        total = self.cached_count(kind)
        if total == 0:
            return []
        include = ["documents", "metadatas", "distances"] if fetch else ["distances"]
        res = coll.query(
            query_embeddings=[query_vec],
            n_results=min(n, total),
            where=where or None,
            include=include,
        )
        ids = res["ids"][0]
        docs = res["documents"][0] if fetch and res.get("documents") else [""] * len(ids)
        metas = res["metadatas"][0] if fetch and res.get("metadatas") else [{}] * len(ids)
        stored = [
            stored_row(doc, m) if fetch else ("", {}) for doc, m in zip(docs, metas, strict=True)
        ]
        return [
            (i, 1.0 - float(d), text, meta)
            for i, d, (text, meta) in zip(ids, res["distances"][0], stored, strict=False)
        ]

    def dense_aliases(
        self, kind: str, query_vec: np.ndarray, n: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """(passage id, best alias cosine similarity) for the ``n`` passages of collection
        ``kind`` whose names or synonyms are nearest the query, best first."""
        snap = self.snapshot()
        if snap is not None and kind in snap.collections:
            from knowledge.kb.snapshot import top

            coll_snap = snap.collections[kind]
            parents = np.asarray(coll_snap.alias_parent)
            mask = coll_snap.keyword.mask(where)
            sims = np.asarray(coll_snap.alias_vectors @ np.asarray(query_vec, dtype=np.float32))
            rows = top(sims, n * ALIAS_FANOUT, None if mask is None else mask[parents])
            found: dict[str, float] = {}
            for i in rows:
                pid = coll_snap.keyword.ids[int(parents[i])]
                if pid not in found:
                    found[pid] = float(sims[i])
            return list(found.items())[:n]
        name = aliases_of(kind)
        total = self.cached_count(name)
        if total == 0:
            return []
        res = self.collection(name).query(
            query_embeddings=[query_vec],
            n_results=min(n * ALIAS_FANOUT, total),
            where=where or None,
            include=["distances"],  # the passage id is in the alias id: no metadata read
        )
        best: dict[str, float] = {}
        for alias_id, dist in zip(res["ids"][0], res["distances"][0], strict=False):
            parent = alias_id.rpartition(ALIAS_SEP)[0]
            if parent and parent not in best:
                best[parent] = 1.0 - float(dist)
        return list(best.items())[:n]

    def get(self, kind: str, ids: Iterable[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        saved = self.keyword_index(kind)
        if saved is not None:
            return {i: saved.doc(i) for i in ids if i in saved.row}
        got = self.collection(kind).get(ids=list(ids), include=["documents", "metadatas"])
        return {
            i: stored_row(d, m)
            for i, d, m in zip(
                got["ids"], got["documents"] or [], got["metadatas"] or [], strict=False
            )
        }
