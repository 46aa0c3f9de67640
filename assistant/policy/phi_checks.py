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
    return 13 <= len(d) <= 19 and len(set(d)) > 1 and luhn_ok(d)


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


# --- national identifiers with a check digit ---------------------------------------------------
# Each check is the issuing authority's published algorithm; a number that fails every one is
# not taken without a label (the cue-word rule still takes it after "ID", "no." ...).


def _weighted(d: str, weights: tuple[int, ...]) -> int:
    return sum(int(ch) * w for ch, w in zip(d, weights, strict=False))


def luhn_ok(d: str) -> bool:
    """The Luhn (mod 10) check over a string of digits."""
    total = 0
    for i, ch in enumerate(reversed(d)):
        n = int(ch) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def bsn(d: str) -> bool:
    """Dutch burgerservicenummer: the "11-test" (weights 9..2 and -1)."""
    return len(d) == 9 and (_weighted(d[:8], (9, 8, 7, 6, 5, 4, 3, 2)) - int(d[8])) % 11 == 0


def sin(d: str) -> bool:
    """Canadian Social Insurance Number: 9 digits, Luhn, never starting with 0 or 8."""
    return len(d) == 9 and d[0] not in "08" and luhn_ok(d)


def tfn(d: str) -> bool:
    """Australian Tax File Number: weights 1,4,3,7,5,8,6,9,10, sum divisible by 11."""
    return len(d) == 9 and _weighted(d, (1, 4, 3, 7, 5, 8, 6, 9, 10)) % 11 == 0


