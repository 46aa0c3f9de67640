"""Words of a sentence as the answer tool compares them: lower case, stop words and citation
marks removed, lightly stemmed."""

from __future__ import annotations

import re

_ANY_CITE = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")
_STOP_WORDS = """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers him his how i if in into is it its itself just
    me more most my no nor not now of off on once only or other our out over own same she should
    so some such than that the their them then there these they this those through to too under
    until up very was we were what when where which while who whom why will with would you your
    yours may might must often usually sometimes people person someone one ones thing things get
    gets got make makes made like also however therefore thus e.g i.e etc"""
_STOP = frozenset(_STOP_WORDS.split())
_WORD = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")
_NUMBER = re.compile(r"\b\d+(?:\.\d+)?\b")


def _stem(word: str) -> str:
    """A light stemmer: migraines/migraine, caused/causes, breathing/breathe meet."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    for suffix in ("ing", "ed", "ly", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix) and not word.endswith("ss"):
            word = word[: -len(suffix)]
            break
    return word[:-1] if len(word) > 4 and word.endswith("e") else word


def content_words(text: str) -> set[str]:
    """Lower-case, lightly stemmed content words (stop words and citation marks removed)."""
    text = _ANY_CITE.sub(" ", text.lower())
    return {_stem(w) for w in _WORD.findall(text) if w not in _STOP and (len(w) > 2 or w.isdigit())}
