"""Checks that a PHI rule's match must pass (``validate:`` in ``assistant/data/phi_rules.yaml``):
identifier checksums and real calendar dates. A pattern says what an identifier looks like; the
check keeps lookalikes (a lab value, a score, 120/80) out."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable

_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        (
            "jan january",
            "feb february",
            "mar march",
            "apr april",
            "may",
            "jun june",
            "jul july",
            "aug august",
            "sep sept september",
            "oct october",
            "nov november",
            "dec december",
        )
    )
    for m in names.split()
}


def digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def nhs_number(text: str) -> bool:
    """A 10-digit NHS number: modulus 11 check digit (NHS Data Dictionary, "NHS Number")."""
    d = digits(text)
    if len(d) != 10 or len(set(d)) == 1:
        return False
    total = sum(int(ch) * (10 - i) for i, ch in enumerate(d[:9]))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(d[9])


def luhn_number(text: str) -> bool:
    """A 13-19 digit card or account number whose last digit is its Luhn check digit."""
    d = digits(text)
    if not 13 <= len(d) <= 19 or len(set(d)) == 1:
        return False
    total = 0
    for i, ch in enumerate(reversed(d)):
        n = int(ch) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def id_code(text: str) -> bool:
    """An identifier code: at least 5 digits, or at least 4 beside letters (not a year)."""
    d = digits(text)
    letters = sum(ch.isalpha() for ch in text)
    if len(d) >= 5:
        return True
    return len(d) == 4 and letters > 0


def _year_ok(y: int) -> bool:
    return y < 100 or 1880 <= y <= 2100


def _real(day: int, month: int, year: int | None) -> bool:
    if year is not None and not _year_ok(year):
        return False
    y = 2000 if year is None else (year + 2000 if year < 100 else year)
    try:
        datetime.date(y, month, day)
    except ValueError:
        return False
    return True


def calendar_date(text: str) -> bool:
    """``text`` names a real day: numbers in day/month/year, month/day/year or year-month-day
    order, or a month name with a day or a year ("31 April" fails). Whether "12/10" is a date
    or a pain score is the pattern's context to decide."""
    low = text.lower()
    nums = [int(n) for n in re.findall(r"\d+", low)]
    month = next((v for k, v in _MONTHS.items() if re.search(rf"\b{k}\b", low)), None)
    if month is not None:
        days = [n for n in nums if n <= 31]
        years = [n for n in nums if n > 31] or [n for n in nums if len(str(n)) == 4]
        year = years[0] if years else None
        if days:
            return _real(days[0], month, year)
        return year is not None and _year_ok(year)
    if len(nums) == 3:
        a, b, c = nums
        if a > 31:  # year first
            return _real(c, b, a)
        return _real(a, b, c) or _real(b, a, c)
    if len(nums) == 2:
        a, b = nums
        return _real(a, b, None) or _real(b, a, None)
    return False


VALIDATORS: dict[str, Callable[[str], bool]] = {
    "nhs": nhs_number,
    "luhn": luhn_number,
    "id_code": id_code,
    "date": calendar_date,
}
