"""Values in a patient's words: who is ill, age, how long, temperature, pain score.

All functions take text normalised by :func:`tools.triage.parse.normalize` (lower case) and,
where case matters (clinical "45M"), the original. Ranges are (low, high) in years or days, so
vague answers ("a few days", "my son") stay honest: a rule compares against the whole range.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

Range = tuple[float, float]

_NUM_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
}
_VAGUE = {
    "a couple of": (2.0, 3.0),
    "couple of": (2.0, 3.0),
    "a few": (2.0, 4.0),
    "few": (2.0, 4.0),
    "several": (3.0, 7.0),
}
_UNIT_DAYS = {
    "min": 1 / 1440,
    "minute": 1 / 1440,
    "hour": 1 / 24,
    "hr": 1 / 24,
    "day": 1.0,
    "night": 1.0,
    "week": 7.0,
    "wk": 7.0,
    "fortnight": 14.0,
    "month": 30.0,
    "mth": 30.0,
    "year": 365.0,
    "yr": 365.0,
}
_NUM = r"(\d+(?:\.\d+)?|a\s+couple\s+of|couple\s+of|a\s+few|few|several|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty)"
_UNIT = r"(min(?:ute)?s?|hours?|hrs?|days?|nights?|weeks?|wks?|fortnight|months?|mths?|years?|yrs?)"
_QUAL = r"(about\s+|around\s+|roughly\s+|nearly\s+|almost\s+|over\s+|more\s+than\s+|just\s+over\s+|under\s+|less\s+than\s+|at\s+least\s+)?"


@dataclass(frozen=True)
class Duration:
    range: Range
    start: int


def _number(word: str) -> Range:
    word = " ".join(word.split())
    if word in _VAGUE:
        return _VAGUE[word]
    if word in _NUM_WORDS:
        v = float(_NUM_WORDS[word])
        return (v, v)
    v = float(word)
    return (v, v)


def _unit_days(unit: str) -> float:
    unit = unit.rstrip("s") if unit not in ("mins",) else "min"
    for key, days in _UNIT_DAYS.items():
        if unit.startswith(key):
            return days
    return 1.0


def _qualify(rng: Range, qual: str | None) -> Range:
    lo, hi = rng
    q = (qual or "").strip()
    if q in ("over", "more than", "just over", "at least"):
        return (lo, max(hi * 2, hi + 1))
    if q in ("nearly", "almost", "under", "less than"):
        return (lo * 0.8, hi)
    return (lo, hi)


_DAYS_OF_WEEK = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|the\s+weekend)"
_SINCE = {
    r"this\s+morning|today|this\s+afternoon|this\s+evening|earlier(?:\s+today)?|lunch(?:time)?|breakfast": (
        0.05,
        0.6,
    ),
    r"last\s+night|overnight|tonight": (0.3, 1.0),
    r"yesterday(?:\s+(?:morning|afternoon|evening))?": (1.0, 1.6),
    _DAYS_OF_WEEK: (1.0, 6.0),
    r"last\s+week": (5.0, 13.0),
    r"last\s+month": (25.0, 60.0),
    r"christmas|new\s+year|the\s+summer|the\s+spring": (20.0, 180.0),
}
_PATTERNS = [
    # "for 3 days", "for the last couple of months", "for about 5 weeks now"
    re.compile(rf"\bfor\s+(?:the\s+(?:last|past)\s+)?{_QUAL}{_NUM}\s*{_UNIT}\b"),
    re.compile(rf"\b(?:the\s+)?(?:last|past)\s+{_QUAL}{_NUM}\s*{_UNIT}\b"),
    # "3 days now", "started 2 hours ago" (a bare "5 years ago" dates an event, not the illness)
    re.compile(rf"\b{_QUAL}{_NUM}\s*{_UNIT}\s+(?:now|so\s+far|running|in)\b"),
    re.compile(
        rf"\b(?:started|starting|began|came\s+on|come\s+on|since|woke\s+up\s+with\s+it|first\s+noticed\w*|been\s+going|sprained|twisted|hurt|injured|fell|broke|cut|burnt|burned|bitten|stung|hit|banged|bumped|happened)(?:\s+\w+){{0,4}}?\s+(?:it\s+)?{_QUAL}{_NUM}\s*{_UNIT}\s+ago\b"
    ),
    re.compile(rf"\bafter\s+{_QUAL}{_NUM}\s*{_UNIT}\b"),
    re.compile(rf"\b(?:over|in)\s+the\s+(?:last|past)\s+{_QUAL}{_NUM}\s*{_UNIT}\b"),
    re.compile(rf"\bover\s+(?:the\s+(?:last|past)\s+)?{_QUAL}{_NUM}\s*{_UNIT}\b"),
    re.compile(rf"\b{_QUAL}{_NUM}[-\s]{_UNIT}\s+(?:history|hx)\b"),
    re.compile(rf"\bhad\s+(?:it|them|this)\s+(?:for\s+)?{_QUAL}{_NUM}\s*{_UNIT}\b"),
    re.compile(rf"\b(?:it.?s\s+been|been)\s+{_QUAL}{_NUM}\s*{_UNIT}\b"),
]
_CLINICAL = re.compile(r"\b(\d{1,2})\s*/\s*(7|52|12)\b")
_DAY_N = re.compile(r"\bday\s+(\d{1,2})\b|\b(\d{1,2})(?:st|nd|rd|th)\s+day\b")
_VAGUE_SPANS = [
    (re.compile(r"\bfor\s+(?:ages|a\s+long\s+time|years)\b"), (180.0, 3650.0)),
    (re.compile(r"\bfor\s+months\b|\bmonths\s+now\b"), (60.0, 365.0)),
    (re.compile(r"\bfor\s+weeks\b|\bweeks\s+now\b"), (14.0, 60.0)),
    (re.compile(r"\bfor\s+(?:a\s+)?(?:few|couple\s+of)\s+days\b|\ba\s+few\s+days\b"), (2.0, 4.0)),
    (re.compile(r"\bfor\s+a\s+while\b"), (7.0, 90.0)),
    (re.compile(r"\bover\s+the\s+last\s+(?:year|12\s+months)\b"), (180.0, 365.0)),
    (re.compile(r"\b(?:for|over|in)\s+the\s+(?:last|past)\s+month\b"), (28.0, 31.0)),
    (re.compile(r"\b(?:for|over|in)\s+the\s+(?:last|past)\s+(?:week|fortnight)\b"), (7.0, 14.0)),
    (re.compile(r"\b(?:for|over|in)\s+the\s+(?:last|past)\s+year\b"), (180.0, 365.0)),
    (re.compile(r"\bover\s+(?:a|one)\s+(month|week|year)\b"), (0.0, 0.0)),
]
_BARE = re.compile(rf"^\W*{_QUAL}{_NUM}\s*{_UNIT}\b")


def parse_durations(text: str, *, bare: bool = False) -> list[Duration]:
    """Every duration stated, as day ranges, in order of appearance."""
    out: list[Duration] = []
    taken: list[tuple[int, int]] = []
    for pattern in _PATTERNS:
        for m in pattern.finditer(text):
            qual, num, unit = m.group(1), m.group(2), m.group(3)
            lo, hi = _number(num)
            days = _unit_days(unit)
            out.append(Duration(_qualify((lo * days, hi * days), qual), m.start()))
            taken.append((m.start(), m.end()))
    for m in re.finditer(r"\bsince\s+(?:last\s+)?(" + "|".join(_SINCE) + r")", text):
        word = m.group(1)
        for key, rng in _SINCE.items():
            if re.fullmatch(key, word):
                out.append(Duration(rng, m.start()))
                break
    for m in re.finditer(
        r"\b(?:started|began|came\s+on|woke\s+up\s+with\s+it)\s+(" + "|".join(_SINCE) + r")", text
    ):
        for key, rng in _SINCE.items():
            if re.fullmatch(key, m.group(1)):
                out.append(Duration(rng, m.start()))
                break
    for m in re.finditer(r"\bwoke\s+(?:up\s+)?(?:this\s+morning|today)\b", text):
        out.append(Duration((0.05, 0.6), m.start()))
    if not out:  # "sick twice this morning": a time word alone dates a recent start
        for m in re.finditer(
            r"\b(?:this\s+(?:morning|afternoon|evening)|today|tonight|last\s+night)\b", text
        ):
            out.append(Duration((0.05, 1.0), m.start()))
    for m in _CLINICAL.finditer(text):
        n, base = float(m.group(1)), m.group(2)
        days = {"7": 1.0, "52": 7.0, "12": 30.0}[base]
        out.append(Duration((n * days, n * days), m.start()))
    for m in _DAY_N.finditer(text):
        n = float(m.group(1) or m.group(2))
        # "the 5th day of it": clinical counting, the first day is day 1 (NICE NG143's "fever
        # for 5 days or more" includes a fever on its fifth day)
        out.append(Duration((n, n), m.start()))
    for pattern, rng in _VAGUE_SPANS:
        for m in pattern.finditer(text):
            if any(a <= m.start() < b or m.start() <= a < m.end() for a, b in taken):
                continue  # "about 4 weeks now" already read precisely
            if rng == (0.0, 0.0):
                unit = _unit_days(m.group(1))
                out.append(Duration((unit, unit * 2), m.start()))
            else:
                out.append(Duration(rng, m.start()))
    if bare and not out:
        b = _BARE.search(text)
        if b:
            lo, hi = _number(b.group(2))
            days = _unit_days(b.group(3))
            out.append(Duration(_qualify((lo * days, hi * days), b.group(1)), b.start()))
    out.sort(key=lambda d: d.start)
    return out


# ---------------------------------------------------------------- temperature, pain score

_TEMP_C = re.compile(
    r"(?<![\d/.])(3[5-9]|4[0-2])(?:\.(\d))?\s*(°\s*c?|degrees?(?:\s*c(?:elsius)?)?|c\b)?(?!\s*(?:weeks?|wks?|years?|yrs?|y/?o|months?|days?|hours?|mins?|minutes?|kg|cm|mm|%|/|out\s+of|\d))"
)
_TEMP_F = re.compile(
    r"(?<![\d/.])(9[7-9]|10[0-7])(?:\.(\d))?\s*(?:°\s*f|f\b|degrees?\s*f|fahrenheit|degrees)"
)
_TEMP_CONTEXT = re.compile(r"\b(?:temp\w*|fever|thermometer|therm|reading|burning\s+up|hot|°)")


def parse_temperature(text: str, *, bare: bool = False) -> float | None:
    """The highest body temperature stated, in C (Fahrenheit converted)."""
    values: list[float] = []
    for m in _TEMP_C.finditer(text):
        value = float(m.group(1) + ("." + m.group(2) if m.group(2) else ""))
        window = text[max(0, m.start() - 30) : m.end() + 25]
        if m.group(2) or m.group(3) or _TEMP_CONTEXT.search(window) or bare:
            values.append(value)
    for m in _TEMP_F.finditer(text):
        f = float(m.group(1) + ("." + m.group(2) if m.group(2) else ""))
        values.append(round((f - 32) * 5 / 9, 1))
    return max(values) if values else None


_SCORE = re.compile(r"\b(10|[0-9])(?:\.5)?\s*(?:or\s+(10|[0-9])\s*)?(?:/|out\s+of)\s*10\b")
_BARE_SCORE = re.compile(
    r"^\W*(?:about\s+|around\s+)?(10|[0-9])(?:\s*(?:or|-|to)\s*(10|[0-9]))?\W*$"
)
_WORDS = [
    (
        re.compile(
            r"\b(?:agony|agonising|agonizing|unbearable|excruciating|worst\s+(?:pain|ever)|screaming|can.?t\s+bear|the\s+worst)\b"
        ),
        9.0,
    ),
    (
        re.compile(
            r"\b(?:terrible|horrendous|awful)\s+pain\b|\bpain\s+is\s+(?:terrible|horrendous|awful)\b"
        ),
        8.0,
    ),
    (
        re.compile(
            r"\b(?:severe|really\s+bad|very\s+bad|terrible|horrendous|horrible|killing\s+me|so\s+bad|really\s+painful|very\s+painful|excruciating)\b"
        ),
        7.0,
    ),
    (re.compile(r"\b(?:moderate|quite\s+bad|quite\s+painful)\b"), 5.0),
    (
        re.compile(
            r"\b(?:mild|slight|niggl\w*|twinge|a\s+bit\s+sore|not\s+too\s+bad|bearable|a\s+bit|a\s+little|bit\s+of)\b"
        ),
        2.0,
    ),
]


def parse_severity(text: str, *, bare: bool = False) -> float | None:
    """A 0-10 pain score, from numbers ("7/10", "8 or 9 out of 10") or words ("agonising")."""
    scores = []
    for m in _SCORE.finditer(text):
        scores.append(float(max(int(m.group(1)), int(m.group(2) or 0))))
    if scores:
        return max(scores)
    if bare:
        b = _BARE_SCORE.match(text)
        if b:
            return float(max(int(b.group(1)), int(b.group(2) or 0)))
    for pattern, value in _WORDS:
        if pattern.search(text):
            return value
    return None


# ---------------------------------------------------------------- subject, age, sex

_RELATIONS: dict[str, tuple[Range | None, str | None]] = {
    # relation word: (age range in years when no age is given, sex)
    "newborn": ((0.0, 0.1), None),
    "baby": ((0.0, 1.0), None),
    "infant": ((0.0, 1.0), None),
    "toddler": ((1.0, 3.0), None),
    "little one": ((0.0, 10.0), None),
    "kid": ((1.0, 15.0), None),
    "child": ((0.0, 15.0), None),
    "boy": ((0.0, 16.0), "male"),
    "girl": ((0.0, 16.0), "female"),
    "son": (None, "male"),
    "daughter": (None, "female"),
    "grandson": ((0.0, 40.0), "male"),
    "granddaughter": ((0.0, 40.0), "female"),
    "nephew": ((0.0, 60.0), "male"),
    "niece": ((0.0, 60.0), "female"),
    "husband": ((16.0, 110.0), "male"),
    "wife": ((16.0, 110.0), "female"),
    "partner": ((16.0, 110.0), None),
    "boyfriend": ((14.0, 110.0), "male"),
    "girlfriend": ((14.0, 110.0), "female"),
    "fiance": ((16.0, 110.0), None),
    "fiancee": ((16.0, 110.0), "female"),
    "mum": ((30.0, 110.0), "female"),
    "mom": ((30.0, 110.0), "female"),
    "mother": ((30.0, 110.0), "female"),
    "dad": ((30.0, 110.0), "male"),
    "father": ((30.0, 110.0), "male"),
    "nan": ((50.0, 110.0), "female"),
    "nana": ((50.0, 110.0), "female"),
    "gran": ((50.0, 110.0), "female"),
    "granny": ((50.0, 110.0), "female"),
    "grandma": ((50.0, 110.0), "female"),
    "grandmother": ((50.0, 110.0), "female"),
    "grandad": ((50.0, 110.0), "male"),
    "granddad": ((50.0, 110.0), "male"),
    "grandpa": ((50.0, 110.0), "male"),
    "grandfather": ((50.0, 110.0), "male"),
    "brother": ((0.0, 110.0), "male"),
    "sister": ((0.0, 110.0), "female"),
    "friend": ((10.0, 110.0), None),
    "flatmate": ((16.0, 110.0), None),
    "roommate": ((16.0, 110.0), None),
    "housemate": ((16.0, 110.0), None),
    "neighbour": ((16.0, 110.0), None),
    "colleague": ((16.0, 110.0), None),
    "uncle": ((16.0, 110.0), "male"),
    "aunt": ((16.0, 110.0), "female"),
    "resident": ((40.0, 110.0), None),
    "patient": (None, None),
}
_REL_WORDS = sorted(_RELATIONS, key=len, reverse=True)
_RELATION = re.compile(
    r"\b(?:my|our|the(?=\s+(?:baby|child|kid|toddler|patient|resident|little\s+one)\b))\s+(?:\w+[-\s]?(?:year|yr|month|week|day)s?[-\s]?old\s+|little\s+|baby\s+|eldest\s+|youngest\s+|older\s+|younger\s+|elderly\s+|\d+\s*(?:yo|y/o)\s+)?("
    + "|".join(re.escape(w) for w in _REL_WORDS)
    + r")s?\b"
)
# a message about a young child that starts with the child, without "my" ("baby feels hot")
_BARE_YOUNG = re.compile(
    r"^\W*(baby|newborn|infant|toddler)\b(?=\s+(?:is|has|was|feels?|felt|keeps|seems?|looks?"
    r"|been|won.?t|can.?t|isn.?t|hasn.?t|not|'s)\b)"
)
_THIRD = re.compile(
    r"^\W*(?:pt|patient|resident|\d{1,3}\s*(?:yo|y/o|y\.o\.|year\s+old)|\d{1,3}\s*[mf]\b)"
)
_SELF = re.compile(r"\b(?:i|i'm|i've|i'd|me|my|myself)\b")
_MALE = re.compile(
    r"\b(?:he|him|his|man|male|gentleman|guy|bloke)\b|\bi.?m\s+a\s+(?:\d+\s+year\s+old\s+)?man\b"
)
_FEMALE = re.compile(r"\b(?:she|her|woman|female|lady)\b")


@dataclass(frozen=True)
class Subject:
    subject: str | None
    relation: str | None
    sex: str | None
    nursing: bool = False  # a feeding mother telling of her own breast (``nursing_writer``)


# round 12b: a mother writing about her own breast while feeding her baby ("breastfeeding my 5 wk
# old, left boob has a hard red patch") is the one who is ill, not the baby (NICE CKS Mastitis and
# breast abscess: lactating women); the baby's age is not hers
_NURSING = re.compile(r"\b(?:breast\s*-?\s*feed\w*|nursing|expressing)\b")
_OWN_BREAST = re.compile(r"\b(?:boobs?|breasts?|nipples?)\b")
_BABY_AGE = re.compile(
    r"\b(?:my|our|her|the)\s+(?:\w+\s+)?\d{1,2}\s*-?\s*(?:weeks?|wks?|months?|mths?|days?)"
    r"\s*-?\s*old\b"
)


# round 12b mend: "feeding from the breast ok" / "sleepy at the breast" is no breast complaint; the
# mother is the patient only when the breast itself is the complaint and the baby has no symptom
# of its own (a baby's diarrhoea, vomiting, cough, jaundice or fast breathing keeps the baby, with
# its age, as the patient: NICE CG84, NG143, CG98, NG9)
_BREAST_SIGN = (
    r"(?:hard|red|redness|lump\w*|pain\w*|sore|tender|crack\w*|bleed\w*|swollen|swelling|hot|"
    r"patch|blocked|engorged|itch\w*|inflamed)"
)
_BREAST_COMPLAINT = re.compile(
    rf"\bmastitis\b|\b(?:boobs?|breasts?|nipples?)\b(?:\W+\w+){{0,4}}?\W+{_BREAST_SIGN}\b"
    rf"|\b{_BREAST_SIGN}\W+(?:\w+\W+){{0,3}}?(?:boobs?|breasts?|nipples?)\b"
)
_BABY_SYMPTOM = re.compile(
    r"\b(?:diarrho?ea|the\s+runs|vomit\w*|being\s+sick|cough\w*|runny\s+nose|snuffl\w*|yellow\w*|"
    r"jaundic\w*|breathing|breathless|wheez\w*|grunt\w*|floppy|rash|fits?|seizures?|"
    r"(?:she|he)\s+(?:is|has|'s|has\s+been|was|keeps|seems)\b)"
)


def nursing_writer(text: str) -> bool:
    """Whether the writer is a feeding mother telling of her own breast (and not of her baby)."""
    return bool(
        _NURSING.search(text)
        and _OWN_BREAST.search(text)
        and _BREAST_COMPLAINT.search(text)
        and not _BABY_SYMPTOM.search(text)
    )


def without_baby_age(text: str) -> str:
    """The text with "my 5 wk old" removed (the baby's age, when the mother is the one ill)."""
    return _BABY_AGE.sub(" ", text)


def parse_subject(text: str, original: str = "") -> Subject:
    """Who is ill: the writer ("self") or someone else ("other", with the relation)."""
    if nursing_writer(text):
        return Subject("self", None, "female", nursing=True)
    rel = _RELATION.search(text) or _BARE_YOUNG.search(text)
    m_clin = re.search(r"\b\d{1,3}\s*([MF])\b", original)
    if rel:
        word = rel.group(1)
        sex = _RELATIONS[word][1]
        if sex is None:
            sex = _pronoun_sex(text)
        return Subject("other", word, sex)
    if m_clin or _THIRD.search(text):
        sex = {"M": "male", "F": "female"}.get(m_clin.group(1)) if m_clin else _pronoun_sex(text)
        return Subject("other", "patient", sex)
    carer = re.search(r"\bi.?m\s+(?:his|her|their)\s+\w+", text)
    third = r"\b(?:he|she|they)\s*(?:is|'s|has|was|had|keeps|can.?t|won.?t|hasn.?t)\b"
    if carer and re.search(third, text):  # "I'm his daughter. He is 76 and breathless"
        return Subject("other", None, _pronoun_sex(text))
    if _SELF.search(text):
        sex = (
            "male"
            if re.search(
                r"\bi.?m\s+a\s+(?:\d+\s*(?:year|yr)\s*old\s+)?(?:man|guy|bloke|male)\b"
                # round 12a: "bloke, 35.", "im a 40yo guy", "as a man"
                r"|^\W*(?:bloke|man|male|guy|gent)\b|\bas\s+a\s+(?:man|guy|bloke|male)\b"
                r"|\bim\s+a\s+(?:\d+\s*(?:yo|y/o|year\s+old|yr\s+old)\s+)?(?:man|guy|bloke|male)\b",
                text,
            )
            else None
        )
        if re.search(
            r"\bi.?m\s+a\s+(?:\d+\s*(?:year|yr)\s*old\s+)?(?:woman|lady|female|girl)\b", text
        ):
            sex = "female"
        return Subject("self", None, sex)
    if re.search(r"\b(?:he|she|they)\s+(?:is|has|was|had|keeps|can|can't|won't)\b", text):
        return Subject("other", None, _pronoun_sex(text))
    return Subject(None, None, None)


def _pronoun_sex(text: str) -> str | None:
    male, female = len(_MALE.findall(text)), len(_FEMALE.findall(text))
    if male > female:
        return "male"
    if female > male:
        return "female"
    return None


_NOT_AGE = r"(?!\s*(?:weeks?|wks?|months?|mths?|days?|hours?|hrs?|mins?|minutes?|times?|%|kg|kilos?|lbs?|pounds?|stone|cm|mm|ft|feet|inches|/|out\s+of|or\s+\d|am|pm|\.\d|:\d|x\b|mg|ml|cups?|pints?|units?))"
_AGE_PATTERNS = [
    (re.compile(r"\b(\d{1,3})\s*(?:-|\s)?(?:years?|yrs?|yr|y)\s*(?:-|\s)?old\b"), 1.0),
    (re.compile(r"\b(\d{1,2})\s*(?:-|\s)?(?:weeks?|wks?|wk)\s*(?:-|\s)?old\b"), 1 / 52),
    (re.compile(r"\b(\d{1,2})\s*(?:-|\s)?(?:months?|mths?|mos?|mo)\s*(?:-|\s)?old\b"), 1 / 12),
    (re.compile(r"\b(\d{1,2})\s*(?:-|\s)?days?\s*(?:-|\s)?old\b"), 1 / 365),
    (re.compile(r"\b(\d{1,3})\s*(?:yo|y/o|y\.o\.)(?!\w)"), 1.0),
    (re.compile(r"\baged?\s*:?\s*(\d{1,3})\b"), 1.0),
    (re.compile(r"\b(?:i\s+am|i.?m|im)\s+(?:only\s+|just\s+)?(\d{1,3})\b" + _NOT_AGE), 1.0),
    (
        re.compile(r"\b(?:he|she|they).?(?:s|is|are)\s+(?:only\s+|just\s+)?(\d{1,2})\b" + _NOT_AGE),
        1.0,
    ),
    (
        re.compile(r"\b(?:he|she|they)\s+(?:is|are)\s+(?:only\s+|just\s+)?(\d{1,2})\b" + _NOT_AGE),
        1.0,
    ),
    (
        re.compile(
            r"\b(?:son|daughter|boy|girl|child|kid|mum|mom|mother|dad|father|nan|gran|granny|grandma|grandad|grandpa|husband|wife|partner|brother|sister|friend)\s+(?:is|who\s+is|who.?s|,)\s*(?:only\s+|just\s+)?(\d{1,3})\b"
            + _NOT_AGE
        ),
        1.0,
    ),
    (  # "mum (83)", "my dad (77)": an age in brackets after the relation
        re.compile(
            r"\b(?:son|daughter|boy|girl|child|kid|mum|mom|mother|dad|father|nan|nana|gran|granny|grandma|grandad|grandpa|husband|wife|partner|brother|sister|friend|neighbour)\s*\(\s*(\d{1,3})\s*\)"
        ),
        1.0,
    ),
    (
        re.compile(r"\b(?:baby|son|daughter|boy|girl)\s+(?:is\s+)?(\d{1,2})\s*(?:months?|mths?)\b"),
        1 / 12,
    ),
    (
        re.compile(
            r"\b(?:baby|son|daughter|boy|girl)\s+(?:is\s+)?(\d{1,2})\s*(?:weeks?|wks?)\b(?!\s+pregnant)"
        ),
        1 / 52,
    ),
    (re.compile(r",\s*(?:he|she).?s\s+(\d{1,2})\s*(?:months?)\b"), 1 / 12),
    (
        re.compile(
            r"\b(?:mum|mom|mother|dad|father|nan|gran|granny|grandma|grandad|grandpa|husband|wife|partner)\s+(?:aged\s+)?(\d{2,3})\b"
            + _NOT_AGE
        ),
        1.0,
    ),
    (
        re.compile(
            r"\b(?:who\s+is|who.?s|is|aged)\s+(\d{1,2})\s*(?:months?|mths?)\b(?!\s+pregnant)"
        ),
        1 / 12,
    ),
    (
        re.compile(r"\b(?:who\s+is|who.?s|is|aged)\s+(\d{1,2})\s*(?:weeks?|wks?)\b(?!\s+pregnant)"),
        1 / 52,
    ),
]
_DECADE = re.compile(r"\bin\s+(?:my|his|her|their)\s+(?:early\s+|late\s+|mid\s+)?([1-9])0s\b")
_BARE_AGE_UNIT = re.compile(
    r"^\W*(?:(?:about|nearly|almost|just\s+over|just\s+under)\s+)?(\d{1,2})\s*"
    r"(days?|weeks?|wks?|months?|mths?)\b"
)
_BARE_AGE = re.compile(
    r"^\W*(?:about\s+|around\s+|(?:i.?m|im|i\s+am|he.?s|she.?s|they.?re)\s+)?(\d{1,3})(?:\s*(?:years?|yrs?)(?:\s+old)?)?"
    # the whole answer, or its first sentence when the answers to two questions come together
    r"(?:\W*$|\s*[.;]\s+)"
)
_CLIN_AGE = re.compile(r"\b(\d{1,3})\s*([MF])\b")


_AGE_WORDS = re.compile(
    r"\b(" + "|".join(w for w in _NUM_WORDS if len(w) > 2) + r")(?=[-\s](?:years?|yrs?|weeks?|wks?"
    r"|months?|mths?|days?)[-\s]old\b)"
)


def parse_age(
    text: str, original: str = "", *, relation: str | None = None, bare: bool = False
) -> tuple[Range | None, bool]:
    """(age range in years, whether an age was stated). Without a stated age, a relation word
    gives a range ("baby": 0-1) and a first-person writer is taken to be an adult (16+)."""
    text = _AGE_WORDS.sub(lambda m: str(_NUM_WORDS[m.group(1)]), text)  # "six week old" -> 6
    for pattern, scale in _AGE_PATTERNS:
        m = pattern.search(text)
        if m:
            age = float(m.group(1)) * scale
            if 0 <= age <= 115:
                return (age, age), True
    m = _CLIN_AGE.search(original)
    if m:
        age = float(m.group(1))
        if age <= 115:
            return (age, age), True
    m = _DECADE.search(text)
    if m:
        lo = float(m.group(1)) * 10
        return (lo, lo + 9), True
    if bare:  # the age was just asked: "4 months", "about 6 weeks" is the person's age
        m = _BARE_AGE_UNIT.match(text)
        if m:
            unit = m.group(2)[0]
            age = float(m.group(1)) / {"d": 365.0, "w": 52.0, "m": 12.0}[unit]
            return (age, age), True
        m = _BARE_AGE.match(text)
        if m and 0 <= float(m.group(1)) <= 115:
            age = float(m.group(1))
            return (age, age), True
    if relation and relation in _RELATIONS and _RELATIONS[relation][0] is not None:
        return _RELATIONS[relation][0], False
    return None, False
