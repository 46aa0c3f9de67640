"""Safety checks that run before and after any model: red flags, PHI, injection, scope.

The rules are data (``assistant/data/red_flags.yaml``, ``safety_rules.yaml``); this module
only compiles and applies them. Every check works on :func:`normalize`d text, so curly quotes,
zero-width characters, odd case and the common misspellings listed in ``safety_rules.yaml``
do not get past it.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

FLAGS = re.IGNORECASE

__all__ = [
    "PHIRedactingFilter",
    "RedFlagRule",
    "Redaction",
    "asks_for_diagnosis",
    "asks_for_dosing",
    "asks_for_other_cases",
    "diagnosis_sentences",
    "dosing_sentences",
    "educational",
    "is_injection",
    "neutralize",
    "normalize",
    "red_flag_rules",
    "red_flags",
    "redact_phi",
    "redact_value",
    "split_sentences",
]

_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_QUOTES = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u02bc": "'", "`": "'", "\u201c": '"', "\u201d": '"'}
)

# Negation just before a match, in the same clause, cancels that match.
_CLAUSE_END = re.compile(r"[.;:!?\n]|\b(?:but|however|although|though|except)\b")
_NEG_WIDE = re.compile(
    r"\b(?:no(?!\s*[,.!])|denies|denied|deny|denying|without|negative\s+for|free\s+of|absence\s+of|"
    r"ruled\s+out|(?:do|does|did)\s*n.?t\s+have|not\s+have|never\s+had)\b(?:\W+\w+){0,5}\W*$"
)
_NEG_NARROW = re.compile(r"\b(?:not|never|no\s+longer)\W+(?:\w+\W+)?$")
# A purely educational question ("what is anaphylaxis?") with nobody in it.
_EDUCATIONAL = re.compile(
    r"^\W*(what|what.?s|whats|define|explain|describe|tell\s+me\s+about|how\s+(is|are|do|does|to|common)|"
    r"why|which|list|can\s+you\s+explain|is\s+there|are\s+there)\b"
)
_PERSON = re.compile(
    r"\b(i|i'm|i've|i'd|me|my|mine|myself|we|our|us|he|she|his|her|him|they|them|their|"
    r"someone|somebody|son|daughter|wife|husband|mum|mom|dad|baby|kid|child|toddler|friend|pt|patient)\b"
)


@lru_cache(maxsize=1)
def _typos() -> tuple[tuple[re.Pattern[str], str], ...]:
    raw = _load_yaml("safety_rules.yaml").get("typos", {}) or {}
    return tuple(
        (re.compile(rf"(?<![\w']){re.escape(k)}(?![\w'])"), str(v)) for k, v in raw.items()
    )


def normalize(text: str) -> str:
    """Lower case, NFKC, straight quotes, no zero-width characters, common typos fixed."""
    out = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    out = _ZERO_WIDTH.sub("", out).lower()
    out = " ".join(out.split())
    for pattern, canon in _typos():
        out = pattern.sub(canon, out)
    return out


def _negated(text: str, start: int) -> bool:
    prefix = text[:start]
    cut = 0
    for m in _CLAUSE_END.finditer(prefix):
        cut = m.end()
    clause = prefix[cut:]
    return bool(_NEG_WIDE.search(clause) or _NEG_NARROW.search(clause))


def educational(text: str) -> bool:
    """A general question about a topic, with no person in it (normalised text)."""
    return bool(_EDUCATIONAL.match(text)) and not _PERSON.search(text)


@dataclass(frozen=True)
class RedFlagRule:
    id: str
    name: str
    groups: tuple[re.Pattern[str], ...]
    unless: re.Pattern[str] | None
    examples: tuple[str, ...] = ()
    near_misses: tuple[str, ...] = ()
    fire_on_educational: bool = False

    def matches(self, text: str) -> bool:
        """``text`` must already be :func:`normalize`d."""
        if self.unless is not None and self.unless.search(text):
            return False
        if not self.fire_on_educational and educational(text):
            return False
        return all(
            any(not _negated(text, m.start()) for m in group.finditer(text))
            for group in self.groups
        )


def _alt(patterns: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), FLAGS)


def _load_yaml(name: str) -> Any:
    return yaml.safe_load(
        resources.files("assistant.data").joinpath(name).read_text(encoding="utf-8")
    )


_RULE_KEYS = {"id", "name", "all", "unless", "examples", "near_misses", "educational"}


@lru_cache(maxsize=1)
def red_flag_rules() -> tuple[RedFlagRule, ...]:
    rules = []
    for raw in _load_yaml("red_flags.yaml"):
        unknown = set(raw) - _RULE_KEYS
        if unknown:
            raise ValueError(
                f"red flag rule {raw.get('id')}: unknown keys {sorted(unknown)}; valid: {sorted(_RULE_KEYS)}"
            )
        if raw.get("educational", "skip") not in ("skip", "fire"):
            raise ValueError(f"red flag rule {raw['id']}: educational must be 'skip' or 'fire'")
        rules.append(
            RedFlagRule(
                id=raw["id"],
                name=raw["name"],
                groups=tuple(_alt(g) for g in raw["all"]),
                unless=_alt(raw["unless"]) if raw.get("unless") else None,
                examples=tuple(raw.get("examples", [])),
                near_misses=tuple(raw.get("near_misses", [])),
                fire_on_educational=raw.get("educational", "skip") == "fire",
            )
        )
    ids = [r.id for r in rules]
    if len(ids) != len(set(ids)):
        raise ValueError("red_flags.yaml: duplicate rule ids")
    return tuple(rules)


_RULE_SETS = (
    "injection",
    "other_cases",
    "dosing_request",
    "diagnosis_request",
    "individual_dosing_output",
    "individual_diagnosis_output",
)


@lru_cache(maxsize=1)
def _rules() -> dict[str, re.Pattern[str]]:
    raw = _load_yaml("safety_rules.yaml")
    unknown = set(raw) - set(_RULE_SETS) - {"typos"}
    if unknown:
        raise ValueError(
            f"safety_rules.yaml: unknown keys {sorted(unknown)}; valid: {sorted(_RULE_SETS)}, typos"
        )
    return {key: _alt(raw[key]) for key in _RULE_SETS}


def red_flags(text: str) -> list[RedFlagRule]:
    """Red-flag rules the text triggers (empty list: none)."""
    norm = normalize(text)
    return [rule for rule in red_flag_rules() if rule.matches(norm)]


def is_injection(text: str) -> bool:
    """Text that tries to change the assistant's instructions or role."""
    return bool(_rules()["injection"].search(normalize(text)))


