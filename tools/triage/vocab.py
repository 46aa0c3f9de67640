"""Recognition beyond the hand-written patterns: the HPO vocabulary as phrases, and spelling
tolerance.

- :class:`PhraseIndex`: every phrase of ``data/hpo_vocabulary.json`` (names and synonyms of the
  concepts' HPO terms and their descendants) found as whole words in a message, plurals and
  UK/US spellings folded (``hpo.stem``).
- :class:`Speller`: a word that is not English (not in the embedder's WordPiece vocabulary of
  ~22,000 whole words, nor among the words pyspellchecker's English frequency list has seen at
  least ``MIN_FREQUENCY`` times, nor in the triage vocabulary) and lies within a small edit distance of
  exactly one word of the triage vocabulary (the words of the concept patterns, names and HPO
  phrases) is read as that word: "brething" -> "breathing", "swolen" -> "swollen". One edit
  for words of 4-7 letters, two from 8 letters; the first letter must agree (people rarely
  misspell it), and a tie between two candidates leaves the word alone.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def stem(word: str) -> str:
    """A light stem shared by the vocabulary and the matcher: lower case, UK spelling folded
    into US ("diarrhoea" = "diarrhea", "haematuria" = "hematuria"), simple plurals."""
    w = word.lower().strip("'")
    if len(w) > 5:
        w = w.replace("oe", "e").replace("ae", "e")
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    return w


def tokens(text: str) -> list[str]:
    return [stem(w) for w in _TOKEN.findall(text.lower().replace("-", " "))]


class PhraseIndex:
    """Longest-first whole-word matching of phrases (stemmed token sequences)."""

    def __init__(self, rows: Iterable[tuple[str, str]]) -> None:
        """``rows``: (phrase, concept) pairs."""
        self._by_first: dict[str, list[tuple[tuple[str, ...], frozenset[str]]]] = {}
        grouped: dict[tuple[str, ...], set[str]] = {}
        for phrase, concept in rows:
            toks = tuple(stem(w) for w in _TOKEN.findall(phrase.lower().replace("-", " ")))
            if toks:
                grouped.setdefault(toks, set()).add(concept)
        for toks, concepts in grouped.items():
            self._by_first.setdefault(toks[0], []).append((toks, frozenset(concepts)))
        for entries in self._by_first.values():
            entries.sort(key=lambda e: -len(e[0]))
        self.size = len(grouped)

    def find(self, text: str) -> list[tuple[str, int, int]]:
        """(concept, start, end) for each phrase found in ``text`` (normalised, lower case);
        overlapping phrases: the longest wins."""
        words = [
            (stem(m.group(0)), m.start(), m.end()) for m in _TOKEN.finditer(text.replace("-", " "))
        ]
        out: list[tuple[str, int, int]] = []
        i = 0
        while i < len(words):
            hit = None
            for toks, concepts in self._by_first.get(words[i][0], ()):
                n = len(toks)
                if i + n <= len(words) and all(words[i + k][0] == toks[k] for k in range(n)):
                    hit = (n, concepts)
                    break
            if hit is None:
                i += 1
                continue
            n, concepts = hit
            start, end = words[i][1], words[i + n - 1][2]
            out.extend((c, start, end) for c in sorted(concepts))
            i += n
        return out


# ---------------------------------------------------------------- spelling


def osa_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (edits, adjacent swaps count one), capped at limit+1."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def _deletes(word: str, depth: int) -> set[str]:
    out = {word}
    frontier = {word}
    for _ in range(depth):
        nxt = set()
        for w in frontier:
            for i in range(len(w)):
                nxt.add(w[:i] + w[i + 1 :])
        out |= nxt
        frontier = nxt
    return out


_SUFFIXES = ("ing", "ed", "es", "s", "er", "ers", "est", "ly", "ness", "ful", "less", "y", "ie")


class Speller:
    """Reads an unknown word as the one triage-vocabulary word it is closest to (or leaves it)."""

    MIN_LEN = 4

    def __init__(self, vocabulary: Iterable[str], english: Iterable[str]) -> None:
        self.vocabulary = frozenset(w for w in vocabulary if len(w) >= self.MIN_LEN)
        self.known = frozenset(english) | self.vocabulary
        self._index: dict[str, set[str]] = {}
        for w in self.vocabulary:
            for d in _deletes(w, 2 if len(w) >= 8 else 1):
                self._index.setdefault(d, set()).add(w)
        self._cache: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def is_known(self, word: str) -> bool:
        """An English or triage word, or a regular inflection of one ("chopping" from "chop":
        the WordPiece vocabulary lists few inflected forms)."""
        if word in self.known:
            return True
        for suffix in _SUFFIXES:
            if len(word) > len(suffix) + 2 and word.endswith(suffix):
                base = word[: -len(suffix)]
                if (
                    base in self.known
                    or base + "e" in self.known
                    or (base[-1:] == base[-2:-1] and base[:-1] in self.known)
                    or (base.endswith("i") and base[:-1] + "y" in self.known)
                ):
                    return True
        return False

    def correct(self, word: str) -> str | None:
        """The vocabulary word ``word`` is a misspelling of, or None."""
        if len(word) < self.MIN_LEN or not word.isalpha() or self.is_known(word):
            return None
        with self._lock:
            if word in self._cache:
                return self._cache[word]
        limit = 2 if len(word) >= 8 else 1
        candidates: set[str] = set()
        for variant in _deletes(word, limit):
            candidates |= self._index.get(variant, set())
        best: list[str] = []
        best_d = limit + 1
        for c in candidates:
            if c[0] != word[0]:
                continue
            d = osa_distance(word, c, 2 if len(c) >= 8 and len(word) >= 8 else 1)
            if d < best_d:
                best, best_d = [c], d
            elif d == best_d:
                best.append(c)
        out = best[0] if len(best) == 1 and best_d <= limit else None
        with self._lock:
            if len(self._cache) < 50_000:
                self._cache[word] = out
        return out

    def fix(self, text: str) -> str:
        """``text`` (normalised, lower case) with misspelt words replaced."""

        def sub(m: re.Match[str]) -> str:
            return self.correct(m.group(0)) or m.group(0)

        return re.sub(r"(?<![\w'])[a-z]{4,}(?![\w'])", sub, text)


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Whole English words of the MiniLM WordPiece vocabulary (shipped with the embedder
    package); empty when the package is missing (spelling tolerance is then off)."""
    from assistant.core.models import minilm_dir

    folder = minilm_dir()
    path = Path(folder) / "vocab.txt" if folder else None
    if path is None or not path.exists():
        return frozenset()
    words = path.read_text(encoding="utf-8").split()
    return frozenset(
        [w for w in words if w.isalpha() and w.isascii() and w.islower()] + list(_frequent_words())
    )


