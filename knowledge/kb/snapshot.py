"""A read snapshot of a local knowledge base: what a query needs, in files that load in
milliseconds (memory-mapped), written after each ingest.

Chroma stays the store of record (every write goes there). Opening it cold costs ~0.5 s of
imports and ~0.3 s per collection to load its HNSW graph on an idle 2-core machine (several
seconds on a loaded one), and the keyword index was rebuilt from every stored passage by each
new process. After an ingest, :func:`write` stores per collection:

- the passage vectors and the alias vectors (``.npy``, float32, memory-mapped): dense search
  is an exact dot product over them (~100k x 384 floats: a few ms), the same cosine ranking
  Chroma's HNSW approximates;
- the bm25s keyword index (``BM25.save``, loaded with ``mmap=True``) and the retriever's title
  and section tables (JSON);
- texts and metadata as one UTF-8 blob each with row offsets: a hit decodes only its own row.

Files live in ``<kb>/snapshot/<token>/``; ``<kb>/snapshot/CURRENT`` names the valid one and is
replaced atomically. Every write to Chroma first removes ``CURRENT`` (readers fall back to
Chroma until the next snapshot), so a snapshot never describes anything but the stored index.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from knowledge.kb.sources import COLLECTIONS, aliases_of

if TYPE_CHECKING:
    from knowledge.kb.bm25 import BM25Index
    from knowledge.kb.index import KnowledgeIndex

log = logging.getLogger(__name__)

FORMAT = 1
DIR = "snapshot"
POINTER = "CURRENT"
ALIAS_SEP = "~"
KEEP_OLD_S = 600.0
"""Older snapshot folders are removed by a later write once this old (a reader that read
``CURRENT`` just before the switch still finds its files)."""


def root_of(kb_dir: Path) -> Path:
    return Path(kb_dir) / DIR


def current_token(kb_dir: Path) -> str | None:
    try:
        token = (root_of(kb_dir) / POINTER).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return token or None


def invalidate(kb_dir: Path) -> None:
    """Before any write to the store: readers stop trusting the snapshot."""
    with contextlib.suppress(FileNotFoundError):
        (root_of(kb_dir) / POINTER).unlink()


class Rows(Sequence[Any]):
    """Row ``i`` of a blob of UTF-8 records with ``offsets`` (N+1), decoded on access."""

    def __init__(self, blob: Path, offsets: Path, *, as_json: bool) -> None:
        self._offsets = np.load(offsets, mmap_mode="r")
        size = blob.stat().st_size
        self._blob: Any = np.memmap(blob, dtype=np.uint8, mode="r") if size else b""
        self._json = as_json

    def __len__(self) -> int:
        return max(0, len(self._offsets) - 1)

    def _row(self, i: int) -> Any:
        lo, hi = int(self._offsets[i]), int(self._offsets[i + 1])
        text = bytes(self._blob[lo:hi]).decode("utf-8")
        return json.loads(text) if self._json else text

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self._row(j) for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self._row(i)

    def __iter__(self) -> Iterator[Any]:
        return (self._row(i) for i in range(len(self)))


def _write_rows(path: Path, name: str, rows: Sequence[str]) -> None:
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    with (path / f"{name}.bin").open("wb") as fh:
        pos = 0
        for i, row in enumerate(rows):
            data = row.encode("utf-8")
            fh.write(data)
            pos += len(data)
            offsets[i + 1] = pos
    np.save(path / f"{name}.off.npy", offsets)


@dataclass
class CollectionSnapshot:
    """One collection's keyword index, vectors and alias vectors."""

    kind: str
    keyword: BM25Index
    vectors: np.ndarray
    alias_parent: np.ndarray
    alias_vectors: np.ndarray


@dataclass
class Snapshot:
    token: str
    embedder: str
    collections: dict[str, CollectionSnapshot]


PAGE = 5000
"""Ids per Chroma get call."""