def asks_for_other_cases(text: str) -> bool:
    return bool(_rules()["other_cases"].search(normalize(text)))


def asks_for_dosing(text: str) -> bool:
    return bool(_rules()["dosing_request"].search(normalize(text)))


def asks_for_diagnosis(text: str) -> bool:
    return bool(_rules()["diagnosis_request"].search(normalize(text)))


_INSTRUCTION_MARK = "[instruction removed]"


def neutralize(text: str) -> tuple[str, bool]:
    """Defang injected instructions inside data (reports, retrieved passages, findings).

    Sentences that contain an injection pattern are replaced by a marker, and chat-template
    tokens are removed, so the text can be shown to a model as data. Returns (text, changed).
    """
    pattern = _rules()["injection"]
    changed = False
    out: list[str] = []
    for sentence in split_sentences(text, keep_empty=True):
        if pattern.search(normalize(sentence)):
            out.append(_INSTRUCTION_MARK)
            changed = True
        else:
            out.append(sentence)
    joined = " ".join(out)
    cleaned = re.sub(r"<\|?[a-z_/]{1,20}\|?>", " ", joined, flags=FLAGS)
    changed = changed or cleaned != joined
    for _ in range(3):  # an instruction split across sentences or lines is caught as a whole
        norm = normalize(cleaned)
        if not pattern.search(norm):
            break
        cleaned, changed = pattern.sub(_INSTRUCTION_MARK, norm), True
    return (cleaned, True) if changed else (text, False)


_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9-])|\n+")


def split_sentences(text: str, *, keep_empty: bool = False) -> list[str]:
    """Sentences (and list items / lines) of a text, stripped."""
    parts = [p.strip() for p in _SENTENCE.split(text)]
    return parts if keep_empty else [p for p in parts if p]


