"""The support check: whether the evidence backs a sentence (lexical overlap, and sentence
embeddings where a semantic embedder is available)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assistant.core.embeddings import Embedder
from assistant.policy import safety
from tools.answer.evidence import semantic
from tools.answer.text import _ANY_CITE, _NUMBER, content_words

# Support thresholds: share of a sentence's content words found in the evidence.
LEXICAL_SUPPORT = 0.6
LEXICAL_WITH_EMBEDDING = 0.34
EMBEDDING_SUPPORT = 0.75
MIN_CLAIM_WORDS = 3
_META = re.compile(
    r"\b(talk|speak|ask|see|contact|call|check\s+with|visit|go\s+to)\s+(to\s+|with\s+)?(a|an|your|the|local)\s+"
    r"(own\s+)?(doctor|gp|pharmacist|nurse|clinician|specialist|health\s*care|emergency|urgent\s+care|nurse\s+line)"
    r"|\bnot\s+a\s+diagnosis\b|\bdecision\s+support\b",
    re.IGNORECASE,
)
_REFERRAL = re.compile(
    r"^(?:please\s+)?(?:talk|speak|ask|see|call|contact|check)\b[^.?!]{0,80}\b(?:doctor|gp|"
    r"pharmacist|nurse|health\s*care\s+provider|provider|clinician)\b[^.?!]{0,60}[.!]?$",
    re.IGNORECASE,
)
"""A sentence that is only a referral, verb first ("Talk to your pharmacist.")."""


@dataclass
class SupportChecker:
    """Decides whether a sentence is supported by the evidence (lexical overlap, and sentence
    embeddings where a semantic embedder is available)."""

    passages: list[dict[str, Any]]
    facts: list[str]
    embedder: Embedder | None = None
    _vecs: np.ndarray | None = field(default=None, init=False, repr=False)
    _owner: np.ndarray = field(
        default_factory=lambda: np.zeros(0, dtype=int), init=False, repr=False
    )

    def __post_init__(self) -> None:
        self.texts = [
            f"{p.get('title', '')}. {p.get('text', '')}" for p in self.passages
        ] + self.facts
        self.words = [content_words(t) for t in self.texts]
        self.numbers = [set(_NUMBER.findall(t)) for t in self.texts]

    def _cosines(self, sentence: str) -> np.ndarray | None:
        if not semantic(self.embedder) or not self.texts:
            return None
        assert self.embedder is not None
        try:
            if self._vecs is None:
                # one row per evidence sentence; an evidence text scores its best sentence
                units = [
                    (i, u)
                    for i, t in enumerate(self.texts)
                    for u in safety.split_sentences(t) or [t]
                ]
                self._owner = np.array([i for i, _ in units])
                self._vecs = self.embedder.embed([u for _, u in units])
            vec = self.embedder.embed([_ANY_CITE.sub("", sentence)])[0]
        except Exception:  # an embedder failure falls back to the lexical check
            self.embedder = None
            return None
        sims = np.asarray(self._vecs @ vec)
        best = np.full(len(self.texts), -1.0, dtype=np.float32)
        np.maximum.at(best, self._owner, sims)
        return best

    def score(self, sentence: str, index: int, cos: np.ndarray | None) -> float:
        words = content_words(sentence)
        if not words:
            return 1.0
        if not set(_NUMBER.findall(_ANY_CITE.sub(" ", sentence))) <= self.numbers[index]:
            return 0.0  # a number the evidence does not contain is never supported
        lexical = len(words & self.words[index]) / len(words)
        if lexical >= LEXICAL_SUPPORT:
            return lexical
        if (
            cos is not None
            and lexical >= LEXICAL_WITH_EMBEDDING
            and float(cos[index]) >= EMBEDDING_SUPPORT
        ):
            return LEXICAL_SUPPORT
        return lexical

    def best(self, sentence: str, candidates: list[int]) -> int | None:
        """The best-supporting evidence index among ``candidates`` (None: unsupported)."""
        cos = self._cosines(sentence)
        best, best_score = None, 0.0
        for i in candidates:
            s = self.score(sentence, i, cos)
            if s >= LEXICAL_SUPPORT and s > best_score:
                best, best_score = i, s
        return best


def is_claim(sentence: str) -> bool:
    """A sentence that states something checkable (not a question, hedge or referral)."""
    plain = _ANY_CITE.sub("", sentence).strip()
    if plain.endswith("?") or (_META.search(plain) and len(content_words(plain)) <= 14):
        return False
    return len(content_words(plain)) >= MIN_CLAIM_WORDS
