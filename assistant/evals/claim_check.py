"""An unsupported-claim check for evaluations, independent of the answer tool's own checker.

``tools/answer.py`` accepts a sentence when enough of its (stemmed) content words are in a
passage, or fewer plus an embedding match. Judging its output with the same code would find
0 % by construction, so this module shares none of it (own tokenizer, stop words, sentence
splitter and rule) and is stricter:

- a *claim* is a sentence with at least three content words that is not a question or a
  referral to a person ("ask your pharmacist");
- a claim is *supported* only when one passage it cites ``[n]`` contains **every** content
  word and **every** number of the claim (plural -s folded, nothing else); a claim that cites
  nothing is supported only by the case's own text (reports the user gave), in full.

Lexical containment cannot see paraphrase, so this overcounts unsupported claims when the model
rewords faithfully; it never credits a claim that brings a word or number its source lacks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

_SPLIT = re.compile(r"(?<=[.!?])(?:\s*\[\d+(?:\s*,\s*\d+)*\])*\s+(?=[A-Z0-9\"'(])|\n+")
_CITE = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_TOKEN = re.compile(r"[a-z][a-z'-]*[a-z]|[a-z]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_REFERRAL = re.compile(
    r"\b(doctor|gp|pharmacist|nurse|clinician|midwife|emergency (number|department|services)|"
    r"urgent care|999|911|112|not a diagnosis|decision support|seek (medical )?(help|advice|care))\b",
    re.IGNORECASE,
)
_STOP = frozenset(
    """a an the and or but nor so yet for of to in on at by with from into onto over under about
    as than then that this these those there here it its it's is are was were be been being am
    do does did doing have has had having can could may might must shall should will would not
    no yes if when while where which who whom whose what why how all any both each every few
    more most other some such only own same too very just also even still again further once
    i me my we our you your he him his she her they them their one ones often usually generally
    typically commonly mainly mostly sometimes may include includes including called known
    term refers refer means mean usual well however therefore thus e.g i.e etc per""".split()  # noqa: SIM905
)
MIN_CLAIM_WORDS = 3


def _fold(word: str) -> str:
    if len(word) > 4 and word.endswith("es") and word[-3] in "sxz":
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def words(text: str) -> set[str]:
    """Content words, lower case, plural -s folded."""
    plain = _CITE.sub(" ", text.lower())
    return {_fold(w.strip("'-")) for w in _TOKEN.findall(plain) if w not in _STOP}


def numbers(text: str) -> set[str]:
    return {n.replace(",", ".") for n in _NUMBER.findall(_CITE.sub(" ", text))}


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SPLIT.split(text) if s and s.strip()]


def is_claim(sentence: str) -> bool:
    plain = _CITE.sub("", sentence).strip()
    if not plain or plain.endswith("?"):
        return False
    if _REFERRAL.search(plain) and not numbers(plain):
        return False
    return len(words(plain)) >= MIN_CLAIM_WORDS


@dataclass
class Verdict:
    claims: int = 0
    unsupported: int = 0
    uncited: int = 0
    examples: list[str] = field(default_factory=list)


def check(
    answer: str,
    cited_passages: Sequence[str],
    case_texts: Sequence[str] = (),
) -> Verdict:
    """Claims in ``answer`` and how many of them the strict rule does not support.
    ``cited_passages[n-1]`` is the text behind citation ``[n]``."""
    verdict = Verdict()
    evidence = [(words(t), numbers(t)) for t in cited_passages]
    case = [(words(t), numbers(t)) for t in case_texts]
    for sentence in sentences(answer):
        if not is_claim(sentence):
            continue
        verdict.claims += 1
        need_words, need_numbers = words(sentence), numbers(sentence)
        cited = [
            int(n) - 1
            for group in _CITE.findall(sentence)
            for n in re.split(r"\s*,\s*", group)
            if 0 < int(n) <= len(evidence)
        ]
        if not cited:
            verdict.uncited += 1
        pool = [evidence[i] for i in cited] if cited else case
        if not any(need_words <= w and need_numbers <= n for w, n in pool):
            verdict.unsupported += 1
            if len(verdict.examples) < 5:
                verdict.examples.append(sentence[:200])
    return verdict
