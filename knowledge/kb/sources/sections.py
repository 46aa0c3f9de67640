"""Sections of consumer-health passages: keys, labels, MedQuAD question types, the cue words
that mark a question asking for a section, and the rules that derive the "when to see a doctor"
and "self-care" sections. All of it is data in ``knowledge/data/kb/consumer.yaml``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

CARE = "when-to-see-a-doctor"
SELF_CARE = "self-care"


@dataclass(frozen=True)
class Rule:
    action: re.Pattern[str]
    condition: re.Pattern[str] | None
    exclude: re.Pattern[str] | None
    qtypes: tuple[str, ...] = ()

    def matches(self, sentence: str) -> bool:
        return bool(
            self.action.search(sentence)
            and (self.condition is None or self.condition.search(sentence))
            and not (self.exclude is not None and self.exclude.search(sentence))
        )


def _pattern(text: str | None) -> re.Pattern[str] | None:
    """A regex from the YAML (folded lines joined: the space before each ``|`` is dropped)."""
    if not text:
        return None
    return re.compile(re.sub(r"\s+\|", "|", str(text).strip()), re.I)


@lru_cache(maxsize=1)
def config() -> dict[str, Any]:
    text = (
        resources.files("knowledge.data.kb").joinpath("consumer.yaml").read_text(encoding="utf-8")
    )
    return dict(yaml.safe_load(text))


def keys() -> tuple[str, ...]:
    return tuple(config()["sections"])


def label(key: str) -> str:
    """``symptoms`` -> ``Symptoms``; an unknown key is returned as it is."""
    entry = config()["sections"].get(key)
    return str(entry["label"]) if entry else key


@lru_cache(maxsize=1)
def _by_qtype() -> dict[str, str]:
    return {q: key for key, e in config()["sections"].items() for q in e.get("qtypes", [])}


def from_qtype(qtype: str) -> str:
    """MedQuAD question type -> section key (unknown types: ``information``)."""
    return _by_qtype().get(qtype.strip().lower(), "information")


def normalize(name: str) -> str | None:
    """A section given by key or label, any case, with spaces, hyphens or underscores
    ("When to see a doctor", "when_to_see_a_doctor") -> its key; None if unknown."""
    want = re.sub(r"[\s_-]+", "-", name.strip().lower())
    for key in keys():
        if want in (key, re.sub(r"[\s_-]+", "-", label(key).lower())):
            return key
    return None


@lru_cache(maxsize=1)
def rules() -> dict[str, Rule]:
    out = {}
    for key, spec in config()["derived"].items():
        action = _pattern(spec["action"])
        assert action is not None
        out[key] = Rule(
            action,
            _pattern(spec.get("condition")),
            _pattern(spec.get("exclude")),
            tuple(spec.get("qtypes", ())),
        )
    return out


@lru_cache(maxsize=1)
def _cues() -> list[tuple[str, re.Pattern[str]]]:
    return [
        (key, re.compile(r"\b(?:" + "|".join(re.escape(c) for c in e.get("cues", [])) + r")", re.I))
        for key, e in config()["sections"].items()
        if e.get("cues")
    ]


def asked_sections(question: str) -> list[str]:
    """Sections the question asks for, by cue words, most specific first (a question that
    names several, "symptoms and treatment", gets each), the generic ``information`` ("what
    is", "what are") last; [] when none is named."""
    found = []
    for key, pattern in _cues():
        hits = pattern.findall(question)
        if hits:
            found.append((key == "information", -max(len(h) for h in hits), key))
    return [key for *_, key in sorted(found)]
