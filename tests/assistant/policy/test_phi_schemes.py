"""National identifiers checked by python-stdnum, labelled identifiers in several languages,
ages over 89 in words, and eponymous clinical terms kept whole. The numbers are the schemes'
published examples (python-stdnum's documentation), not numbers from any PHI set."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.policy import phi, phi_terms
from assistant.policy.phi_checks import VALIDATORS, age_in_words, number_words
from tests.fakes.phi_spans import covered


def _covered(text: str, secret: str) -> bool:
    return covered(text, secret, library=False)


@pytest.mark.parametrize(
    ("check", "good", "bad"),
    [
        ("codice_fiscale", "RCCMNL83S18D969H", "RCCMNL83S18D969A"),
        ("nir", "2 95 10 99 126 111 93", "2 95 10 99 126 111 94"),
        ("ahv", "756.9217.0769.85", "756.9217.0769.84"),
        ("birth_number", "131052-308T", "131052-308U"),  # Finnish HETU
        ("birth_number", "710319/2745", "710319/2746"),  # Czech rodné číslo
        ("eleven_digits", "15108695088", "15108695087"),  # Norwegian fødselsnummer
        ("eleven_digits", "85.07.30-033.28", "85.07.30-033.29"),  # Belgian national number
        ("thirteen_digits", "1630615123457", "1630615123458"),  # Romanian CNP
        ("vnr", "1237 010180", "1238 010180"),  # Austrian social insurance number
    ],
)
def test_stdnum_checks(check: str, good: str, bad: str) -> None:
    assert VALIDATORS[check](good)
    assert not VALIDATORS[check](bad)


@pytest.mark.parametrize(
    "secret",
    [
        "RCCMNL83S18D969H",
        "2 95 10 99 126 111 93",
        "756.9217.0769.85",
        "131052-308T",
        "710319/2745",
        "15108695088",
        "85.07.30-033.28",
        "1630615123457",
        "1.3.12.2.1107.5.2.32.35162",
    ],
)
def test_national_numbers_and_uids_are_redacted_without_a_label(secret: str) -> None:
    assert _covered(f"Patient transferred; {secret} on the referral.", secret)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Versichertennummer A123456780 liegt vor", "A123456780"),
        ("numéro de sécurité sociale 1 84 12 76 451 089 46.", "1 84 12 76 451 089 46"),
        ("tessera sanitaria n° 80380800301234567890", "80380800301234567890"),
        ("Steuer-ID: 36 574 261 809", "36 574 261 809"),
        ("NHI ABC1235 on file", "ABC1235"),
        ("AVS-Nr. 756.1234.5678.97 bitte", "756.1234.5678.97"),
    ],
)
def test_labels_in_other_languages_say_an_identifier_follows(text: str, secret: str) -> None:
    assert _covered(text, secret)


@pytest.mark.parametrize(
    "text",
    ["Rx 2 tablets nocte, review 12 weeks", "Score 3.4.1 staging", "Version 2.1 of protocol"],
)
def test_counts_and_versions_are_not_identifiers(text: str) -> None:
    assert not [s for s in phi.detect(text, library=False) if s.kind == "ID"]


@pytest.mark.parametrize(
    ("words", "value"),
    [
        ("ninety", 90),
        ("ninety-nine", 99),
        ("Ninety Two", 92),
        ("a hundred and three", 103),
        ("one hundred twenty", 120),
        ("eighty-eight", 88),
        ("ninety-twelve", None),
        ("seven hundred", None),
    ],
)
def test_number_words(words: str, value: int | None) -> None:
    assert number_words(words) == value


@given(st.text(max_size=40))
def test_number_words_never_raises(text: str) -> None:
    number_words(text)
    age_in_words(text)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Mr Okonkwo, ninety-two, lives alone.", "ninety-two"),
        ("Grandad (a hundred and four) needs a wheelchair.", "a hundred and four"),
        ("Age: Ninety Six. Frail.", "Ninety Six"),
        ("Frau Keller, 94 Jahre, Sturz.", "94 Jahre"),
        ("Report: M / 97Y / ward 3", "97Y"),
        ("hes 96 and still driving", "96"),
        ("Pt Arthur Bale, 92. Family aware.", "92"),
    ],
)
def test_ages_over_89_in_words_and_headers(text: str, secret: str) -> None:
    assert _covered(text, secret)


@pytest.mark.parametrize(
    "text",
    [
        "Ninety minutes of CPR; ninety-day follow-up; ninety percent occlusion.",
        "Gave ninety-five mg; a hundred and ten patients screened.",
    ],
)
def test_counts_in_words_are_not_ages(text: str) -> None:
    assert not [s for s in phi.detect(text, library=False) if s.kind == "AGE"]


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("Known Fournier's gangrene of the perineum", 6, 14),
        ("ECG: Wolff-Parkinson-White syndrome", 5, 10),
        ("Ludwig angina suspected", 0, 6),
    ],
)
def test_eponyms_inside_mesh_terms(text: str, start: int, end: int) -> None:
    assert phi_terms.in_eponym_term(text, start, end)


def test_the_same_surname_outside_a_term_is_not_an_eponym() -> None:
    text = "Mr Fournier called about his results"
    assert not phi_terms.in_eponym_term(text, 3, 11)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("ziekte van Basedow bekend", 11, 18),
        ("maladie de Crohn", 0, 16),
        ("Morbus Kahler", 7, 13),
        ("Prednisolon 5 mg", 0, 11),
    ],
)
def test_eponyms_after_a_foreign_head_and_foreign_drug_spellings(
    text: str, start: int, end: int
) -> None:
    assert phi.clinical_term(text, start, end)