class Written:
    """Rows this process stored in Chroma since the last snapshot, per collection: id ->
    (vector, document, metadata). The snapshot written after an ingest takes them from here
    instead of reading every stored vector back (a ~10 % share of a first ingest's time); it
    still lists the ids from Chroma, so a row deleted since, or one stored by an earlier
    process, is exactly what Chroma holds. Off (``enabled=False``) where no snapshot is written
    (a Chroma server, the in-memory test index)."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self.rows: dict[str, dict[str, tuple[np.ndarray, str, dict[str, Any]]]] = {}

    def add(
        self,
        kind: str,
        ids: Sequence[str],
        vectors: np.ndarray,
        docs: Sequence[str] | None = None,
        metas: Sequence[dict[str, Any]] | None = None,
    ) -> None:
        if not self.enabled:
            return
        vecs = np.asarray(vectors, dtype=np.float32)
        rows = self.rows.setdefault(kind, {})
        for n, i in enumerate(ids):
            rows[i] = (vecs[n], docs[n] if docs else "", metas[n] if metas else {})

    def clear(self) -> None:
        self.rows.clear()


def _read_all(index: KnowledgeIndex, kind: str, *, documents: bool) -> dict[str, Any]:
    """Every stored row of collection ``kind``, in Chroma's order: ids (and, with
    ``documents``, texts and metadata) and the vectors as one float32 array. Rows this process
    wrote come from ``index.written``; only the others are read from Chroma."""
    from knowledge.kb.index import stored_row

    coll = index.collection(kind)
    ids: list[str] = []
    while True:
        got = coll.get(include=[], limit=PAGE, offset=len(ids))
        ids += got["ids"]
        if len(got["ids"]) < PAGE:
            break
    known = index.written.rows.get(kind, {})
    missing = [i for i in ids if i not in known]
    include = ["embeddings", "documents", "metadatas"] if documents else ["embeddings"]
    fetched: dict[str, tuple[np.ndarray, str, dict[str, Any]]] = {}
    for start in range(0, len(missing), PAGE):
        got = coll.get(ids=missing[start : start + PAGE], include=include)
        vecs = np.asarray(got["embeddings"], dtype=np.float32)
        docs = got["documents"] if documents else None
        metas = got["metadatas"] if documents else None
        for n, i in enumerate(got["ids"]):
            doc, meta = stored_row(docs[n], metas[n]) if docs and metas else ("", {})
            fetched[i] = (vecs[n], doc, meta)
    rows = [known[i] if i in known else fetched[i] for i in ids]
    dim = int(index.embedder.dim)
    return {
        "ids": ids,
        "embeddings": np.stack([r[0] for r in rows]) if rows else np.zeros((0, dim), np.float32),
        "documents": [r[1] for r in rows],
        "metadatas": [r[2] for r in rows],
    }


def write(index: KnowledgeIndex, kb_dir: Path) -> str:
    """Snapshot everything stored in ``index`` (a local persistent one) and make it current.
    The caller holds the knowledge base's write lock (no write runs meanwhile)."""
    from knowledge.kb.bm25 import BM25Index

    root = root_of(kb_dir)
    root.mkdir(parents=True, exist_ok=True)
    token = f"{int(time.time())}-{uuid.uuid4().hex[:8]}"
    tmp = root / f"{token}.tmp"
    tmp.mkdir()
    dim = int(index.embedder.dim)
    counts: dict[str, dict[str, int]] = {}
    for kind in COLLECTIONS:
        got = _read_all(index, kind, documents=True)
        ids, docs, metas = got["ids"], got["documents"], got["metadatas"]
        vectors = got["embeddings"]
        keyword = BM25Index(ids, docs, metas)
        if ids:  # bm25s cannot save an empty index; restore() makes an empty one
            keyword.model.save(str(tmp / f"{kind}.bm25"), show_progress=False)
        (tmp / f"{kind}.ids.json").write_text(json.dumps(ids), encoding="utf-8")
        _write_rows(tmp, f"{kind}.docs", docs)
        _write_rows(tmp, f"{kind}.metas", [json.dumps(m, ensure_ascii=False) for m in metas])
        tables = {
            "fields": {k: list(v) for k, v in keyword.fields.items()},
            "title_tokens": [sorted(t) for t in keyword.title_tokens],
            "by_title_token": keyword.by_title_token,
            "by_topic_section": [[p, s, rows] for (p, s), rows in keyword.by_topic_section.items()],
        }
        (tmp / f"{kind}.tables.json").write_text(json.dumps(tables), encoding="utf-8")
        np.save(tmp / f"{kind}.vectors.npy", vectors)
        alias = _read_all(index, aliases_of(kind), documents=False)
        row = keyword.row
        parents = [row.get(a.rpartition(ALIAS_SEP)[0], -1) for a in alias["ids"]]
        keep = [i for i, p in enumerate(parents) if p >= 0]  # an alias of an unknown passage
        np.save(tmp / f"{kind}.alias_parent.npy", np.asarray([parents[i] for i in keep], np.int32))
        np.save(tmp / f"{kind}.alias_vectors.npy", alias["embeddings"][keep])
        counts[kind] = {"passages": len(ids), "aliases": len(keep)}
    meta = {"format": FORMAT, "token": token, "embedder": index.embedder.name, "dim": dim}
    (tmp / "meta.json").write_text(json.dumps({**meta, "collections": counts}), encoding="utf-8")
    os.replace(tmp, root / token)
    pointer = root / f"{POINTER}.{token}.tmp"
    pointer.write_text(token, encoding="utf-8")
    os.replace(pointer, root / POINTER)
    _prune(root, keep=token)
    return token


