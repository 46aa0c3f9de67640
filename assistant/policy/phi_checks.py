"""Checks that a PHI rule's match must pass (``validate:`` in ``assistant/data/phi_rules.yaml``):
identifier checksums and real calendar dates. A pattern says what an identifier looks like; the
check keeps lookalikes (a lab value, a score, 120/80) out."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable

from stdnum import luhn as _luhn
from stdnum.au import tfn as _au_tfn
from stdnum.ca import sin as _ca_sin
from stdnum.es import dni as _es_dni
from stdnum.es import nie as _es_nie
from stdnum.gb import nhs as _gb_nhs
from stdnum.ie import pps as _ie_pps
from stdnum.nl import bsn as _nl_bsn
from stdnum.pl import pesel as _pl_pesel

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
    """A 10-digit NHS number: modulus 11 check digit (NHS Data Dictionary, "NHS Number";
    python-stdnum's ``gb.nhs``)."""
    d = digits(text)
    return len(d) == 10 and len(set(d)) > 1 and _gb_nhs.is_valid(d)


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
    # a month name between non-letters: "30 Nov 2026" and "30Nov2026" alike
    month = next(
        (v for k, v in _MONTHS.items() if re.search(rf"(?<![a-z]){k}(?![a-z])", low)), None
    )
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
# Each check is the issuing authority's published algorithm as python-stdnum implements it; a
# number that fails every one is not taken without a label (the cue-word rule still takes it
# after "ID", "no." ...).


def luhn_ok(d: str) -> bool:
    """The Luhn (mod 10) check over a string of digits (python-stdnum's ``luhn``)."""
    return _luhn.is_valid(d)


def bsn(d: str) -> bool:
    """Dutch burgerservicenummer: the "11-test" (python-stdnum's ``nl.bsn``)."""
    return len(d) == 9 and _nl_bsn.is_valid(d)


def sin(d: str) -> bool:
    """Canadian Social Insurance Number: 9 digits, Luhn (python-stdnum's ``ca.sin``)."""
    return len(d) == 9 and _ca_sin.is_valid(d)


def tfn(d: str) -> bool:
    """Australian Tax File Number: weighted sum mod 11 (python-stdnum's ``au.tfn``)."""
    return len(d) == 9 and _au_tfn.is_valid(d)


def pesel(d: str) -> bool:
    """Polish PESEL: weights 1,3,7,9 and a real birth date whose month carries the century
    (python-stdnum's ``pl.pesel``)."""
    return len(d) == 11 and _pl_pesel.is_valid(d)


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


def dni(text: str) -> bool:
    """Spanish DNI (8 digits and a letter) or NIE (X/Y/Z, 7 digits, a letter): the letter is
    the number mod 23 (python-stdnum's ``es.dni`` and ``es.nie``)."""
    t = re.sub(r"[\s.-]", "", text.upper())
    return _es_dni.is_valid(t) or _es_nie.is_valid(t)


def ppsn(text: str) -> bool:
    """Irish PPS number: 7 digits, a check letter and an optional letter, mod 23 (python-stdnum's
    ``ie.pps``)."""
    t = re.sub(r"\s", "", text.upper())
    return bool(re.fullmatch(r"\d{7}[A-W][A-IW]?", t)) and _ie_pps.is_valid(t)


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


# --- national identifiers beyond Europe (round 6): shapes in phi_rules.yaml, checks here ------
VALIDATORS.update(
    {
        # India's Aadhaar (12 digits, Verhoeff check, never starting 0 or 1), UIDAI
        "aadhaar": _stdnum("in_.aadhaar"),
        # Mexico's CURP (18 characters, birth date and check digit), RENAPO
        "curp": _stdnum("mx.curp"),
        # South African identity number (13 digits, birth date, Luhn), Home Affairs
        "za_id": _stdnum("za.idnr"),
        # Chile's RUT/RUN and Argentina's CUIT/CUIL (mod-11 check digit); Brazil's CPF (two
        # mod-11 digits); Korea's resident registration number; Turkey's T.C. Kimlik No
        "latam_id": _stdnum("cl.rut", "ar.cuit", "br.cpf"),
        "asia_id": _stdnum("kr.rrn", "cn.ric", "tr.tckimlik", "my.nric"),
    }
)
