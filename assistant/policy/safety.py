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
    "PHI_WINDOW",
    "EthicsRule",
    "PHIRedactingFilter",
    "RedFlagRule",
    "Redaction",
    "asks_for_diagnosis",
    "asks_for_dosing",
    "asks_for_other_cases",
    "diagnosis_sentences",
    "dosing_sentences",
    "educational",
    "ethics_rules",
    "ethics_violation",
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


# --- PHI ----------------------------------------------------------------------------------------
# Detection lives in assistant/policy/phi.py (Presidio's analyzer beside the project's recognizers).


@dataclass
class Redaction:
    text: str
    kinds: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.kinds)


PHI_WINDOW = 2000
"""Characters of a message read for the audit log, which keeps its first 200 (redacting a
20,000-character pasted report in full takes ~1 s idle, several seconds on a loaded machine)."""


def redact_phi(text: str, *, window: int | None = None) -> Redaction:
    """Replace identifiers with ``[KIND]`` placeholders (for logs and audit, not the record).
    With ``window``, only the first ``window`` characters are read and returned."""
    from assistant.policy import phi

    if window is not None:
        text = text[:window]
    spans = phi.detect(text)
    kinds: list[str] = []
    for span in spans:
        if span.kind not in kinds:
            kinds.append(span.kind)
    return Redaction(phi.redact(text, spans), kinds)


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
    """Logging filter: every record's message, traceback and stack are redacted before any
    handler sees them (the traceback is formatted here, then dropped from the record, so no
    formatter can print the raw exception text)."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record still gets logged, its message redacted
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redact_phi(message).text
        record.args = None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = self._formatter.formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact_phi(record.exc_text).text
        if record.stack_info:
            record.stack_info = redact_phi(record.stack_info).text
        return True


# --- ethics: requests to deceive, dismiss, discriminate against, coerce or harm patients -------
@dataclass(frozen=True)
class EthicsRule:
    id: str
    principle: str
    patterns: tuple[re.Pattern[str], ...]
    unless: re.Pattern[str] | None = None


_ETHICS_KEYS = {"id", "principle", "patterns", "unless"}
_PRINCIPLES = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX")


def _expand(pattern: str, macros: dict[str, str]) -> str:
    for name, value in macros.items():
        pattern = pattern.replace("{" + name + "}", value)
    return pattern


@lru_cache(maxsize=1)
def ethics_rules() -> tuple[tuple[EthicsRule, ...], re.Pattern[str] | None]:
    """The ethics rules and the shared ``unless`` pattern (``assistant/data/ethics_rules.yaml``)."""
    raw = _load_yaml("ethics_rules.yaml")
    macros = {k: str(v) for k, v in (raw.get("macros") or {}).items()}
    shared = [_expand(p, macros) for p in raw.get("unless") or []]
    rules = []
    for entry in raw["rules"]:
        unknown = set(entry) - _ETHICS_KEYS
        if unknown or entry.get("principle") not in _PRINCIPLES:
            raise ValueError(
                f"ethics rule {entry.get('id')}: unknown keys {sorted(unknown)} or principle "
                f"not one of {', '.join(_PRINCIPLES)}"
            )
        rules.append(
            EthicsRule(
                id=entry["id"],
                principle=entry["principle"],
                patterns=tuple(re.compile(_expand(p, macros)) for p in entry["patterns"]),
                unless=_alt([_expand(p, macros) for p in entry["unless"]])
                if entry.get("unless")
                else None,
            )
        )
    return tuple(rules), (_alt(shared) if shared else None)


def ethics_violation(text: str) -> EthicsRule | None:
    """The first ethics rule the request breaks (None: none). Questions about handling,
    recognising or reporting such conduct are not violations."""
    norm = normalize(text)
    rules, shared = ethics_rules()
    if shared is not None and shared.search(norm):
        return None
    for rule in rules:
        if rule.unless is not None and rule.unless.search(norm):
            continue
        if any(p.search(norm) for p in rule.patterns):
            return rule
    return None