def _prune(root: Path, keep: str) -> None:
    now = time.time()
    for path in root.iterdir():
        if path.name in (keep, POINTER):
            continue
        try:
            if now - path.stat().st_mtime > KEEP_OLD_S or path.name.endswith(".tmp"):
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink()
        except OSError:
            pass


def load(kb_dir: Path, embedder: str) -> Snapshot | None:
    """The current snapshot, or None (none written, another embedder's, or unreadable)."""
    from knowledge.kb.bm25 import BM25Index

    token = current_token(kb_dir)
    if token is None:
        return None
    path = root_of(kb_dir) / token
    try:
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT or meta.get("embedder") != embedder:
            return None
        collections = {}
        for kind in COLLECTIONS:
            collections[kind] = CollectionSnapshot(
                kind,
                BM25Index.restore(
                    ids=json.loads((path / f"{kind}.ids.json").read_text(encoding="utf-8")),
                    docs=Rows(
                        path / f"{kind}.docs.bin", path / f"{kind}.docs.off.npy", as_json=False
                    ),
                    metas=Rows(
                        path / f"{kind}.metas.bin", path / f"{kind}.metas.off.npy", as_json=True
                    ),
                    tables=json.loads((path / f"{kind}.tables.json").read_text(encoding="utf-8")),
                    bm25_dir=path / f"{kind}.bm25",
                ),
                np.load(path / f"{kind}.vectors.npy", mmap_mode="r"),
                np.load(path / f"{kind}.alias_parent.npy", mmap_mode="r"),
                np.load(path / f"{kind}.alias_vectors.npy", mmap_mode="r"),
            )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.info("knowledge snapshot %s unreadable (%s): reading Chroma", token, exc)
        return None
    return Snapshot(token, embedder, collections)


def top(scores: np.ndarray, n: int, mask: np.ndarray | None = None) -> list[int]:
    """Rows of the ``n`` highest scores (inside ``mask``), best first."""
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    k = min(n, len(scores))
    if k <= 0:
        return []
    idx = np.argpartition(-scores, k - 1)[:k]
    idx = idx[np.argsort(-scores[idx], kind="stable")]
    return [int(i) for i in idx if np.isfinite(scores[i])]
