"""Month names of other languages from the date-word table, and days with their month but no year
read only in a date's context (``phi_dates``), and two name cues (a sign-off, relations in other
languages). Texts written for these tests, not taken from any
PHI set."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.policy import phi, phi_dates


def _partial(text: str) -> list[str]:
    return [text[s:e] for s, e in phi_dates.partial_spans(text)]


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("DOB 4 Ağustos 1971, referred", "4 Ağustos 1971"),
        ("DOB 4 agustos 1971, referred", "4 agustos 1971"),  # typed without the diacritic
        ("przyjęta 12 października 2023", "12 października 2023"),
        ("internat 3 iunie 2022", "3 iunie 2022"),
        ("opname 21 januari", "21 januari"),
        ("innlagt 5. desember 2024", "5. desember 2024"),
        ("primljen 3 svibnja 2020", "3 svibnja 2020"),
        ("přijata 5 května 2020", "5 května 2020"),
        ("datum 14 augusti 2019", "14 augusti 2019"),
    ],
)
def test_month_names_in_other_languages(text: str, date: str) -> None:
    assert date in [text[s:e] for s, e in phi_dates.spans(text)]


@pytest.mark.parametrize(
    "text",
    ["Mayo 2019 guidance", "the Mars 2 trial", "3 mars bars", "ekim 5 mg", "grade 2 in 2019"],
)
def test_foreign_month_names_that_are_english_words_need_a_day_and_year(text: str) -> None:
    assert phi_dates.spans(text) == []


def test_the_table_has_twelve_months_for_each_language_and_folded_spellings() -> None:
    w = phi_dates.words()
    assert len(w.months) == 12
    assert "subat" in w.months[1] and "şubat" in w.months[1] and "kasim" in w.months[10]


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("she went home on 27.11 with apixaban", "27.11"),
        ("Gesehen am Montag, seen on 3.12. by GP", "3.12."),
        ("her inhaler expired 10/31 so we need a new one", "10/31"),
        ("the appointment is on the 14th at 9", "14th"),
        ("next review due 12th", "12th"),
        ("the card says Tuesday 4/3 but the nurse said the 6th??", "6th"),
        ("repeat bloods from 2/11", "2/11"),
    ],
)
def test_partial_dates_after_a_cue(text: str, date: str) -> None:
    assert date in _partial(text)


@pytest.mark.parametrize(
    "text",
    [
        "BP on 120/80 today",
        "power 4/5 on the left",
        "pain 7/10",
        "seen 2/7 ago with cough",
        "on 3/12 history of cough",
        "started on 2.5 mg",
        "INR on 2.11",
        "on 12.5mg daily",
        "admitted to the 3rd floor",
        "from the 3rd copy of the gene",
        "on the 5th dose",
        "she is 3/4 of the way through",
        "gestation 32/40",
        "on 15/13",
        "the 10th rib",
        "the 12th of 20 patients was seen May 2 times",
        "this may affect the 3rd, 5th and 8th nerves",
    ],
)
def test_measurements_counts_and_uncued_fractions_are_not_dates(text: str) -> None:
    assert _partial(text) == []


_CUE = st.sampled_from(["on", "since", "expired", "due", "from", "until"])
_MEASURE = st.sampled_from(["BP", "power", "pain", "score", "GCS", "INR", "ratio"])


@settings(max_examples=200, deadline=None)
@given(_CUE, st.integers(0, 99), st.integers(0, 99), st.sampled_from(["/", "."]))
def test_a_cued_pair_is_a_date_only_with_a_valid_day_and_month(
    cue: str, a: int, b: int, sep: str
) -> None:
    text = f"seen {cue} {a}{sep}{b:02d} with mum"
    found = _partial(text)
    day_month = 1 <= a <= 31 and 1 <= b <= 12
    month_day = sep == "/" and 1 <= a <= 12 and 1 <= b <= 31
    assert bool(found) == (day_month or month_day)


@settings(max_examples=200, deadline=None)
@given(_MEASURE, _CUE, st.integers(1, 31), st.integers(1, 12), st.sampled_from(["/", "."]))
def test_a_pair_after_a_measurement_word_is_never_a_date(
    word: str, cue: str, a: int, b: int, sep: str
) -> None:
    assert _partial(f"{word} {cue} {a}{sep}{b:02d}") == []


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("0123456789/. thesondaycu")), max_size=40))
def test_partial_dates_never_fail_and_lie_inside_the_text(text: str) -> None:
    for s, e in phi_dates.partial_spans(text):
        assert 0 <= s < e <= len(text)
        assert re.search(r"\d", text[s:e])


def test_the_detector_redacts_a_partial_date_with_its_context() -> None:
    text = "discharged on 27.11 with apixaban, BP 120/80"
    red = phi.redact(text, phi.detect(text, library=False))
    assert "27.11" not in red and "120/80" in red


@settings(max_examples=100, deadline=None)
@given(
    st.sets(st.text(alphabet="abcşı", min_size=1, max_size=5), min_size=1, max_size=12),
    st.text(alphabet="abcşı", max_size=6),
)
def test_the_month_prefix_tree_matches_exactly_its_names(names: set[str], probe: str) -> None:
    pattern = re.compile(phi_dates._trie_pattern(names))
    for name in names:
        assert pattern.fullmatch(name)
    assert bool(pattern.fullmatch(probe)) == (probe in names)


def test_a_ruairi_sign_off_after_the_last_sentence_is_a_name() -> None:
    text = "no night cough this week. Ruairí"
    assert "Ruairí" not in phi.redact(text, phi.detect(text))
    kept = "Follow up in clinic. Metformin"
    assert phi.redact(kept, phi.detect(kept)) == kept


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("contacto esposa Pilar +34 612", "Pilar"),
        ("Sam Kelly (mum of Niamh)", "Niamh"),
        ("Hola, soy Lucía. Mi abuela tiene fiebre", "Lucía"),
        ("Olá, sou Ana, a filha", "Ana"),
    ],
)
def test_relations_in_other_languages_and_of_phrases_cue_a_name(text: str, secret: str) -> None:
    assert secret not in phi.redact(text, phi.detect(text))
