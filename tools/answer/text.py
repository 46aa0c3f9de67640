"""Words of a sentence as the answer tool compares them: lower case, stop words and citation
marks removed, lightly stemmed (``tools/words.py``)."""

from __future__ import annotations

import re

from tools.words import STOP_WORDS, stem

_ANY_CITE = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")
_WORD = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")
_NUMBER = re.compile(r"\b\d+(?:\.\d+)?\b")


def content_words(text: str) -> set[str]:
    """Lower-case, lightly stemmed content words (stop words and citation marks removed)."""
    text = _ANY_CITE.sub(" ", text.lower())
    return {
        stem(w) for w in _WORD.findall(text) if w not in STOP_WORDS and (len(w) > 2 or w.isdigit())
    }
