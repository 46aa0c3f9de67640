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

Month names in other languages ("17 Şubat 1960", "3 marca 2024", "12 oktober") come from a table
(``assistant/data/phi_date_words.yaml``, glibc's locale data) and are handed to the parser through
its ``parserinfo``. A day and month without a year ("on 27.11", "expired 10/31", "said the 10th")
is a date only after a date cue, or, for an ordinal day, in a sentence that names a weekday or a
month; never after a measurement word (BP, pain, score, power, INR ...) nor before a unit or
"ago" (``partial_spans``); an ordinal day also after "for" ("booked for the 9th"), and the second
day of a range ("from 10.11 to 17.11").

Other calendars' month names (Solar Hijri, Hebrew, Hijri, Ethiopian, Maori, Thai; same table) are
read as "a month", with their own era's years ("1 Farvardin 1310"); dates written with 年月日 or
년 월 일 are read by their own pattern (``cjk_spans``). An article written before a date's day
("the 9th", "le 5 novembre") is redacted with it.

Whichever recognizer found a date, its span reaches over what belongs to it (``phi_date_times``): a time
written after or before it ("19/01/2026 11:42", "29/11/2026 at 03:47", "03:47 on 29/11/2026",
"14h30", "2 p.m. GMT"), a weekday before it and the first day of a range ("3-5 Dec 2025"). A day
and month without a year also count after a comma or a bracket when a colon and a capital follow
("Gill, 30/11: Dermatology").
"""

from __future__ import annotations

import bisect
import datetime
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from assistant.policy import phi_vocab

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_WEEKDAY = (
    r"(?:mon(?:day)?|tue(?:s(?:day)?)?|wed(?:s|nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?"
    r"|sat(?:urday)?|sun(?:day)?)"
)
_NUMBER = r"(?:\d{1,4}(?:st|nd|rd|th)?|['’]\d{2})"
_FOLD = str.maketrans({"ı": "i", "ł": "l", "ø": "o", "đ": "d", "ß": "ss", "æ": "ae"})


def fold(word: str) -> str:
    """``word`` lower-cased without its diacritics ("Şubat" -> "subat", "kasım" -> "kasim")."""
    return phi_vocab.fold(word.lower().translate(_FOLD)).translate(_FOLD)


@dataclass(frozen=True)
class _Words:
    months: tuple[tuple[str, ...], ...]
    """Foreign month names (and their diacritic-free spellings), one tuple per month."""
    english_words: frozenset[str]
    cues: frozenset[str]
    fillers: frozenset[str]
    measurement_words: frozenset[str]
    duration_after: frozenset[str]
    ordinal_next: frozenset[str]
    ordinal_cues: frozenset[str]
    duration_cues: frozenset[str]
    calendar: dict[str, int]
    """Month names of other calendars (Solar Hijri, Hebrew, Hijri, Ethiopian, Maori), lower-cased
    and folded, with the month slot (0-11) the parser is given for them."""


@lru_cache(maxsize=1)
def words() -> _Words:
    """The date words of ``assistant/data/phi_date_words.yaml``."""
    path = resources.files("assistant.data").joinpath("phi_date_words.yaml")
    raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    months: list[set[str]] = [set() for _ in range(12)]
    for table in raw["months"].values():
        for i, names in enumerate(table):
            for name in names:
                months[i].update({name.lower(), fold(name)})
    calendar: dict[str, int] = {}
    for table in raw["calendar_months"].values():
        for i, names in enumerate(table):
            for name in names:
                calendar.update({name.lower(): i, fold(name): i})
                months[i].update({name.lower(), fold(name)})
    return _Words(
        months=tuple(tuple(sorted(m, key=lambda x: (-len(x), x))) for m in months),
        english_words=frozenset(raw["english_words"]),
        cues=frozenset(raw["cues"]),
        fillers=frozenset(raw["fillers"]),
        measurement_words=frozenset(raw["measurement_words"]),
        duration_after=frozenset(raw["duration_after"]),
        ordinal_next=frozenset(raw["ordinal_next"]),
        ordinal_cues=frozenset(raw["ordinal_cues"]),
        duration_cues=frozenset(raw["duration_cues"]),
        calendar=calendar,
    )


def _foreign_months() -> str:
    return _trie_pattern({n for m in words().months for n in m})


def _trie_pattern(names: set[str]) -> str:
    """One regular expression for ``names`` shaped as their prefix tree (``(?:ma(?:rt|rca)|...)``):
    the engine follows one branch per letter instead of trying ~900 alternatives in turn."""
    trie: dict[str, Any] = {}
    for name in names:
        node = trie
        for ch in name:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        optional = "" in node
        if len(branches) == 1 and not optional:
            return branches[0]
        return "(?:" + "|".join(branches) + ")" + ("?" if optional else "")

    return "(?:" + build(trie) + ")"


_FOREIGN = _foreign_months()
_CALENDAR = re.compile(rf"(?<!\w){_trie_pattern(set(words().calendar))}(?!\w)", re.I)
_ENGLISH = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_TOKEN = rf"(?:{_FOREIGN}(?!\w)|{_MONTH}\.?|{_WEEKDAY}\.?|{_NUMBER})"
_SEP = r"(?:\s*[,/.-]\s*|\s+(?:of\s+|the\s+|of\s+the\s+)?|\s*-\s*)"
_CANDIDATE = re.compile(rf"(?<![\w/.:-]){_TOKEN}(?:{_SEP}{_TOKEN}){{1,4}}(?![\w/]|[.:-]\d)", re.I)
_HAS_MONTH = re.compile(rf"\b(?:{_MONTH}|{_FOREIGN})(?!\w)", re.I)
_PIECE = re.compile(rf"{_TOKEN}", re.I)
_UNIT_AFTER = re.compile(
    r"\s*(?:mg|mcg|micrograms?|g|ml|mls|units?|iu|%|mmol|kg|cm|mm|hours?|hrs?|h|mins?|minutes?|"
    r"days?|weeks?|wks?|months?|years?|yrs?|times|tablets?|tabs?|puffs?|doses?|patients?|"
    r"people|beds?|am|pm|comprim[ée]s?|comprimidos?|compresse|tabletten?|g[ée]lules?|sachets?|"
    r"ampoules?|gouttes?|gotas|tropfen)\b",
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
            article = _ARTICLE.search(text, max(0, found[0] - 5), found[0])
            if article and text[found[0]].isdigit():
                found = (article.start(), found[1])  # "le 5 novembre", "the 8th of May"
            out.append(found)
    return out + cjk_spans(text)


_ARTICLE = re.compile(r"(?<!\w)(?:the|le|el|il|am|den)\s+\Z", re.I)
"""An article written before a date's day (English, French, Spanish, Italian, German): redacted
with the date, so "on le 5 novembre" reads "on [DATE]", not "on le [DATE]"."""

_CJK = re.compile(
    r"(?<!\d)(?:(?P<y>\d{4})\s*[年년]\s*)?(?P<m>\d{1,2})\s*[月월]"
    r"(?:\s*(?P<d>\d{1,2})\s*[日일])?"
)
"""Chinese and Japanese (2025年12月8日) and Korean (2025년 12월 8일) dates: year, month and day each
followed by its character."""


def cjk_spans(text: str) -> list[tuple[int, int]]:
    """Dates written with 年/月/日 or 년/월/일: a month with its day or its year, valid numbers."""
    out = []
    for m in _CJK.finditer(text):
        y, mo, d = m.group("y"), int(m.group("m")), m.group("d")
        if (y or d) and 1 <= mo <= 12 and (d is None or 1 <= int(d) <= 31):
            out.append((m.start(), m.end()))
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
    english_word = {fold(w) for w in re.findall(r"\w+", candidate)} & words().english_words
    if english_word and not (any(len(x) == 4 for x in numbers) and len(numbers) >= 2):
        return False  # "Mayo 2019", "Mars 3": a day and a four-digit year make them dates
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


@lru_cache(maxsize=1)
def _parserinfo() -> Any:
    """python-dateutil's parser vocabulary with the table's month names added to its own."""
    from dateutil import parser

    months = [
        tuple(english) + tuple(n for n in foreign if n.lower() not in {e.lower() for e in english})
        for english, foreign in zip(parser.parserinfo.MONTHS, words().months, strict=True)
    ]

    class _Info(parser.parserinfo):
        MONTHS = months

    return _Info()


def _fields(candidate: str) -> set[str] | None:
    """Which of day, month and year the parser read from ``candidate`` (None: not a date)."""
    from dateutil import parser

    cleaned = re.sub(r"\b(?:of|the)\b", " ", candidate, flags=re.I).replace("’", "'")
    cleaned = re.sub(r"'(\d{2})\b", r"\1", cleaned)
    calendar = words().calendar
    other_era = False
    if _CALENDAR.search(cleaned):
        # another calendar's month: the parser is told only "a month"; its year is that era's
        cleaned = _CALENDAR.sub(lambda m: _ENGLISH[calendar[fold(m.group())]], cleaned)
        other_era = True
    a = datetime.datetime(1904, 1, 1)
    b = datetime.datetime(1908, 2, 2)
    info = _parserinfo()
    try:
        first = parser.parse(cleaned, info, default=a, dayfirst=True)
        second = parser.parse(cleaned, info, default=b, dayfirst=True)
    except (ValueError, OverflowError, TypeError):
        return None
    out = set()
    if first.day == second.day:
        out.add("day")
    if first.month == second.month:
        out.add("month")
    if first.year == second.year:
        if not 1880 <= first.year <= 2100 and not (other_era and 1300 <= first.year <= 6000):
            return None
        out.add("year")
    return out


_PARTIAL = re.compile(
    r"(?<![\w/.,:+-])(?:(?P<a>\d{1,2})(?P<sep>[/.])(?P<b>\d{1,2})(?P<dot>\.)?"
    r"|(?P<the>the\s+)?(?P<ord>\d{1,2})(?:st|nd|rd|th))(?![\w/%]|[.,:-]?\d)",
    re.I,
)
_WORD = re.compile(r"[\w'’+-]+")
_SENTENCE_END = re.compile(r"[.!?;\n]\s|[\n]")
_DATE_WORD = re.compile(
    r"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun|Jan|Feb|Mar|Apr|May(?=\s*\d)|June?|July?|Aug|Sept?|Oct|Nov"
    r"|Dec)[a-z]*\b"
)
"""A weekday or month name as dates write it: capitalised ("May" only before a number)."""


def partial_spans(text: str) -> list[tuple[int, int]]:
    """Days with their month but no year, and ordinal days, read only in a date's context: after a
    date cue ("on 27.11", "expired 10/31", "due the 12th"), or, for an ordinal day, in a sentence
    that names a weekday or a month ("Wednesday 9/12 ... said the 10th"). Never after a
    measurement word ("BP 120/80", "power 4/5"), before a unit or a duration word ("2/7 ago"),
    and only with a valid day and month (either order for a slash: "10/31" is month/day)."""
    out: list[tuple[int, int]] = []
    w = words()
    talk: _DateTalk | None = None  # built once, at the first ordinal day that needs it
    for m in _PARTIAL.finditer(text):
        before = [x.lower() for x in _WORD.findall(text[max(0, m.start() - 60) : m.start()])]
        if any(x in w.measurement_words for x in before[-3:]):
            continue
        after = _WORD.match(text, m.end() + 1) if text[m.end() : m.end() + 1] == " " else None
        if after and after.group().lower() in w.duration_after:
            continue
        counted = after and after.group().islower() and after.group() not in w.ordinal_next
        if m.group("ord") and counted:
            continue  # "the 3rd copy", "from the 5th dose": a count
        if _UNIT_AFTER.match(text, m.end()):
            continue
        cue = (
            _cued(before, w)
            or bool(out and _RANGE.fullmatch(text, out[-1][1], m.start()))
            or bool(_WEEK_OF.search(text, max(0, m.start() - 8), m.start()))
            or (not m.group("ord") and bool(_CLOCK_AFTER.match(text, m.end())))
        )
        if m.group("ord"):
            day = int(m.group("ord"))
            cue = cue or _cued(before, w, w.ordinal_cues)
            if talk is None:
                talk = _DateTalk(text)
            if not 1 <= day <= 31 or not (cue or talk.around(m.start(), m.end())):
                continue
            out.append((m.start(), m.end()))  # "the 9th" whole: "on [DATE]" reads as well
            continue
        a, b = int(m.group("a")), int(m.group("b"))
        day_month = 1 <= a <= 31 and 1 <= b <= 12
        valid = day_month or (m.group("sep") == "/" and 1 <= a <= 12 and 1 <= b <= 31)
        if m.group("sep") == "." and len(m.group("b")) < 2 and not m.group("dot"):
            continue  # "on 2.5": a decimal; "27.11" or "3.12." are days
        if _shorthand_duration(text, m.start(), m.group("sep"), a, b):
            continue  # "post op 2/7", "clinic 3/12": days or months, not a date
        if valid and (cue or (day_month and _heading(text, m.start(), m.end()))):
            out.append((m.start(), m.end()))
    return out + _numeric_ranges(text, w)


def _shorthand_duration(text: str, start: int, sep: str, a: int, b: int) -> bool:
    """UK clinical shorthand for a duration after a procedure or a follow-up word: N/7 days, N/12
    months, N/52 weeks with N under the whole ("post op 2/7", "GP clinic 3/12", "f/u 6/52")."""
    if sep != "/" or b not in (7, 12, 52) or a >= b:
        return False
    return bool(_duration_cue().search(text, max(0, start - 40), start))


@lru_cache(maxsize=1)
def _duration_cue() -> re.Pattern[str]:
    """A word a shorthand duration follows (``duration_cues`` of the date words), then "in"."""
    alts = "|".join(re.escape(c) for c in sorted(words().duration_cues, key=len, reverse=True))
    return re.compile(rf"(?<![\w/])(?:{alts})\s*(?:in\s+|for\s+)?\Z", re.I)


_WEEK_OF = re.compile(r"\bw/[cbe]\.?\s*\Z", re.I)
"""Week commencing, beginning or ending, as rotas and letters shorten it: "w/c 30/11"."""
_NUMERIC_RANGE = re.compile(
    r"(?<![\w/.,:+-])(\d{1,2})/(\d{1,2})\s*[-–]\s*(\d{1,2})/(\d{1,2})(?![\w/%]|[.,:-]?\d)"
)


def _numeric_ranges(text: str, w: _Words) -> list[tuple[int, int]]:
    """Two days with their months joined by a dash after a date cue ("admitted 30/11-2/12"),
    each a valid day and month."""
    out = []
    for m in _NUMERIC_RANGE.finditer(text):
        a, b, c, d = (int(x) for x in m.groups())
        if not (1 <= a <= 31 and 1 <= b <= 12 and 1 <= c <= 31 and 1 <= d <= 12):
            continue
        before = [x.lower() for x in _WORD.findall(text[max(0, m.start() - 60) : m.start()])]
        if any(x in w.measurement_words for x in before[-3:]) or not _cued(before, w):
            continue
        out.append((m.start(), m.end()))
    return out


_HEADING_BEFORE = re.compile(r"(?:\A|[,;(\n])\s*\Z")
_HEADING_AFTER = re.compile(r":\s+[A-Z]")


def _heading(text: str, start: int, end: int) -> bool:
    """A day and month heading a note's entry: after a comma, a bracket or a line's start and
    before a colon and a capital ("Sandeep Gill, 30/11: Dermatology review")."""
    return bool(
        _HEADING_AFTER.match(text, end) and _HEADING_BEFORE.search(text, max(0, start - 3), start)
    )


_RANGE = re.compile(r"\s*(?:to|and|till|until|-|–)\s*", re.I)
"""Between two days of a range: "from 10.11 to 17.11" (the second is cued by the first)."""


def _cued(before: list[str], w: _Words, cues: frozenset[str] | None = None) -> bool:
    """A date cue within the last words before a partial date, only fillers between."""
    for word in reversed(before[-3:]):
        if word in (w.cues if cues is None else cues):
            return True
        if word not in w.fillers:
            return False
    return False


class _DateTalk:
    """Which sentences of a text name a weekday or a month: the sentence boundaries and the
    weekday or month words are found once per text, each question is two bisections (linear in
    the text however many ordinal days it holds)."""

    def __init__(self, text: str) -> None:
        bounds = list(_SENTENCE_END.finditer(text))
        self._ends = [m.end() for m in bounds]
        self._starts = [m.start() for m in bounds]
        self._size = len(text)
        found = [x for x in _DATE_WORD.finditer(text) if _HAS_WEEKDAY_OR_MONTH.fullmatch(x.group())]
        self._word_starts = [x.start() for x in found]
        self._word_ends = [x.end() for x in found]

    def around(self, start: int, end: int) -> bool:
        """The sentence around ``text[start:end]`` names a weekday or a month."""
        i = bisect.bisect_right(self._ends, start)
        left = self._ends[i - 1] if i else 0
        j = bisect.bisect_left(self._starts, end)
        right = self._starts[j] if j < len(self._starts) else self._size
        k = bisect.bisect_left(self._word_starts, left)
        return k < len(self._word_starts) and self._word_ends[k] <= right


_HAS_WEEKDAY_OR_MONTH = re.compile(rf"(?:{_WEEKDAY}|{_MONTH})", re.I)


_CLOCK_AFTER = re.compile(
    r"\s*(?:,\s*|\s+(?:at\s+)?|@\s*)(?:[01]?\d|2[0-3])[:h][0-5]\d(?!\d)", re.I
)
"""A clock time right after a day and month ("30/11 @ 07:30"): the two make a date."""
