"""Dates by grammar: candidate spans built from date-shaped tokens, kept when a date parser reads
them as a day with its month, or a month with its year.

The rules in ``assistant/data/phi_rules.yaml`` list the commonest date shapes one pattern at a
time; this recognizer covers their combinations instead. A *candidate* is a run of date tokens
(a number of one to four digits with an optional ordinal suffix, an English month or weekday
name, a two-digit year after an apostrophe) joined by the separators people write between them
(spaces, commas, full stops, slashes, hyphens, "of", "the"), holding at least one month name, or
three numbers of which one is a four-digit year ("05 03 2024"). ``python-dateutil``'s parser
(the maintained reference parser for free-form dates) then decides: the candidate, or its
longest part that parses, is a date when the parser found a month and a day or a year in it.
A year on its own, a weekday on its own, or "May" with no number are not identifiers (HIPAA Safe
Harbor keeps years), so they never make a span.
"""

from __future__ import annotations

import datetime
import re
from functools import lru_cache

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_WEEKDAY = (
    r"(?:mon(?:day)?|tue(?:s(?:day)?)?|wed(?:s|nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?"
    r"|sat(?:urday)?|sun(?:day)?)"
)
_NUMBER = r"(?:\d{1,4}(?:st|nd|rd|th)?|['’]\d{2})"
_TOKEN = rf"(?:{_MONTH}\.?|{_WEEKDAY}\.?|{_NUMBER})"
_SEP = r"(?:\s*[,/.-]\s*|\s+(?:of\s+|the\s+|of\s+the\s+)?|\s*-\s*)"
_CANDIDATE = re.compile(rf"(?<![\w/.:-]){_TOKEN}(?:{_SEP}{_TOKEN}){{1,4}}(?![\w/]|[.:-]\d)", re.I)
_HAS_MONTH = re.compile(rf"\b{_MONTH}\b", re.I)
_PIECE = re.compile(rf"{_TOKEN}", re.I)
_UNIT_AFTER = re.compile(
    r"\s*(?:mg|mcg|micrograms?|g|ml|mls|units?|iu|%|mmol|kg|cm|mm|hours?|hrs?|h|mins?|minutes?|"
    r"days?|weeks?|wks?|months?|years?|yrs?|times|tablets?|tabs?|puffs?|doses?|patients?|"
    r"people|beds?|am|pm)\b",
    re.I,
)
_WORD_MONTHS = re.compile(r"\b(?:may|mar|march|dec)\b")
"""Month names that are also English words ("may", "mar", "dec" for decrease): written in
lower case they make a date only beside a four-digit year ("2 may help" is not a date)."""


def spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each date the grammar finds in ``text``."""
    out: list[tuple[int, int]] = []
    for m in _CANDIDATE.finditer(text):
        found = _longest_date(text, m.start(), m.end())
        if found is not None:
            out.append(found)
    return out


def _longest_date(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The longest run of whole tokens within ``text[start:end]`` that reads as a date."""
    pieces = [(start + p.start(), start + p.end()) for p in _PIECE.finditer(text[start:end])]
    n = len(pieces)
    for size in range(n, 1, -1):
        for i in range(0, n - size + 1):
            s, e = pieces[i][0], pieces[i + size - 1][1]
            if _UNIT_AFTER.match(text, e) and not _HAS_MONTH.search(text[s:e][-4:]):
                continue  # "3 - 5 mg", "12 May 20 mg": the last number counts something
            if is_date(text[s:e]):
                return s, e
    return None


@lru_cache(maxsize=4096)
def is_date(candidate: str) -> bool:
    """``candidate`` names a day and month, or a month and year (python-dateutil reads it)."""
    has_month = _HAS_MONTH.search(candidate) is not None
    numbers = re.findall(r"\d+", candidate)
    if not has_month:
        # numbers only: three of them with a four-digit year (the separator-written forms are
        # the rules' to read)
        if len(numbers) != 3 or not any(len(x) == 4 for x in numbers):
            return False
    elif not numbers:
        return False
    if (
        _WORD_MONTHS.search(candidate)
        and not any(len(x) == 4 for x in numbers)
        and not _HAS_MONTH.search(re.sub(_WORD_MONTHS, " ", candidate))
    ):
        return False  # "may 2", "2 may help": the rules read these with their context
    given = _fields(candidate)
    if given is None or "month" not in given:
        return False
    return "day" in given or "year" in given


def _fields(candidate: str) -> set[str] | None:
    """Which of day, month and year the parser read from ``candidate`` (None: not a date)."""
    from dateutil import parser

    cleaned = re.sub(r"\b(?:of|the)\b", " ", candidate, flags=re.I).replace("’", "'")
    cleaned = re.sub(r"'(\d{2})\b", r"\1", cleaned)
    a = datetime.datetime(1904, 1, 1)
    b = datetime.datetime(1908, 2, 2)
    try:
        first = parser.parse(cleaned, default=a, dayfirst=True)
        second = parser.parse(cleaned, default=b, dayfirst=True)
    except (ValueError, OverflowError, TypeError):
        return None
    out = set()
    if first.day == second.day:
        out.add("day")
    if first.month == second.month:
        out.add("month")
    if first.year == second.year:
        if not 1880 <= first.year <= 2100:
            return None
        out.add("year")
    return out
