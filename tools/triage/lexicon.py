"""The triage rules as data: concepts (what a person can report), question topics, rules and
protocols, loaded from ``tools/triage/data/*.yaml``, validated and compiled once per process.

Every clinical statement lives in the data files, each rule with the public guidance it follows
(``source``). This module only checks that the files are consistent: every rule names known
concepts, every complaint has a protocol, every protocol asks about known things.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from assistant.core.schema import TRIAGE_LEVELS, TRIAGE_RANK, TriageLevel

DATA_DIR = Path(__file__).resolve().parent / "data"
Level = TriageLevel
LEVELS = TRIAGE_LEVELS
RANK = TRIAGE_RANK
# Facts that are values, not concepts: rules test them, protocols may ask about them.
VALUE_FACTS = ("age", "duration", "severity", "temperature")
AGE_GROUPS = ("infant", "child", "adult", "older")
NOT_RECOGNISED = "(not recognised)"
"""What the catch-all complaint records as said: nothing in the story was recognised."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Benign(_Strict):
    """A description that answers a warning sign of the topic with no: the typical look of a
    named illness already told (``when``), such as chickenpox's blisters and scabs, which are
    not the flat spots of a rash that does not fade under a glass. Only with a public source."""

    when: list[str]  # illnesses, one of which must be present in the episode
    described: str  # a regular expression over the answer
    closes: list[str]  # the warning signs such a description answers no
    source: str


class Topic(_Strict):
    """What a question is about (the vocabulary the vignette set's scripted answers use)."""

    id: str
    kind: Literal["yes_no", "value"]
    question: str
    followup: str | None = None  # asked instead when the topic's complaint is already known
    benign: Benign | None = None


class Concept(_Strict):
    """Something a person can report: a complaint, a sign (discriminator) or a risk factor."""

    id: str
    name: str  # in a patient's words: used in reasons and safety-netting
    # complaint: a reason to write; sign: a warning sign (asked about); modifier: qualifies
    # another fact ("came on suddenly"), never a reason on its own; risk: about the person
    kind: Literal["complaint", "sign", "modifier", "risk"]
    topic: str | None = None  # the question topic that settles it
    hpo: str | None = None  # Human Phenotype Ontology id, where one fits
    hpo_name: str | None = None
    hpo_more: tuple[str, ...] = ()  # more HPO terms whose vocabulary maps onto this concept
    hpo_vocabulary: bool = True  # False: the HPO term is broader than the concept (no mapping)
    hpo_exclude: tuple[str, ...] = ()  # HPO phrases that must not map onto it (with a reason)
    patterns: tuple[str, ...] = ()
    applies: dict[str, Any] = Field(default_factory=dict)  # e.g. {sex: female}: ask only then
    # concepts that, told present in the same message, cancel this one ("oven" is no heat burn in
    # "oven cleaner", nor "kettle" in "an electric shock from the kettle")
    unless: tuple[str, ...] = ()

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for p in value:
            re.compile(p)
        return value


_COND_KEYS = {
    "all",
    "any",
    "none",
    "age_lt",
    "age_gte",
    "age_group",
    "duration_gte",
    "duration_lt",
    "severity_gte",
    "temperature_gte",
    "sex",
    "subject",
}


class Condition(_Strict):
    """All given tests must hold. Ages in years, durations in days, temperatures in C."""

    all: tuple[str, ...] = ()
    any: tuple[str, ...] = ()
    none: tuple[str, ...] = ()
    age_lt: float | None = None
    age_gte: float | None = None
    age_group: tuple[str, ...] = ()
    duration_gte: float | None = None
    duration_lt: float | None = None
    severity_gte: float | None = None
    temperature_gte: float | None = None
    sex: Literal["female", "male"] | None = None
    subject: Literal["self", "other"] | None = None

    def concepts(self) -> set[str]:
        return {*self.all, *self.any, *self.none}

    def values(self) -> set[str]:
        out = set()
        if self.age_lt is not None or self.age_gte is not None or self.age_group:
            out.add("age")
        if self.duration_gte is not None or self.duration_lt is not None:
            out.add("duration")
        if self.severity_gte is not None:
            out.add("severity")
        if self.temperature_gte is not None:
            out.add("temperature")
        return out


class Rule(_Strict):
    id: str
    level: Level
    when: Condition
    reason: str  # why, in a patient's words ("a sore throat with drooling")
    source: str  # the public guidance the rule follows
    assume: bool = False  # still undecided after asking: treat as met (else one level lower)


class Protocol(_Strict):
    """What to check for one complaint before a level below the worst is safe."""

    complaint: str
    ask: tuple[str, ...]  # concept ids and value facts, most important first
    review: str | None = None  # "1 week": see a doctor if not better by then (safety-netting)
    source: str


