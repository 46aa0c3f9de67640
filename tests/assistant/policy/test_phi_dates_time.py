"""A date's span reaches over an attached time and a weekday before it, in every date form the
detector knows; days and months without a year need a date cue and are never a ratio, a blood
pressure, a score, a dose or a fraction. Texts written for these tests (before the rules were
changed), not taken from any PHI set."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.policy import phi, phi_date_times
from tests.fakes.phi_spans import covered


def _covered(text: str, part: str) -> bool:
    """Every letter and digit of ``part`` (in ``text``) lies in a DATE span of the rules."""
    return covered(text, part, library=False, kinds=("DATE", "DOB"))


def _dates(text: str) -> list[str]:
    return [
        text[s.start : s.end] for s in phi.detect(text, library=False) if s.kind in ("DATE", "DOB")
    ]


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("Specimen received: 19/01/2026 11:42. Skin ellipse.", "19/01/2026 11:42"),
        ("Baby born 29/11/2026 at 03:47, BW 3.4 kg", "29/11/2026 at 03:47"),
        ("Admitted Sunday 29/11/2026 at 21:10. Clerking", "Sunday 29/11/2026 at 21:10"),
        ("Currently 18/12/2026 at 9:40. My CHI is", "18/12/2026 at 9:40"),
        ("Triage 30/11/26 07:15: reduced movements", "30/11/26 07:15"),
        ("Seen 3 Dec 2025, 14:30 in clinic", "3 Dec 2025, 14:30"),
        ("Sample taken 2025-11-28 14:05:33 by nurse", "2025-11-28 14:05:33"),
        ("Logged 2025-11-28T14:05Z by the pump", "2025-11-28T14:05Z"),
        ("Booked 12 March 2026 at 2pm with Dr Lee", "12 March 2026 at 2pm"),
        ("Booked 12 March 2026 at 2 p.m. with Dr Lee", "12 March 2026 at 2 p.m."),
        ("Review Tue 3rd March 2026 @ 10:15, room 4", "Tue 3rd March 2026 @ 10:15"),
        ("Termin am 03.12.2026 um 14:30 Uhr in der Praxis", "03.12.2026 um 14:30 Uhr"),
        ("rendez-vous le 5 novembre 2025 à 14h30 au cabinet", "5 novembre 2025 à 14h30"),
        ("ricoverato il 30 novembre 2026 alle ore 10:15 per", "30 novembre 2026 alle ore 10:15"),
        ("przyjęty 30.11.2026 o godz. 14:30 z bólem", "30.11.2026 o godz. 14:30"),
        ("ingresó el 30 de noviembre de 2026 a las 10:30", "30 de noviembre de 2026 a las 10:30"),
        ("opgenomen 30 november 2026 om 14.00 uur met", "30 november 2026 om 14.00 uur"),
        ("Incident 12/03/2026 1430hrs on ward 6", "12/03/2026 1430hrs"),
        ("Incident 12/03/2026 1430 hrs on ward 6", "12/03/2026 1430 hrs"),
        ("ECG 12/03/2026 14:30 GMT, sinus rhythm", "12/03/2026 14:30 GMT"),
        ("Call logged 2026-03-12 09:15 +01:00 by triage", "2026-03-12 09:15 +01:00"),
        ("Scan on Monday, 4 January 2027 at 08:00", "Monday, 4 January 2027 at 08:00"),
        ("Email sent Dec 3, 2025 at 4:15 PM EST to the GP", "Dec 3, 2025 at 4:15 PM EST"),
        ("Arrived 2026/11/30 08:00 by ambulance", "2026/11/30 08:00"),
        ("Arrived 30-Nov-2026 08:00 by ambulance", "30-Nov-2026 08:00"),
        ("Seen Nov 30th, 2026, 8:00am in ED", "Nov 30th, 2026, 8:00am"),
        ("Delivered at 03:47 on 29/11/2026, cried at birth", "03:47 on 29/11/2026"),
        ("Fall at 23:10, 14/02/2026, found by staff", "23:10, 14/02/2026"),
        ("Last seen Weds 9/12/2026 at 18:00", "Weds 9/12/2026 at 18:00"),
        ("Consent signed 05/11/2026 09:31:07 in clinic", "05/11/2026 09:31:07"),
    ],
)
def test_a_date_takes_its_time_and_weekday(text: str, date: str) -> None:
    assert _covered(text, date), (_dates(text), date)


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("Sandeep (surname Gill), 30/11: Dermatology review", "30/11"),
        ("my appointment letter says 8/12 but i have an exam", "8/12"),
        ("clinic 14/12 with the nurse", "14/12"),
        ("DOB 3/4, unsure of the year", "3/4"),
        ("admitted 29/11 via ED", "29/11"),
        ("discharged 2/12 to home", "2/12"),
        ("dated 7/11 from the GP", "7/11"),
        ("she was seen 30/11 by the team", "30/11"),
        ("moved my appt to 4/1 sorry", "4/1"),
        ("letter dated 12.11. arrived late", "12.11."),
        ("the clinic wrote 3-5 Dec 2025 for the stay", "3-5 Dec 2025"),
        ("on leave 14th-16th March", "14th-16th March"),
        ("between the 2nd and the 4th of December she was away", "the 4th of December"),
        ("first seen Dec '25 at the surgery", "Dec '25"),
        ("seen on the 3rd of Dec by the GP", "3rd of Dec"),
    ],
)
def test_a_day_and_month_without_a_year_after_a_date_cue(text: str, date: str) -> None:
    assert _covered(text, date), (_dates(text), date)


@pytest.mark.parametrize(
    "text",
    [
        "BP 130/80 on arrival",
        "GCS 14/15 on arrival",
        "ate 2/3 of her lunch",
        "pain 5/10 on movement",
        "on 1/2 tablet nocte",
        "20/20 vision both eyes",
        "VA 6/9 right eye",
        "power 4/5 in the left arm",
        "take 1/2 a tablet at night",
        "sats 94/88 on air",
        "a 2:1 ratio of saline",
        "seen at 10:30 in clinic",
        "review on the 1st of next month",
        "the 3rd time this week",
        "1st line therapy failed",
        "review in 2/52",
        "symptoms for 3/7",
        "dilution 1:100 from 12/03/2026",
        "ratio 2.35 on 12/03/2026",
        "Mixed 3/4 strength on 4/5 days",
    ],
)
def test_no_date_in_ratios_scores_doses_fractions_or_relative_dates(text: str) -> None:
    """Exact spans: the full dates written in the text, each alone (a ratio or a dose before one
    must not join it), and nothing else that holds a digit."""
    found = [d for d in _dates(text) if any(ch.isdigit() for ch in d)]
    assert found == re.findall(r"\d{1,2}/\d{1,2}/\d{4}", text), found


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("Given 12/03/2026 10 mg IV", "12/03/2026"),
        ("Seen 3 Dec 2025 2 tablets given", "3 Dec 2025"),
        ("Dose on 12/03/2026, 1:100 dilution", "12/03/2026"),
    ],
)
def test_a_dose_or_ratio_after_a_date_is_not_its_time(text: str, date: str) -> None:
    assert _dates(text) == [date]


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("Seen 30.XI.2026 w poradni", "30.XI.2026"),
        ("przyjęty 3 XI 2026 do szpitala", "3 XI 2026"),
        ("Seen 30Nov2026 in ED", "30Nov2026"),
        ("week commencing 30/11 for the clinic", "30/11"),
        ("w/c 30/11 on the rota", "30/11"),
        ("admitted 30/11-2/12 then home", "30/11-2/12"),
        ("Christmas Day 2025 she fell at home", "Christmas Day 2025"),
        ("on Boxing Day 2025 she fell", "Boxing Day 2025"),
        ("rendez-vous le 30/11 à 10h au cabinet", "30/11 à 10h"),
        ("Termin am 30.11. um 10 Uhr", "30.11. um 10 Uhr"),
    ],
)
def test_more_date_forms_a_new_author_may_write(text: str, date: str) -> None:
    assert _covered(text, date), (_dates(text), date)


@pytest.mark.parametrize(
    "text",
    [
        "Stage XI of the protocol",
        "Christmas Day was quiet on the ward",
        "I am 3/4 of the way through the course",
        "le 1/2 comprimé le soir",
    ],
)
def test_no_date_in_roman_numerals_holidays_without_a_year_or_fractions(text: str) -> None:
    assert _dates(text) == []


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("Incident at 0340 on 29/11/2026 on the ward", "0340 on 29/11/2026"),
        ("tel call 30/11/26 1530 with the daughter", "30/11/26 1530"),
        ("She was born on the twelfth of March 1931", "twelfth of March 1931"),
        ("Admitted on the twenty-first of June", "twenty-first of June"),
        ("blood taken 30/11 @ 07:30 by HCA", "30/11 @ 07:30"),
        ("bloods 30/11: Hb 98, CRP 12", "30/11"),
        ("CXR 2/12 clear", "2/12"),
        ("swab 28/11 negative", "28/11"),
        ("seen 3rd and 4th December by the team", "3rd and 4th December"),
    ],
)
def test_times_in_four_digits_ordinal_words_and_results_headings(text: str, date: str) -> None:
    assert _covered(text, date), (_dates(text), date)


@pytest.mark.parametrize(
    "text",
    [
        "Given 12/03/2026 1000 units of heparin",
        "the first of the month is payday",
        "second of three children",
        "ratio 30/11 @ 07:30",
        "Hb 98 CRP 12/11",
    ],
)
def test_doses_counts_and_measurements_stay(text: str) -> None:
    found = _dates(text)
    assert all("1000" not in d and "30/11" not in d and "12/11" not in d for d in found), found


_DOSE = re.compile(r"\d+\s*(?:mg|ml|units?)\b")


@given(
    before=st.text(alphabet="0123456789:.,@ -atonhrsAPMGTZ+/Sundymgul", max_size=30),
    after=st.text(alphabet="0123456789:.,@ -atonhrsAPMGTZ+/mgul", max_size=30),
)
@settings(max_examples=200, deadline=None)
def test_a_widened_date_keeps_its_date_and_stays_in_the_text(before: str, after: str) -> None:
    """Whatever stands around a date, widening it keeps the date whole, stays inside the text, and
    never takes a dose written after it or before it."""
    text = before + "29/11/2026" + after
    start, end = phi_date_times.extend(text, len(before), len(before) + 10)
    assert 0 <= start <= len(before) and len(before) + 10 <= end <= len(text)
    assert not re.match(r"\s*\d+\s*(?:mg|ml|units?)\b", text[len(before) + 10 : end])
    assert not _DOSE.search(text[start : len(before)])


@given(
    word=st.sampled_from(["Creatinine", "INR", "K+", "Hb", "CRP", "Na", "pain score", "GCS", "BM"]),
    value=st.one_of(
        st.integers(0, 2359).map(str),
        st.tuples(st.integers(0, 23), st.integers(0, 59)).map(lambda x: f"{x[0]}.{x[1]:02d}"),
    ),
    join=st.sampled_from([" on ", " ", ", ", " - "]),
)
@settings(max_examples=200, deadline=None)
def test_a_lab_value_or_score_before_a_date_never_joins_it(
    word: str, value: str, join: str
) -> None:
    """A result written before a date ("INR 2.35 on 30/11/2026", "K+ 5.50 12/03/2026", "pain
    score 7 - 30/11/2026") stays out of the date's span, whatever the number and the joint."""
    before = f"{word} {value}{join}"
    text = before + "29/11/2026 review"
    start, end = phi_date_times.extend(text, len(before), len(before) + 10)
    assert start == len(before), text[start:end]


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("Creatinine 1.45 on 12/03/2026, repeat next week.", "12/03/2026"),
        ("INR 2.35 on 30/11/2026", "30/11/2026"),
        ("K+ 5.50 12/03/2026", "12/03/2026"),
        ("CK 1530 on 12/03/2026 then fell", "12/03/2026"),
        ("Trop 14:30 on 12/03/2026", "12/03/2026"),
        ("Hb 9.45 on 12/03/2026", "12/03/2026"),
    ],
)
def test_a_lab_value_before_a_date_is_not_its_time(text: str, date: str) -> None:
    assert _dates(text) == [date]


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("Seen 2.30pm on 12/03/2026 in clinic", "2.30pm on 12/03/2026"),
        ("Seen 1430hrs on 12/03/2026 in clinic", "1430hrs on 12/03/2026"),
        ("Delivered at 03:47 on 29/11/2026, cried at birth", "03:47 on 29/11/2026"),
        ("Incident at 0340 on 29/11/2026 on the ward", "0340 on 29/11/2026"),
    ],
)
def test_a_time_before_a_date_in_a_time_shape_joins_it(text: str, date: str) -> None:
    assert _dates(text) == [date]


@pytest.mark.parametrize(
    ("text", "dates"),
    [
        ("Vitamin D 1 X 2000 units daily", []),
        ("Colecalciferol 2 X 1000 IU", []),
        ("pain score 7 - 30/11/2026 review", ["30/11/2026"]),
        ("NEWS 3 - 12/03/2026 on the ward", ["12/03/2026"]),
        ("przyjęty 3 XI 2026 do szpitala", ["3 XI 2026"]),
        ("the clinic wrote 3-5 Dec 2025 for the stay", ["3-5 Dec 2025"]),
    ],
)
def test_a_dose_is_no_roman_month_and_a_score_no_range_start(text: str, dates: list[str]) -> None:
    assert _dates(text) == dates