# a word pyspellchecker's English list has seen this often is a real word, not a misspelling
# ("stubbed", 532, is not "stabbed"); rarer entries include misspellings ("brest", 50)
MIN_FREQUENCY = 100


def _frequent_words() -> list[str]:
    """English words of pyspellchecker's frequency list (MIT; built from OpenSubtitles and
    Wiktionary) seen at least ``MIN_FREQUENCY`` times: the WordPiece vocabulary lists few
    inflected or less common words ("stubbed"), which the speller would otherwise read as a
    triage word one letter away. Empty when the package is missing."""
    try:
        from spellchecker import SpellChecker
    except ImportError:  # pragma: no cover - a declared dependency
        return []
    counts = SpellChecker(language="en").word_frequency
    return [
        w
        for w, n in counts.items()
        if n >= MIN_FREQUENCY and len(w) >= 4 and w.isalpha() and w.isascii()
    ]


_LITERAL = re.compile(r"\\[sbwdSWDB]|\\.|\(\?[:!=<]+|[\[\](){}|?*+.^$]")


def pattern_words(patterns: Iterable[str]) -> set[str]:
    """Alphabetic runs of regular expressions (their literal words and word stems)."""
    out: set[str] = set()
    for p in patterns:
        for w in re.findall(r"[a-z]{4,}", _LITERAL.sub(" ", p)):
            out.add(w)
    return out
