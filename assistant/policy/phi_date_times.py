"""A date's span widened over what belongs to it, whichever recognizer found the date: a time
written after it or before it, a weekday before it and the first day of a range ending in it
(``extend``, applied by ``phi.detect`` to every DATE span). A time before a date takes only a
time's shapes and never follows a lab or measurement word; a dose after a date is not its time."""

from __future__ import annotations

import re
from functools import lru_cache

from assistant.policy.phi import rules_data
from assistant.policy.phi_dates import _WEEKDAY, words

# A time written with a date: "11:42", "9:40", "14:05:33", "14h30", "2pm", "2 p.m.", "1430hrs",
# "14 Uhr", then a time zone ("GMT", "EST", "Z", "+01:00").
_CLOCK = (
    r"(?:(?:[01]?\d|2[0-4])(?::[0-5]\d(?::[0-5]\d(?:\.\d+)?)?|\.[0-5]\d|h[0-5]\d)"
    r"(?:\s*[ap]\.?m\.?(?!\w))?(?:\s*(?:hrs?|hours|h|Uhr|uur)(?!\w))?"
    r"|(?:0?[1-9]|1[0-2])\s*[ap]\.?m\.?(?!\w)"
    r"|(?:[01]\d|2[0-3])[0-5]\d\s*(?:hrs?|hours|h)(?!\w)"
    r"|(?:[01]?\d|2[0-4])\s*(?:Uhr|uur|h)(?!\w))"
)
_ZONE = r"(?:\s*(?:Z|UTC|GMT|[ECMP][SD]T|BST|CES?T|IST|AE[SD]T|NZ[SD]T|SAST|WAT|EAT)(?:[+-]\d{1,2}(?::?\d{2})?)?(?!\w)|\s*[+-](?:0\d|1[0-4]):?[0-5]\d(?!\d))?"
_HHMM = r"(?:[01]\d|2[0-3])[0-5]\d"
"""A time in four digits ("1530", "0340"): only right after a date or before "on" and a date."""
_TIME_AFTER = re.compile(
    rf"(?:T|\s*,\s*|\s*[-–—@]\s*|\s+(?:at|um|à|a las|alle(?:\s+ore)?|ore|às|om|kl\.?|klo|o\s+godz(?:\.|inie)|godz\.)\s+|\s+)"
    rf"(?:at\s+|@\s*)?(?:{_CLOCK}|{_HHMM}){_ZONE}(?!\w|[:.,/]\d)",
    re.I,
)
# A time before a date takes only the shapes a lab value never has: "14:30", "14h30", "1430hrs",
# a time with am/pm ("2.30pm", "9 a.m."), "10 Uhr", or four bare digits after "at" or "@"
# ("at 0340 on 29/11/2026"); "1.45" or "2.35" before a date is a result, not a time.
_CLOCK_BEFORE = (
    r"(?:(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?(?:\s*[ap]\.?m\.?(?!\w))?(?:\s*(?:hrs?|hours|h)(?!\w))?"
    r"|(?:[01]?\d|2[0-3])h[0-5]\d(?!\w)"
    r"|(?:0?[1-9]|1[0-2])(?:[.:][0-5]\d)?\s*[ap]\.?m\.?(?!\w)"
    r"|(?:[01]\d|2[0-3])[0-5]\d\s*(?:hrs?|h)(?!\w)"
    r"|(?:[01]?\d|2[0-4])\s*(?:Uhr|uur)(?!\w))"
)
_TIME_BEFORE = re.compile(
    rf"(?<![\w:./])(?:{_CLOCK_BEFORE}{_ZONE}(?:\s*,\s*|\s+on\s+|\s+)"
    rf"|(?:(?<=\bat\s)|(?<=@\s)|(?<=@)){_HHMM}\s+on\s+)\Z",
    re.I,
)
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z0-9-]*)\+?\s*(?:at\s+|@\s*)?\Z")
"""The word right before a time (and its "at"): a lab or measurement word makes it a result."""
_DOSE_AFTER = re.compile(
    r"\s*(?:mg|mcg|micrograms?|g|ml|mls|units?|iu|%|mmol|kg|cm|mm|tablets?|tabs?|puffs?|doses?)\b",
    re.I,
)
_NUMERIC_DAY_MONTH = re.compile(r"\d{1,4}[/.]\d")
"""A date written in numbers with slashes or dots ("30/11/2026"): no bare day before joins it."""
_RANGE_BEFORE = re.compile(
    r"(?<![\w.,:/])(?:the\s+)?(?:[1-9]|[12]\d|3[01])"
    r"(?:(?:st|nd|rd|th)?\s*(?:-|–|to)|(?:st|nd|rd|th)\s+(?:and|&))\s*\Z",
    re.I,
)


@lru_cache(maxsize=1)
def _lab_word() -> re.Pattern[str]:
    """A laboratory or bedside measurement name (the rules' ``LAB_WORDS``)."""
    return re.compile(_rules_macros()["LAB_WORDS"], re.I)


def _rules_macros() -> dict[str, str]:
    """The macros of ``assistant/data/phi_rules.yaml`` (word lists the rules share), as the
    detector read them."""
    macros: dict[str, str] = rules_data()["macros"]
    return macros


def _after_measurement(text: str, start: int) -> bool:
    """A lab or measurement word stands right before ``text[start:]`` ("INR 2.35", "K+ 5.50")."""
    m = _WORD_BEFORE.search(text, max(0, start - 40), start)
    if not m:
        return False
    word = m.group(1).lower()
    return word in words().measurement_words or bool(_lab_word().fullmatch(word))


@lru_cache(maxsize=1)
def _weekday_before() -> re.Pattern[str]:
    """A weekday, English or of another language (the rules' ``FOREIGN_WEEKDAYS``), right before
    a date: "Sunday 29/11/2026", "Mon, 3 Dec", "lundi le 5"."""
    foreign = _rules_macros()["FOREIGN_WEEKDAYS"]
    return re.compile(
        rf"(?<!\w)(?:{_WEEKDAY}|{foreign})\.?,?\s+(?:(?:the|on|le|el|il|am|den|der)\s+)?\Z",
        re.I,
    )


def extend(text: str, start: int, end: int) -> tuple[int, int]:
    """A date span ``text[start:end]`` widened over what belongs to it: a time written after it
    ("19/01/2026 11:42", "29/11/2026 at 03:47", "3 Dec 2025, 2 p.m. GMT", "2025-11-28T14:05Z") or
    before it ("03:47 on 29/11/2026"), a weekday before it ("Sunday 29/11/2026"), and the first
    day of a range ending in it ("3-5 Dec 2025"). A dose after a date is not its time ("12/03/2026
    10 mg"), a result before it is not its time nor a range's first day ("INR 2.35 on 30/11/2026",
    "pain score 7 - 30/11/2026"); a time on its own is never widened into a date."""
    m = _TIME_AFTER.match(text, end)
    if m and not _DOSE_AFTER.match(text, m.end()):
        end = m.end()
    for _ in range(2):
        for pattern in (_TIME_BEFORE, _weekday_before(), _RANGE_BEFORE):
            found = pattern.search(text, max(0, start - 40), start)
            if (
                found
                and pattern is not _weekday_before()
                and _after_measurement(text, found.start())
            ):
                found = None
            if found and pattern is _RANGE_BEFORE and _NUMERIC_DAY_MONTH.match(text, start):
                found = None  # "score 7 - 30/11/2026": a range of numeric dates repeats the month
            if found and (pattern is not _RANGE_BEFORE or text[start].isdigit()):
                start = found.start()
                break
        else:
            break
    return start, end
