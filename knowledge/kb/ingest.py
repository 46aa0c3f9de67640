"""Ingestion: resolve sources (built-in names or user paths), skip unchanged ones by content
hash, replace changed ones, with a progress callback per source."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from assistant.core.errors import UserError
from assistant.core.types import Echo
from knowledge.kb.index import IngestResult, KnowledgeIndex
from knowledge.kb.sources import (
    BUILTIN_SOURCES,
    DEFAULT_SOURCES,
    Chunk,
    DocumentError,
    Source,
    SourceUnavailableError,
    get_source,
)
from knowledge.kb.sources.documents import SUFFIXES, DocumentSource

# (source name, total chunks) -> advance(n) callback
ProgressFactory = Callable[[str, int], Callable[[int], None]]


@dataclass
class Plan:
    sources: list[Source] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def plan(names: list[str]) -> Plan:
    """Resolve what to ingest. Every user file is read and validated here, before any write."""
    out = Plan()
    if not names:
        for name in DEFAULT_SOURCES:
            try:
                out.sources.append(get_source(name))
            except SourceUnavailableError as exc:
                out.skipped.append(f"{name}: skipped: {exc.message}")
        return out
    for name in names:
        if name in BUILTIN_SOURCES:
            out.sources.append(get_source(name))
            continue
        path = Path(name).expanduser()
        if path.is_dir():
            files = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
            )
            if not files:
                raise DocumentError(f"{path}: no .md, .txt, .pdf or .html files in this folder")
            out.sources += [DocumentSource(p) for p in files]
        elif path.exists() or "/" in name or "." in name:
            out.sources.append(DocumentSource(path))
        else:
            raise UserError(
                f"unknown knowledge source {name!r}: use {', '.join(BUILTIN_SOURCES)} or a file/folder path"
            )
    return out


def ingest_sources(
    index: KnowledgeIndex,
    sources: list[Source],
    *,
    progress: ProgressFactory | None = None,
    echo: Echo | None = None,
) -> list[IngestResult]:
    with index.write_lock():
        results = _ingest_locked(index, sources, progress=progress, echo=echo)
        if any(r.status != "unchanged" for r in results) or index.snapshot() is None:
            index.write_snapshot()  # what queries read (a local index; no-op for a server)
    return results


def _ingest_locked(
    index: KnowledgeIndex,
    sources: list[Source],
    *,
    progress: ProgressFactory | None = None,
    echo: Echo | None = None,
) -> list[IngestResult]:
    results = []
    for src in sources:
        fp = src.fingerprint()
        if not index.needs_ingest(src.name, fp):
            results.append(IngestResult(src.name, "unchanged", 0))
            continue
        t0 = time.perf_counter()
        chunks: list[Chunk] = list(src.chunks())
        total = len(chunks) + sum(len(c.aliases) for c in chunks)
        advance = progress(src.name, total) if progress else None
        embedder = index.ingest_embedder()
        shipped = getattr(embedder, "hits", 0), getattr(embedder, "misses", 0)
        res = index.ingest_chunks(
            src.name,
            chunks,
            fingerprint=fp,
            version=src.version(),
            licence=src.licence,
            progress=advance,
        )
        res.seconds = time.perf_counter() - t0
        results.append(res)
        if echo:
            rate = res.chunks / res.seconds if res.seconds else 0.0
            hits = getattr(embedder, "hits", 0) - shipped[0]
            misses = getattr(embedder, "misses", 0) - shipped[1]
            note = f"; {hits} of {hits + misses} vectors precomputed" if hits else ""
            echo(
                f"{src.name}: {res.status} {res.chunks} chunks in {res.seconds:.1f} s "
                f"({rate:.0f}/s{note})"
            )
    return results


def ingest(
    index: KnowledgeIndex,
    names: list[str],
    *,
    progress: ProgressFactory | None = None,
    echo: Echo | None = None,
) -> list[IngestResult]:
    """Ingest built-in sources by name, or user files/folders; [] means the default corpus."""
    p = plan(names)
    for msg in p.skipped:
        if echo:
            echo(msg)
    return ingest_sources(index, p.sources, progress=progress, echo=echo)


def is_built(index: KnowledgeIndex) -> bool:
    """True when every available default source is ingested at its current content hash."""
    p = plan([])
    return all(not index.needs_ingest(s.name, s.fingerprint()) for s in p.sources)
