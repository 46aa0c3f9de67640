"""Knowledge sources: each yields :class:`Chunk` passages with licence and version metadata.

A source is identified by name (``hpo``, ``wordnet``, ``icd10cm``, ``icd10cm-full``, ``drugs``,
``medquad``) or is a user document path. ``fingerprint()`` is a content hash: an unchanged source is not
re-ingested; a changed one replaces all of its chunks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Protocol

from assistant.core.errors import UserError

PASSAGES = "passages"
CODES = "icd10cm"
CONSUMER = "consumer"
"""Consumer-health passages (topic, section, audience): their own collection, so that patient
mode searches them without a metadata filter (a filtered Chroma query is ~10x slower)."""
COLLECTIONS = (PASSAGES, CODES, CONSUMER)


def aliases_of(kind: str) -> str:
    """The collection holding one vector per name and synonym (``Chunk.aliases``) of the
    passages in collection ``kind``, each pointing at its passage. One per kind, so that an
    unfiltered query needs no metadata filter (Chroma's filtered search is ~10x slower)."""
    return f"{kind}-aliases"


STORED_COLLECTIONS = (*COLLECTIONS, *(aliases_of(k) for k in COLLECTIONS))

DEFAULT_SOURCES = ("hpo", "wordnet", "icd10cm", "medquad")
"""The default corpus built by a bare ``clinassist kb ingest`` (see docs/KNOWLEDGE.md)."""


class SourceUnavailableError(UserError):
    """A named source is not installed on this machine (e.g. WordNet's Debian package)."""

    code = "E501"


class DocumentError(UserError):
    """A user document cannot be ingested (empty, corrupt, too large, unknown type)."""

    code = "E502"


@dataclass(frozen=True)
class Chunk:
    """One retrievable passage. ``id`` is stable across re-ingests of the same source."""

    id: str
    text: str
    title: str
    source: str
    type: str
    identifier: str
    url: str
    licence: str
    version: str
    collection: str = PASSAGES
    embed_text: str = ""
    """What the dense retriever embeds (shorter than ``text``); empty: ``text``."""
    aliases: tuple[str, ...] = ()
    """Names and synonyms embedded one by one (a vector each in the ``aliases`` collection):
    a lay or short query matches one synonym better than the whole passage's vector."""
    topic: str = ""
    """What the passage is about ("Kidney stones"); empty for sources without topics."""
    section: str = ""
    """Which part of the topic it covers (``symptoms``, ``treatment``, ``when-to-see-a-doctor``:
    the keys of ``knowledge/data/kb/consumer.yaml``); empty: not sectioned."""
    audience: str = ""
    """``consumer`` (plain-language text for patients) or ``clinician``; empty: unspecified."""
    organization: str = ""
    """Who wrote the text, as cited ("NIDDK")."""

    def metadata(self) -> dict[str, Any]:
        # not dataclasses.asdict: it deep-copies every value (~0.2 ms a chunk, ~20 s of a
        # default-corpus ingest on a loaded machine); every metadata field is a str
        return {f: getattr(self, f) for f in _META_FIELDS}


_META_FIELDS = tuple(
    f.name for f in fields(Chunk) if f.name not in ("text", "id", "embed_text", "aliases")
)


def citation(meta: dict[str, Any]) -> str:
    """``HPO HP:0002107 (2025-01-16)``-style citation from chunk metadata; sectioned passages
    read ``NIDDK: Kidney Stones in Adults — Symptoms``."""
    if meta.get("organization") and meta.get("topic"):
        from knowledge.kb.sources import sections

        part = sections.label(str(meta["section"])) if meta.get("section") else ""
        return f"{meta['organization']}: {meta['topic']}" + (f" — {part}" if part else "")
    label = {"hpo": "HPO", "wordnet": "WordNet", "icd10cm": "ICD-10-CM", "drugs": "Drug names"}.get(
        str(meta.get("source", "")), str(meta.get("source", ""))
    )
    ident = meta.get("identifier") or meta.get("title", "")
    version = meta.get("version")
    return f"{label} {ident} ({version})" if version else f"{label} {ident}"


class Source(Protocol):
    name: str
    licence: str

    def version(self) -> str: ...

    def fingerprint(self) -> str: ...

    def chunks(self) -> Iterator[Chunk]: ...


def file_sha256(*paths: Path, extra: str = "") -> str:
    h = hashlib.sha256(extra.encode())
    for path in paths:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def get_source(name: str) -> Source:
    """A named built-in source. Raises :class:`SourceUnavailableError` if it is not installed."""
    from knowledge.kb.sources import drugs, hpo, icd10cm, medquad, wordnet

    factories: dict[str, Any] = {
        "hpo": hpo.HPOSource,
        "wordnet": wordnet.WordNetSource,
        "icd10cm": icd10cm.ICD10CMSource,
        "icd10cm-full": lambda: icd10cm.ICD10CMSource(full=True),
        "drugs": drugs.DrugSource,
        "medquad": medquad.MedQuADSource,
    }
    if name not in factories:
        raise UserError(
            f"unknown knowledge source {name!r}: use {', '.join(factories)} or a file/folder path"
        )
    return factories[name]()


BUILTIN_SOURCES = ("hpo", "wordnet", "icd10cm", "icd10cm-full", "drugs", "medquad")
