"""`clinassist kb ingest|stats` (search goes through the search_knowledge tool)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from assistant.core.config import Settings
from knowledge.kb.index import URL_ENV, KnowledgeIndex
from knowledge.kb.sources import COLLECTIONS, aliases_of


def _progress_factory(
    console: object,
) -> tuple[object, Callable[[str, int], Callable[[int], None]]]:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    prog = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,  # type: ignore[arg-type]
        transient=False,
    )

    def factory(name: str, total: int) -> Callable[[int], None]:
        task = prog.add_task(f"ingest {name}", total=total)
        return lambda n: prog.advance(task, n)

    return prog, factory


def _stamp_path(settings: Settings) -> Path | None:
    """A local record of the default corpus's hashes: lets an up-to-date `kb ingest` skip
    opening Chroma (a fast no-op for `make chat`). None for a Chroma server."""
    if os.environ.get(URL_ENV):
        return None
    return settings.data_dir / "kb" / "default-corpus.json"


def _default_stamp(settings: Settings, plan: object) -> dict[str, str]:
    return {
        "embedder": f"{settings.embeddings.backend}-{settings.embeddings.dim}",
        **{s.name: s.fingerprint() for s in plan.sources},  # type: ignore[attr-defined]
    }


def _stamp_current(settings: Settings, stamp_file: Path, stamp: dict[str, str]) -> bool:
    from knowledge.kb import snapshot

    if not (stamp_file.parent / "chroma.sqlite3").is_file():
        return False
    if not snapshot.current_token(stamp_file.parent):  # built before the read snapshot: write it
        return False
    try:
        return bool(json.loads(stamp_file.read_text(encoding="utf-8")) == stamp)
    except (OSError, ValueError):
        return False


def default_corpus_current(settings: Settings) -> bool:
    """True when the default corpus is ingested at its current hashes (always True for a
    Chroma server: its owner builds it)."""
    from knowledge.kb import ingest as ing

    stamp_file = _stamp_path(settings)
    if stamp_file is None:
        return True
    return _stamp_current(settings, stamp_file, _default_stamp(settings, ing.plan([])))


def ingest(settings: Settings, sources: list[str]) -> None:
    """Ingest the default corpus (no arguments) or the named sources/paths; unchanged = no-op.
    A local default-corpus build records its progress for `/status` (:mod:`knowledge.kb.build`)."""
    from rich.console import Console

    from knowledge.kb import build
    from knowledge.kb import ingest as ing

    plan = ing.plan(sources)  # validates user files before the index is opened or touched
    console = Console(stderr=True)
    for msg in plan.skipped:
        console.print(msg)
    stamp_file = _stamp_path(settings) if not sources else None
    stamp = _default_stamp(settings, plan) if stamp_file else {}
    if stamp_file and _stamp_current(settings, stamp_file, stamp):
        print("knowledge base: default corpus up to date")
        return
    status = build.StatusWriter(settings) if stamp_file else None
    index = KnowledgeIndex.from_settings(settings)
    prog, factory = _progress_factory(console)

    def tracked(name: str, total: int) -> Callable[[int], None]:
        advance = factory(name, total)
        done = [0]
        if status is not None:
            status.write("building", f"{name} 0/{total}")

        def step(n: int) -> None:
            advance(n)
            done[0] += n
            if status is not None:
                status.write("building", f"{name} {done[0]}/{total}", force=False)

        return step

    try:
        with prog:  # type: ignore[attr-defined]
            results = ing.ingest_sources(index, plan.sources, progress=tracked)
    except BaseException as exc:
        if status is not None:
            status.write("failed", f"{type(exc).__name__}: see `clinassist kb ingest`")
        raise
    for r in results:
        rate = f" ({r.chunks / r.seconds:.0f} chunks/s)" if r.seconds and r.chunks else ""
        detail = (
            f"{r.chunks} chunks in {r.seconds:.1f} s{rate}"
            if r.status != "unchanged"
            else "already up to date"
        )
        print(f"{r.source}\t{r.status}\t{detail}")
    if stamp_file:
        stamp_file.write_text(json.dumps(stamp), encoding="utf-8")
    if status is not None:
        status.write("done", ", ".join(f"{r.source} {r.status}" for r in results))
    sys.stdout.flush()


def stats(settings: Settings) -> None:
    """Collections, chunk counts and each ingested source's version, licence and date."""
    index = KnowledgeIndex.from_settings(settings)
    print(f"location\t{index.location}\tembedder {index.embedder.name}")
    for kind in COLLECTIONS:
        print(
            f"collection\t{kind}\t{index.count(kind)} chunks\t"
            f"{index.count(aliases_of(kind))} name/synonym vectors"
        )
    for key, meta in sorted(index.manifest().items()):
        print(
            f"source\t{key}\t{meta.get('chunks')} chunks\tversion {meta.get('version')}\t"
            f"ingested {meta.get('ingested')}\t{meta.get('licence')}"
        )