def pesel(d: str) -> bool:
    """Polish PESEL: 11 digits, weights 1,3,7,9 repeated, and a real birth date in the first six
    (the month carries the century: +80 1800s, +20 2000s)."""
    if len(d) != 11:
        return False
    check = (10 - _weighted(d[:10], (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)) % 10) % 10
    if check != int(d[10]):
        return False
    year, month, day = int(d[0:2]), int(d[2:4]), int(d[4:6])
    century = {0: 1900, 80: 1800, 20: 2000, 40: 2100, 60: 2200}.get((month - 1) // 20 * 20)
    if century is None:
        return False
    try:
        datetime.date(century + year, (month - 1) % 20 + 1, day)
    except ValueError:
        return False
    return True


def national_number(text: str) -> bool:
    """A bare 9 or 11 digit number that passes a national check: BSN, SIN, TFN (9), PESEL,
    Norwegian fødselsnummer, Belgian national number (11);
    the same number written with the groups of those formats."""
    d = digits(text)
    if len(set(d)) == 1:
        return False
    if len(d) == 9:
        return bsn(d) or sin(d) or tfn(d)
    return pesel(d) or VALIDATORS["eleven_digits"](d)


def personnummer(text: str) -> bool:
    """Swedish personal identity number (YY)YYMMDD-NNNN (Skatteverket): a real date (day +60
    for a coordination number); the short form must also pass the Luhn check over its ten
    digits."""
    d = digits(text)
    if len(d) == 12:  # the century written out: the date alone is specific enough
        year, month, day = int(d[:4]), int(d[4:6]), int(d[6:8])
        return _real(day - 60 if day > 60 else day, month, year)
    if len(d) != 10 or not luhn_ok(d):
        return False
    month, day = int(d[2:4]), int(d[4:6])
    day = day - 60 if day > 60 else day
    return _real(day, month, None)


_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def dni(text: str) -> bool:
    """Spanish DNI (8 digits and a letter) or NIE (X/Y/Z, 7 digits, a letter): the letter is
    the number mod 23 (Ministerio del Interior)."""
    t = re.sub(r"[\s.-]", "", text.upper())
    m = re.fullmatch(r"([XYZ]?)(\d{7,8})([A-Z])", t)
    if not m:
        return False
    lead, num, letter = m.groups()
    if lead:
        if len(num) != 7:
            return False
        num = str("XYZ".index(lead)) + num
    elif len(num) != 8:
        return False
    return _DNI_LETTERS[int(num) % 23] == letter


def ppsn(text: str) -> bool:
    """Irish PPS number: 7 digits, a check letter and an optional letter; weights 8..2 on the
    digits, 9 on the second letter (A=1 ... W=0), mod 23 (A=1 ... W=0)."""
    t = re.sub(r"\s", "", text.upper())
    m = re.fullmatch(r"(\d{7})([A-W])([A-IW]?)", t)
    if not m:
        return False
    num, check, extra = m.groups()
    total = _weighted(num, (8, 7, 6, 5, 4, 3, 2))
    if extra:
        total += 9 * (0 if extra == "W" else ord(extra) - 64)
    value = total % 23
    return (check == "W" and value == 0) or (value > 0 and ord(check) - 64 == value)


VALIDATORS.update(
    {
        "national": national_number,
        "personnummer": personnummer,
        "dni": dni,
        "ppsn": ppsn,
    }
)


# --- more national schemes, checked by python-stdnum ------------------------------------------
# python-stdnum (LGPL-2.1+, a maintained library of identifier formats and check digits) holds
# each scheme's published algorithm; the rules in ``phi_rules.yaml`` give the shape (with the
# separators people write), stdnum says whether the check digits and the encoded birth date hold.
# A scheme whose check passes many random numbers (Austrian VNR: about 1 in 12; Czech and Danish
# birth numbers: 1 in 30-50) is only taken in its written shape (a space, a slash, a dash).


def _stdnum(*modules: str) -> Callable[[str], bool]:
    def check(text: str) -> bool:
        import importlib

        for name in modules:
            try:
                module = importlib.import_module(f"stdnum.{name}")
            except ImportError:  # pragma: no cover - python-stdnum missing: the shape alone fails
                return False
            try:
                if module.is_valid(text):
                    return True
            except Exception:  # a scheme that chokes on the text is not a match
                continue
        return False

    check.__doc__ = "python-stdnum: " + ", ".join(modules)
    return check


VALIDATORS.update(
    {
        # Italian codice fiscale (16 characters, check letter), Agenzia delle Entrate
        "codice_fiscale": _stdnum("it.codicefiscale"),
        # French NIR / INSEE number (13 digits and a 2-digit key, mod 97)
        "nir": _stdnum("fr.nir"),
        # Swiss AHV / AVS number (756, EAN-13 check digit)
        "ahv": _stdnum("ch.ssn"),
        # birth numbers written with a separator: Finnish HETU (check character mod 31), Danish
        # CPR, Czech / Slovak rodné číslo (mod 11), Swedish personnummer
        "birth_number": _stdnum("fi.hetu", "dk.cpr", "cz.rc", "sk.rc", "se.personnummer"),
        # 11 digits: Norwegian fødselsnummer (two mod-11 digits), Belgian national number (mod
        # 97 over the birth date), Polish PESEL, Danish/Finnish are 10 or have a letter
        "eleven_digits": _stdnum("no.fodselsnummer", "be.nn", "pl.pesel"),
        # 13 digits: Romanian CNP, Bulgarian EGN is 10 (check digit and birth date)
        "thirteen_digits": _stdnum("ro.cnp"),
        # Austrian social insurance number (Versicherungsnummer): 4 digits, birth date
        "vnr": _stdnum("at.vnr"),
    }
)


# --- ages written in words ---------------------------------------------------------------------
_UNITS = {
    w: i
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
        ]
    )
}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70}
_TENS |= {"eighty": 80, "ninety": 90}


def number_words(text: str) -> int | None:
    """The value of an English cardinal under a thousand written in words ("ninety-four",
    "a hundred and one", "one hundred twelve"); None when ``text`` is not one."""
    words = [w for w in re.split(r"[\s-]+", text.lower().strip()) if w and w != "and"]
    if not words:
        return None
    total = 0
    i = 0
    if len(words) >= 2 and words[1] == "hundred" and words[0] in ("a", "one"):
        total, i = 100, 2
    elif words[0] == "hundred":
        total, i = 100, 1
    rest = words[i:]
    if not rest:
        return total or None
    if len(rest) == 1 and rest[0] in _UNITS:
        return total + _UNITS[rest[0]]
    if rest[0] in _TENS and len(rest) <= 2:
        if len(rest) == 2 and (rest[1] not in _UNITS or _UNITS[rest[1]] >= 10):
            return None
        return total + _TENS[rest[0]] + (_UNITS[rest[1]] if len(rest) == 2 else 0)
    return None


def age_in_words(text: str) -> bool:
    """``text`` is an age over 89 written in words (90 to 125: HIPAA Safe Harbor, 45 CFR
    164.514(b)(2)(i)(C))."""
    value = number_words(_value_words(text))
    return value is not None and 90 <= value <= 125


def _value_words(text: str) -> str:
    return re.sub(r"[^A-Za-z\s-]", " ", text)


VALIDATORS["age_words"] = age_in_words
