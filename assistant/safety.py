"""Safety checks that run before and after any model: red flags, PHI, injection, scope.

The rules are data (``assistant/data/red_flags.yaml``, ``safety_rules.yaml``); this module
only compiles and applies them.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

FLAGS = re.IGNORECASE


@dataclass(frozen=True)
class RedFlagRule:
    id: str
    name: str
    groups: tuple[re.Pattern[str], ...]
    unless: re.Pattern[str] | None
    examples: tuple[str, ...] = ()

    def matches(self, text: str) -> bool:
        if self.unless is not None and self.unless.search(text):
            return False
        return all(group.search(text) for group in self.groups)


def _alt(patterns: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), FLAGS)


def _load_yaml(name: str) -> Any:
    return yaml.safe_load(resources.files("assistant.data").joinpath(name).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def red_flag_rules() -> tuple[RedFlagRule, ...]:
    rules = []
    for raw in _load_yaml("red_flags.yaml"):
        unknown = set(raw) - {"id", "name", "all", "unless", "examples"}
        if unknown:
            raise ValueError(f"red flag rule {raw.get('id')}: unknown keys {sorted(unknown)}")
        rules.append(
            RedFlagRule(
                id=raw["id"],
                name=raw["name"],
                groups=tuple(_alt(g) for g in raw["all"]),
                unless=_alt(raw["unless"]) if raw.get("unless") else None,
                examples=tuple(raw.get("examples", [])),
            )
        )
    return tuple(rules)


@lru_cache(maxsize=1)
def _rules() -> dict[str, re.Pattern[str]]:
    raw = _load_yaml("safety_rules.yaml")
    return {key: _alt(patterns) for key, patterns in raw.items()}


def red_flags(text: str) -> list[RedFlagRule]:
    """Red-flag rules the text triggers (empty list: none)."""
    norm = " ".join(text.split())
    return [rule for rule in red_flag_rules() if rule.matches(norm)]


def is_injection(text: str) -> bool:
    return bool(_rules()["injection"].search(text))


def asks_for_other_cases(text: str) -> bool:
    return bool(_rules()["other_cases"].search(text))


def asks_for_dosing(text: str) -> bool:
    return bool(_rules()["dosing_request"].search(text))


def asks_for_diagnosis(text: str) -> bool:
    return bool(_rules()["diagnosis_request"].search(text))


# --- PHI (HIPAA Safe Harbor identifiers that can be found in free text) ---------------------
_MONTHS = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|jun(?:e)?|jul(?:y)?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_PHI_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("EMAIL", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")),
    ("URL", re.compile(r"\bhttps?://\S+|\bwww\.\S+", FLAGS)),
    ("SSN", re.compile(r"\b\d{3}-\d{2}-\d{4}\b")),
    ("MRN", re.compile(r"\b(?:MRN|medical record(?: number)?|record no\.?|patient id|acct|account)\s*[:#]?\s*[A-Z0-9-]{4,}\b", FLAGS)),
    ("PHONE", re.compile(r"(?<!\w)(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}\b")),
    ("IP", re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")),
    ("DATE", re.compile(r"\b\d{1,2}[/-]\d{1,2}[/-]\d{2,4}\b|\b\d{4}-\d{2}-\d{2}\b")),
    ("DATE", re.compile(rf"\b{_MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b|\b\d{{1,2}}\s+{_MONTHS}\.?\s+\d{{4}}\b", FLAGS)),
    ("DOB", re.compile(r"\b(?:DOB|date of birth|born)\s*[:]?\s*\S+(?:\s+\d{1,2},?\s+\d{4})?", FLAGS)),
    ("ADDRESS", re.compile(r"\b\d{1,5}\s+(?:[A-Z][a-z]+\s+){1,3}(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl)\b\.?")),
    ("ZIP", re.compile(r"\b\d{5}(?:-\d{4})\b")),
    ("AGE", re.compile(r"\b(?:9\d|1[0-2]\d)[-\s](?:year|yr)s?[-\s]old\b", FLAGS)),
    ("NAME", re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Dr|Mx)\.?\s+[A-Z][a-zA-Z'-]+(?:\s+[A-Z][a-zA-Z'-]+)?")),
    ("NAME", re.compile(r"\b(?:patient(?:'s)? name|name|patient)\s*(?:is|:)\s*[A-Z][a-zA-Z'-]+(?:\s+[A-Z][a-zA-Z'-]+)?")),
    ("NAME", re.compile(r"\b(?:my name is|i am|i'm)\s+[A-Z][a-z'-]+(?:\s+[A-Z][a-z'-]+)?\b")),
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
    if isinstance(value, list):
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
        return True