class Lexicon(_Strict):
    topics: dict[str, Topic]
    concepts: dict[str, Concept]
    rules: tuple[Rule, ...]
    protocols: dict[str, Protocol]
    general_ask: tuple[str, ...]  # screened for every complaint
    # screened for every complaint of a baby under 1 (NICE NG143: a baby who is not responding
    # normally or is hard to wake is red whatever the complaint)
    infant_ask: tuple[str, ...] = ()
    # catch-all complaints whose warning signs stay relevant beside a named complaint when the
    # person said them in their own words ("not feeling myself")
    said_generic: tuple[str, ...] = ()
    generic: tuple[str, ...]  # catch-all complaints, ignored when a specific one is present
    typos: dict[str, str]
    # (phrase, concept) from the HPO vocabulary (data/hpo_vocabulary.json, tools/triage/hpo.py)
    hpo_phrases: tuple[tuple[str, str], ...] = ()
    # the plain-words part of it (layperson synonyms, the concepts' own terms): semantic matching
    hpo_lay: tuple[tuple[str, str], ...] = ()
    compiled: dict[str, tuple[re.Pattern[str], ...]] = Field(default_factory=dict, exclude=True)
    # per compiled pattern: literals one of which must occur in the text (None: always run)
    leads: dict[str, tuple[frozenset[str] | None, ...]] = Field(default_factory=dict, exclude=True)
    # objects derived from this lexicon on first use (phrase index, speller, rule index, ...)
    cache: dict[str, Any] = Field(default_factory=dict, exclude=True)
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    @model_validator(mode="after")
    def _consistent(self) -> Lexicon:
        known = set(self.concepts)
        for c in self.concepts.values():
            if c.topic is not None and c.topic not in self.topics:
                raise ValueError(f"concept {c.id}: unknown topic {c.topic!r}")
            if c.kind not in ("risk", "modifier") and not c.patterns:
                raise ValueError(f"concept {c.id}: no patterns")
            if set(c.unless) - known:
                raise ValueError(f"concept {c.id}: unknown concepts in unless {c.unless}")
        ids = [r.id for r in self.rules]
        if len(ids) != len(set(ids)):
            raise ValueError("rules.yaml: duplicate rule ids")
        for r in self.rules:
            unknown = r.when.concepts() - known
            if unknown:
                raise ValueError(f"rule {r.id}: unknown concepts {sorted(unknown)}")
            bad_groups = set(r.when.age_group) - set(AGE_GROUPS)
            if bad_groups:
                raise ValueError(f"rule {r.id}: unknown age groups {sorted(bad_groups)}")
        complaints = {c.id for c in self.concepts.values() if c.kind == "complaint"}
        missing = complaints - set(self.protocols)
        if missing:
            raise ValueError(f"complaints without a protocol: {sorted(missing)}")
        for p in self.protocols.values():
            if p.complaint not in complaints:
                raise ValueError(f"protocol for unknown complaint {p.complaint!r}")
            bad = [a for a in p.ask if a not in known and a not in VALUE_FACTS]
            if bad:
                raise ValueError(f"protocol {p.complaint}: asks about unknown {bad}")
        bad = [
            a
            for a in (*self.general_ask, *self.infant_ask)
            if a not in known and a not in VALUE_FACTS
        ]
        if bad:
            raise ValueError(f"general_ask/infant_ask: unknown {bad}")
        for t in self.topics.values():
            if t.benign is None:
                continue
            names = [c for c in (*t.benign.when, *t.benign.closes) if c not in self.concepts]
            wrong = [c for c in t.benign.closes if self.concepts[c].topic != t.id]
            if names or wrong:
                raise ValueError(f"topic {t.id}: benign names unknown {names} or {wrong}")
            re.compile(t.benign.described)
        return self

    def topic_of(self, item: str) -> str | None:
        """The question topic for a concept id or a value fact."""
        if item in VALUE_FACTS:
            return {"severity": "pain_severity", "temperature": "fever"}.get(item, item)
        return self.concepts[item].topic


def _read(name: str, data_dir: Path) -> Any:
    return yaml.safe_load((data_dir / name).read_text(encoding="utf-8"))


