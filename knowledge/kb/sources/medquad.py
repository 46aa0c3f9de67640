"""Consumer-health passages from MedQuAD (NIH and CDC pages as question-answer pairs by topic
and question type), read from the compact file the project ships
(``knowledge/data/kb/medquad.jsonl.gz``, built by ``knowledge/data/kb/make_medquad.py``).

Each answer becomes one passage (long answers are split at line or sentence boundaries into
parts of about :data:`CHUNK_CHARS`), with its topic, section (MedQuAD's question type mapped by
``consumer.yaml``), audience and organisation as metadata, so that retrieval can filter by
section and citations read "NIDDK: Kidney Stones in Adults — Symptoms". Two sections are
derived per topic from the topic's own sentences (``consumer.yaml`` rules): "when to see a
doctor" and "self-care". The MedQuAD question wording is never indexed (it is the held-out
evaluation set).
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from knowledge.kb.sources import CONSUMER, Chunk, SourceUnavailableError, file_sha256
from knowledge.kb.sources import sections as sec

LICENCE = (
    "CC BY 4.0 (MedQuAD, Ben Abacha & Demner-Fushman 2019); answers are U.S. government "
    "(NIH, CDC) web text"
)
VERSION = "MedQuAD 2019 (abachaa/MedQuAD 577bd37)"
CHUNK_CHARS = 1000
"""Target characters per passage part; a part never exceeds :data:`MAX_CHUNK_CHARS`."""
MAX_CHUNK_CHARS = 1400
DERIVED_CHARS = 800
EMBED_CHARS = 220
LIST_ITEMS = 10
"""List items kept after a derived sentence that introduces a list ("For relief, try")."""
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9-])")


def data_path() -> Path:
    return Path(str(resources.files("knowledge.data.kb").joinpath("medquad.jsonl.gz")))


def config_path() -> Path:
    return Path(str(resources.files("knowledge.data.kb").joinpath("consumer.yaml")))


def read_records(path: Path | None = None) -> list[dict[str, Any]]:
    with gzip.open(path or data_path(), "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def split_text(text: str, target: int = CHUNK_CHARS, limit: int = MAX_CHUNK_CHARS) -> list[str]:
    """Parts of about ``target`` characters, cut between lines (list items, paragraphs) and,
    inside a line longer than ``limit``, between sentences; never empty."""
    units: list[str] = []
    for line in text.split("\n"):
        if len(line) <= limit:
            units.append(line)
            continue
        piece = ""
        for sentence in _SENTENCE.split(line):
            if piece and len(piece) + len(sentence) + 1 > target:
                units.append(piece)
                piece = ""
            piece = f"{piece} {sentence}".strip()
        if piece:
            units.append(piece)
    parts: list[str] = []
    current = ""
    for unit in units:
        if current and len(current) + len(unit) + 1 > target:
            parts.append(current)
            current = ""
        current = f"{current}\n{unit}" if current else unit
    if current:
        parts.append(current)
    return [p[:limit] for p in parts] or [text[:limit]]


def lines_and_sentences(text: str) -> list[str]:
    return [s.strip() for line in text.split("\n") for s in _SENTENCE.split(line) if s.strip()]


def derive(rule: sec.Rule, texts: list[str]) -> list[str]:
    """The sentences of ``texts`` a rule selects, in order, once each; a selected sentence that
    introduces a list (ends with ":" or without a full stop) brings the list items after it."""
    out: list[str] = []
    for text in texts:
        units = lines_and_sentences(text)
        i = 0
        while i < len(units):
            unit = units[i]
            i += 1
            if unit.startswith("- ") or not rule.matches(unit):
                if unit.startswith("- ") and rule.matches(unit) and unit not in out:
                    out.append(unit)
                continue
            if unit not in out:
                out.append(unit)
            if not unit.endswith((".", "!", "?")):
                n = 0
                while i < len(units) and units[i].startswith("- ") and n < LIST_ITEMS:
                    if units[i] not in out:
                        out.append(units[i])
                    i += 1
                    n += 1
    kept: list[str] = []
    used = 0
    for unit in out:
        if used + len(unit) + 1 > DERIVED_CHARS:
            break
        kept.append(unit)
        used += len(unit) + 1
    return kept


def embed_text(topic: str, section: str, text: str) -> str:
    first = lines_and_sentences(text)[:1]
    head = f"{topic} — {sec.label(section)}."
    return f"{head} {first[0] if first else ''}".strip()[:EMBED_CHARS]


class MedQuADSource:
    name = "medquad"
    licence = LICENCE

    def __init__(self, path: Path | None = None, *, topics: set[str] | None = None) -> None:
        """``topics``: only these topic names (case-insensitive), e.g. a test fixture slice."""
        self.path = path or data_path()
        if not self.path.is_file():
            raise SourceUnavailableError(f"MedQuAD passages not found at {self.path}")
        self.topics = {t.lower() for t in topics} if topics else None

    def version(self) -> str:
        return VERSION

    def fingerprint(self) -> str:
        extra = "medquad-v1" + ("|" + ",".join(sorted(self.topics)) if self.topics else "")
        return file_sha256(self.path, config_path(), extra=extra)

    def records(self) -> list[dict[str, Any]]:
        rows = read_records(self.path)
        if self.topics is not None:
            rows = [r for r in rows if r["topic"].lower() in self.topics]
        return rows

    def chunks(self) -> Iterator[Chunk]:
        orgs = sec.config()["organizations"]
        rules = sec.rules()
        by_topic: dict[str, list[dict[str, Any]]] = {}
        for rec in self.records():
            key = rec["id"].rsplit("_", 1)[0]  # <source>_<document>: one topic page
            by_topic.setdefault(key, []).append(rec)
        for topic_key, recs in by_topic.items():
            first = recs[0]
            org = orgs.get(first["source"], {})
            common = {
                "source": "medquad",
                "licence": LICENCE,
                "version": VERSION,
                "collection": CONSUMER,
                "topic": first["topic"],
                "audience": str(org.get("audience", "consumer")),
                "organization": str(org.get("short", first["source"])),
            }
            for rec in recs:
                section = sec.from_qtype(rec["qtype"])
                parts = split_text(rec["text"])
                for n, part in enumerate(parts, 1):
                    yield Chunk(
                        id=f"medquad:{rec['id']}" + (f"/{n}" if n > 1 else ""),
                        text=part,
                        title=f"{rec['topic']} — {sec.label(section)}",
                        type="qa",
                        identifier=rec["id"],
                        url=rec["url"],
                        section=section,
                        embed_text=embed_text(rec["topic"], section, part),
                        **common,
                    )
            for section, rule in rules.items():
                texts = [r["text"] for r in recs if not rule.qtypes or r["qtype"] in rule.qtypes]
                picked = derive(rule, texts)
                if not picked:
                    continue
                text = "\n".join(picked)
                suffix = "care" if section == sec.CARE else "selfcare"
                yield Chunk(
                    id=f"medquad:{topic_key}_{suffix}",
                    text=text,
                    title=f"{first['topic']} — {sec.label(section)}",
                    type="derived",
                    identifier=f"{topic_key}_{suffix}",
                    url=first["url"],
                    section=section,
                    embed_text=embed_text(first["topic"], section, text),
                    **common,
                )