def dosing_sentences(text: str) -> list[str]:
    """Sentences that state a dose, a schedule or a medication change (patient-mode output check)."""
    pattern = _rules()["individual_dosing_output"]
    return [s for s in split_sentences(text) if pattern.search(normalize(s))]


def diagnosis_sentences(text: str) -> list[str]:
    """Sentences that tell the reader what they have (patient-mode output check)."""
    pattern = _rules()["individual_diagnosis_output"]
    return [s for s in split_sentences(text) if pattern.search(normalize(s))]


# --- PHI (HIPAA Safe Harbor identifiers that can be found in free text) ---------------------
_MONTHS = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|jun(?:e)?|jul(?:y)?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_ID = r"[A-Z0-9][A-Z0-9-]{3,}"
_NAME = r"[A-Z][a-zA-Z'-]+(?:\s+[A-Z]\.)?(?:\s+[A-Z][a-zA-Z'-]+)?"
_STREET = r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Close|Crescent|Square|Sq|Highway|Hwy|Parkway|Pkwy)"
_NOT_NAMES = (
    r"(?!(?:The|This|That|There|Here|Having|Feeling|Not|No|Very|So|Also|Just|Still|Now|Taking|On|In|A|An|"
    r"Diabetic|Pregnant|Allergic|Asthmatic|Worried|Sure|Okay|Ok|Fine|Sick|Unable|Stable|Afebrile)\b)"
)
_PHI_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("EMAIL", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")),
    ("URL", re.compile(r"\bhttps?://\S+|\bwww\.\S+", FLAGS)),
    (
        "SSN",
        re.compile(
            r"\b\d{3}-\d{2}-\d{4}\b|\b(?:SSN|social security(?: number| no\.?)?)\s*[:#]?\s*\d{9}\b",
            FLAGS,
        ),
    ),
    (
        "MRN",
        re.compile(
            rf"\b(?:MRN|medical record(?: number| no\.?)?|record no\.?|patient id|hospital (?:number|no\.?)|NHS (?:number|no\.?)|chart (?:number|no\.?))\s*(?:is\s+)?[:#]?\s*{_ID}\b",
            FLAGS,
        ),
    ),
    (
        "HEALTH_PLAN",
        re.compile(
            rf"\b(?:member id|insurance (?:id|number|no\.?)|policy (?:number|no\.?)|medicare (?:number|no\.?)|medicaid (?:number|no\.?)|beneficiary (?:id|number))\s*(?:is\s+)?[:#]?\s*{_ID}\b",
            FLAGS,
        ),
    ),
    (
        "ACCOUNT",
        re.compile(rf"\b(?:acct|account(?: number| no\.?)?)\s*(?:is\s+)?[:#]?\s*{_ID}\b", FLAGS),
    ),
    (
        "LICENSE",
        re.compile(
            rf"\b(?:licen[cs]e(?: number| no\.?)?|DEA(?: number)?|NPI|certificate(?: number| no\.?)?|passport(?: number| no\.?)?)\s*(?:is\s+)?[:#]?\s*{_ID}\b",
            FLAGS,
        ),
    ),
    (
        "VEHICLE",
        re.compile(
            rf"\b(?:VIN|licen[cs]e plate|plate number|registration)\s*(?:is\s+)?[:#]?\s*{_ID}\b",
            FLAGS,
        ),
    ),
    (
        "DEVICE",
        re.compile(
            rf"\b(?:serial(?: number| no\.?)?|device id|s/n)\s*(?:is\s+)?[:#]?\s*{_ID}\b", FLAGS
        ),
    ),
    (
        "PHONE",
        re.compile(
            r"(?<!\w)(?:\+?\d{1,3}[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}\b|(?<!\w)\+44\s?\d{4}\s?\d{6}\b|\b(?:tel|phone|fax|mobile|cell)\s*[:#]?\s*\+?[\d\s().-]{7,}\d",
            FLAGS,
        ),
    ),
    ("IP", re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")),
    ("DATE", re.compile(r"\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b|\b\d{4}-\d{2}-\d{2}\b")),
    (
        "DATE",
        re.compile(
            rf"\b{_MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?\b|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS}\.?(?:,?\s+\d{{4}})?\b",
            FLAGS,
        ),
    ),
    (
        "DOB",
        re.compile(
            r"\b(?:DOB|D\.O\.B\.?|date of birth|born on|birthday(?: is)?)\s*[:]?\s*\S+(?:\s+\d{1,2},?\s+\d{4})?",
            FLAGS,
        ),
    ),
    (
        "ADDRESS",
        re.compile(
            rf"\b\d{{1,5}}\s+(?:[A-Z][a-z]+\s+){{1,3}}{_STREET}\b\.?(?:,?\s+(?:Apt|Unit|Suite)\s*\w+)?(?:,\s*[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)?"
        ),
    ),
    (
        "ADDRESS",
        re.compile(
            r"\b(?:I live (?:at|on|in)|lives (?:at|on|in)|address(?: is)?\s*:?)\s+[A-Z0-9][\w\s,.-]{3,60}?(?=[.;\n]|$)"
        ),
    ),
    (
        "ZIP",
        re.compile(
            r"\b\d{5}-\d{4}\b|\b(?:zip(?: code)?|postcode|postal code)\s*[:#]?\s*[A-Z0-9]{3,4}\s?[A-Z0-9]{0,3}\b",
            FLAGS,
        ),
    ),
    ("ZIP", re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s+\d[A-Z]{2}\b")),  # UK postcodes
    (
        "AGE",
        re.compile(
            r"\b(?:9\d|1[0-2]\d)\s*(?:-\s*)?(?:years?|yrs?|y/?o|y\.o\.)(?:[-\s]old)?\b|\b(?:aged?|age:)\s*(?:9\d|1[0-2]\d)\b",
            FLAGS,
        ),
    ),
    ("NAME", re.compile(rf"\b(?:Mr|Mrs|Ms|Miss|Dr|Mx|Prof)\.?\s+{_NAME}")),
    (
        "NAME",
        re.compile(
            rf"\b(?:[Pp]atient(?:'s)? name|[Nn]ame|[Pp]atient|[Pp]t)\s*(?:is|:|-)\s*{_NOT_NAMES}{_NAME}"
        ),
    ),
    (
        "NAME",
        re.compile(
            rf"\b(?:[Mm]y name is|[Tt]his is|[Cc]all me|[Ii] am|[Ii]'m)\s+{_NOT_NAMES}[A-Z][a-z'-]+(?:\s+[A-Z][a-z'-]+)?\b"
        ),
    ),
    (
        "NAME",
        re.compile(
            rf"\b(?:[Mm]y|[Hh]is|[Hh]er)\s+(?:son|daughter|wife|husband|mother|father|mum|mom|dad|brother|sister|child|baby|partner)\s+{_NOT_NAMES}[A-Z][a-z'-]+(?:\s+[A-Z][a-z'-]+)?\b"
        ),
    ),
    (
        "NAME",
        re.compile(
            rf"\b(?:[Ss]igned|[Dd]ictated by|[Ee]lectronically signed by|[Rr]eferring physician|[Aa]ttending)\s*:?\s*(?:Dr\.?\s+)?{_NAME}"
        ),
    ),
]


@dataclass
class Redaction:
    text: str
    kinds: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.kinds)


def redact_phi(text: str) -> Redaction:
    """Replace identifiers with ``[KIND]`` placeholders (for logs and audit, not the record)."""
    kinds: list[str] = []
    out = text
    for kind, pattern in _PHI_PATTERNS:
        out, n = pattern.subn(f"[{kind}]", out)
        if n and kind not in kinds:
            kinds.append(kind)
    return Redaction(out, kinds)


def redact_value(value: Any) -> Any:
    """Redact strings anywhere inside JSON-like data."""
    if isinstance(value, str):
        return redact_phi(value).text
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    return value


class PHIRedactingFilter(logging.Filter):
    """Logging filter: every record's message is redacted before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record still gets logged, unformatted
            return True
        record.msg = redact_phi(message).text
        record.args = None
        if record.exc_text:
            record.exc_text = redact_phi(record.exc_text).text
        return True