def build_lexicon(data_dir: Path = DATA_DIR) -> Lexicon:
    topics_raw = _read("topics.yaml", data_dir)
    concepts_raw = _read("concepts.yaml", data_dir)
    rules_raw = _read("rules.yaml", data_dir)
    topics = {k: Topic(id=k, **v) for k, v in topics_raw["topics"].items()}
    concepts: dict[str, Concept] = {}
    for raw in concepts_raw["concepts"]:
        c = Concept(**raw)
        if c.id in concepts:
            raise ValueError(f"concepts.yaml: duplicate concept {c.id!r}")
        concepts[c.id] = c
    protocols = {}
    for raw in rules_raw["protocols"]:
        p = Protocol(**raw)
        protocols[p.complaint] = p
    lex = Lexicon(
        topics=topics,
        concepts=concepts,
        rules=tuple(Rule(**r) for r in rules_raw["rules"]),
        protocols=protocols,
        general_ask=tuple(rules_raw.get("general_ask", [])),
        infant_ask=tuple(rules_raw.get("infant_ask", [])),
        said_generic=tuple(rules_raw.get("said_generic", [])),
        generic=tuple(rules_raw.get("generic_complaints", [])),
        typos={str(k): str(v) for k, v in (concepts_raw.get("typos") or {}).items()},
        hpo_phrases=_hpo_phrases(data_dir, concepts),
        hpo_lay=_hpo_phrases(data_dir, concepts, lay=True),
    )
    compiled = {
        c.id: tuple(re.compile(p) for p in c.patterns) for c in concepts.values() if c.patterns
    }
    lex.compiled.update(compiled)
    lex.leads.update(
        {
            cid: tuple(leading_literals(p) for p in c.patterns)
            for cid, c in concepts.items()
            if c.patterns
        }
    )
    return lex


def _hpo_phrases(
    data_dir: Path, concepts: dict[str, Concept], *, lay: bool = False
) -> tuple[tuple[str, str], ...]:
    from tools.triage.hpo import load

    rows = [r for r in load(data_dir) if not lay or r.get("lay") or r.get("own")]
    unknown = sorted({r["concept"] for r in rows} - set(concepts))
    if unknown:
        raise ValueError(f"hpo_vocabulary.json: unknown concepts {unknown}: regenerate it")
    return tuple((r["phrase"], r["concept"]) for r in rows)


_DATA_DIR_OVERRIDE: list[Path] = []


def use_data_dir(path: Path | None) -> None:
    """Read the rules from another folder from now on (None: the shipped ones). For
    evaluations that roll the data back to an earlier version (``assistant/evals/triage_loso.py``)."""
    _DATA_DIR_OVERRIDE[:] = [path] if path is not None else []
    lexicon.cache_clear()


def data_dir() -> Path:
    return _DATA_DIR_OVERRIDE[0] if _DATA_DIR_OVERRIDE else DATA_DIR


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """The shipped rules (cached)."""
    return build_lexicon(data_dir())


def _outside_classes(p: str, i: int = 0) -> Iterator[tuple[int, str]]:
    """(index, character) of each character of ``p`` from ``i`` that is not escaped (``\\x``) and
    not inside a character class (``[...]``): the ones that can open, close or split a group."""
    j = i
    while j < len(p):
        c = p[j]
        if c == "\\":
            j += 2
            continue
        if c == "[":
            j = p.index("]", j + 1) + 1
            continue
        yield j, c
        j += 1


def _group_end(p: str, i: int) -> int:
    """Index of the ')' closing the group that opens at p[i] ('(')."""
    depth = 0
    for j, c in _outside_classes(p, i):
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return j
    raise ValueError("unbalanced pattern")


def _split_alternatives(body: str) -> list[str]:
    out, depth, start = [], 0, 0
    for j, c in _outside_classes(body):
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            out.append(body[start:j])
            start = j + 1
    out.append(body[start:])
    return out


def leading_literals(pattern: str) -> frozenset[str] | None:
    """Literal text one of which every match must start with ("\\bsore\\s+throat" -> {"sore"}),
    or None when that cannot be read off the pattern safely. Used to skip patterns whose
    literals do not occur in a message (a substring test is far cheaper than a regex scan)."""
    alternatives = _split_alternatives(pattern)
    if len(alternatives) > 1:
        return _leading_of_all(alternatives)
    p = pattern
    while True:
        if p.startswith("\\b"):
            p = p[2:]
        elif p.startswith("(?<!") or p.startswith("(?<="):
            p = p[_group_end(p, 0) + 1 :]
        else:
            break
    if not p:
        return None
    if p[0].isalpha():
        k = 0
        while k < len(p) and (p[k].isalpha() or p[k] == "'"):
            k += 1
        word = p[:k]
        if k < len(p) and p[k] in "?*{":
            word = word[:-1]
        return frozenset([word]) if len(word) >= 2 else None
    if p.startswith("(?:"):
        end = _group_end(p, 0)
        if end + 1 < len(p) and p[end + 1] in "?*{":
            return None
        return _leading_of_all(_split_alternatives(p[3:end]))
    return None


def _leading_of_all(alternatives: list[str]) -> frozenset[str] | None:
    """The union of the alternatives' leading literals, or None when one has none."""
    out: set[str] = set()
    for alt in alternatives:
        lits = leading_literals(alt)
        if lits is None:
            return None
        out |= lits
    return frozenset(out)
