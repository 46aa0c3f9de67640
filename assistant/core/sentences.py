"""Cutting a text into sentences or clauses without cutting inside a number ("37.6", "38.3C",
"1.5 litres", "1,500") or after a common abbreviation ("Dr. Patel", "e.g. paracetamol").

One splitter for every layer that reads sentences (the router's told part of a message, the
triage reader and its learned net): the lowest layer owns it so they cannot drift apart.
"""

from __future__ import annotations

import re

# a full stop that ends one of these words does not end the sentence ("Dr. Patel said")
_ABBREVIATION = re.compile(
    r"(?<![\w.])(?:e\.g|i\.e|eg|ie|dr|mr|mrs|ms|prof|st|approx|vs|cf)\.", re.IGNORECASE
)
# a point or a comma between two digits is part of the number
_IN_NUMBER = re.compile(r"(?<=\d)[.,](?=\d)")
SENTENCE_MARKS = ".!?"


def _protected(text: str) -> set[int]:
    """Positions of marks that end nothing: inside a number or closing an abbreviation."""
    out = {m.start() for m in _IN_NUMBER.finditer(text)}
    for m in _ABBREVIATION.finditer(text):
        out.update(i for i in range(m.start(), m.end()) if text[i] == ".")
    return out


def boundaries(
    text: str, marks: str = SENTENCE_MARKS, *, clause: bool = False
) -> list[tuple[int, int]]:
    """Where ``text`` is cut, as (start, end) spans to drop between the parts.

    Sentence style (default): the whitespace after a run of ``marks`` (the marks stay with the
    sentence they end), and every run of line breaks. Clause style (``clause=True``): each run
    of ``marks`` or line breaks itself, with or without a space after it ("fine,no fever").
    Either way a mark inside a number or closing an abbreviation cuts nothing."""
    protected = _protected(text)
    cls = re.escape(marks)
    out: list[tuple[int, int]] = []
    if clause:
        for m in re.finditer(rf"[{cls}\n]+", text):
            run = range(m.start(), m.end())
            if "\n" in m.group(0) or any(i not in protected for i in run):
                out.append((m.start(), m.end()))
        return out
    for m in re.finditer(rf"(?<=[{cls}])\s+|\n+", text):
        if "\n" in m.group(0) or (m.start() - 1) not in protected:
            out.append((m.start(), m.end()))
    return out


def split_sentences(text: str, marks: str = SENTENCE_MARKS) -> list[str]:
    """The sentences of ``text`` (see ``boundaries``), as ``re.split`` gives them: not
    stripped, and an empty part where the text starts or ends with a cut."""
    out: list[str] = []
    pos = 0
    for start, end in boundaries(text, marks):
        out.append(text[pos:start])
        pos = end
    out.append(text[pos:])
    return out
