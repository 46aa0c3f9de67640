"""Normalising a patient's message before it is read: the project's normalisation
(``safety.normalize``), the triage typo list, then spelling tolerance (``vocab.Speller``); and the
HPO phrase index the reader looks words up in."""

from __future__ import annotations

import re

from assistant.policy.safety import normalize as safety_normalize
from tools.triage.lexicon import Lexicon, lexicon
from tools.triage.vocab import PhraseIndex, Speller, english_words, pattern_words

MAX_CHARS = 20_000  # a turn's limit; longer text is cut, never rejected here
# Recognisers switched off, for ablation studies (assistant/evals/triage_loso.py): "patterns", "hpo",
# "spelling", "semantic". Empty in the product.
OFF: set[str] = set()


def normalize(text: str, lex: Lexicon | None = None) -> str:
    """The project's normalisation (safety.normalize), the triage typo list, then spelling
    tolerance (``vocab.Speller``: unknown words read as the triage word they are closest to)."""
    lex = lex or lexicon()
    out = safety_normalize(text[:MAX_CHARS])
    if lex.typos:
        out = _typo_pattern(lex).sub(lambda m: lex.typos[m.group(0)], out)
    speller = _speller(lex) if "spelling" not in OFF else None
    return speller.fix(out) if speller is not None else out


def _typo_pattern(lex: Lexicon) -> re.Pattern[str]:
    if "typos" not in lex.cache:
        words = sorted(lex.typos, key=len, reverse=True)
        lex.cache["typos"] = re.compile(
            r"(?<![\w'])(?:" + "|".join(re.escape(w) for w in words) + r")(?![\w'])"
        )
    pattern: re.Pattern[str] = lex.cache["typos"]
    return pattern


def _speller(lex: Lexicon) -> Speller | None:
    """The spelling corrector over the triage vocabulary (None without an English word list)."""
    if "speller" not in lex.cache:
        english = english_words()
        lex.cache["speller"] = Speller(set(vocabulary(lex)), english) if english else None
    speller: Speller | None = lex.cache["speller"]
    return speller


def vocabulary(lex: Lexicon) -> frozenset[str]:
    """The triage words (four letters or more): the literal words of the concept patterns, of
    the concept names, of the HPO phrases and of the typo list's corrections."""
    if "vocabulary" not in lex.cache:
        words = pattern_words(p for c in lex.concepts.values() for p in c.patterns)
        for c in lex.concepts.values():
            words.update(re.findall(r"[a-z]{4,}", c.name.lower()))
        for phrase, _c in lex.hpo_phrases:
            words.update(re.findall(r"[a-z]{4,}", phrase.lower()))
        words.update(re.findall(r"[a-z]{4,}", " ".join(lex.typos.values())))
        lex.cache["vocabulary"] = frozenset(words)
    found: frozenset[str] = lex.cache["vocabulary"]
    return found


def phrases(lex: Lexicon) -> PhraseIndex:
    if "phrases" not in lex.cache:
        lex.cache["phrases"] = PhraseIndex(lex.hpo_phrases)
    index: PhraseIndex = lex.cache["phrases"]
    return index
