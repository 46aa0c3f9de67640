"""Month names of other languages from the date-word table, and days with their month but no year
read only in a date's context (``phi_dates``), and two name cues (a sign-off, relations in other
languages). Texts written for these tests, not taken from any
PHI set."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
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
        ("the appointment is on the 14th at 9", "the 14th"),
        ("next review due 12th", "12th"),
        ("the card says Tuesday 4/3 but the nurse said the 6th??", "the 6th"),
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


@pytest.mark.parametrize(
    ("text", "dates"),
    [
        ("booked my follow-up for the 9th but i'm away", ["the 9th"]),
        ("can you update it before my spirometry on the 3rd?", ["the 3rd"]),
        ("I was off sick from 10.11 to 17.11, can you write a letter", ["10.11", "17.11"]),
        ("seen on 2/11 - 5/11 by the district nurse", ["2/11", "5/11"]),
    ],
)
def test_ordinal_days_after_for_and_the_second_day_of_a_range(text: str, dates: list[str]) -> None:
    found = _partial(text)
    assert all(any(d in f for f in found) for d in dates), found


@pytest.mark.parametrize(
    "text",
    [
        "this is the 3rd time she has fallen",
        "for the 2nd opinion please",
        "3rd line therapy for myeloma",
        "symptoms for 3/12, worse at night",
        "for the 3rd floor ward",
        "Hb rose from 8.5 to 10.2",
        "pain from 7/10 to 3/10 after the block",
    ],
)
def test_for_and_ranges_do_not_make_counts_durations_or_readings_dates(text: str) -> None:
    assert _partial(text) == []


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("His next scan is on 2025年12月8日. Can we move it?", "2025年12月8日"),
        ("다음 검사는 2025년 12월 8일 입니다", "2025년 12월 8일"),
        ("予約は12月8日です", "12月8日"),
        ("surgery on 17 Aban, her eye is red", "17 Aban"),
        ("born 1 Farvardin 1310 in Shiraz", "1 Farvardin 1310"),
        ("DOB 11 Hōngongoi 1952", "11 Hōngongoi 1952"),
        ("bar mitzvah on 5 Kislev 5785", "5 Kislev 5785"),
        ("born 12 Meskerem 1975 in Addis", "12 Meskerem 1975"),
        ("Had my OGTT on le 5 novembre, fasting 5.3", "le 5 novembre"),
        ("นัดวันที่ 5 ธันวาคม 2568 ครับ", "5 ธันวาคม 2568"),
    ],
)
def test_dates_in_other_scripts_and_calendars(text: str, date: str) -> None:
    assert date in [text[s:e] for s, e in phi_dates.spans(text)]


@pytest.mark.parametrize(
    "text",
    [
        "3개월 동안 기침",
        "fasting in Ramadan 2025 with insulin",
        "13月40日",
        "Mehr als 3 Tage",
        "AV 2",
    ],
)
def test_calendar_and_cjk_words_alone_are_not_dates(text: str) -> None:
    assert phi_dates.spans(text) == []


@given(
    st.integers(1900, 2099),
    st.integers(0, 20),
    st.integers(0, 40),
    st.sampled_from([("年", "月", "日"), ("년 ", "월 ", "일")]),
)
@settings(max_examples=150, deadline=None)
def test_a_cjk_date_is_found_exactly_when_its_month_and_day_are_valid(
    year: int, month: int, day: int, marks: tuple[str, str, str]
) -> None:
    text = f"next scan {year}{marks[0]}{month}{marks[1]}{day}{marks[2]} ok"
    found = [text[s:e] for s, e in phi_dates.cjk_spans(text)]
    if 1 <= month <= 12 and 1 <= day <= 31:
        assert found == [f"{year}{marks[0]}{month}{marks[1]}{day}{marks[2]}"]
    else:
        assert all(str(day) + marks[2] not in f for f in found)


def test_ordinal_days_are_read_in_linear_time() -> None:
    """Many ordinal days, each needing its sentence: the sentence boundaries are found once per
    text (the old search from the text's start per ordinal took about 3 s for 5,000 of them)."""
    import time

    text = "the 10th. " * 20000 + "Seen Monday, said the 4th"
    began = time.process_time()
    found = phi_dates.partial_spans(text)
    assert time.process_time() - began < 2.0
    assert found == [(len(text) - 7, len(text))]  # only the ordinal in Monday's sentence


def _naive_date_talk(text: str, start: int, end: int) -> bool:
    ends = re.compile(r"[.!?;\n]\s|[\n]")
    left = max((m.end() for m in ends.finditer(text, 0, start)), default=0)
    right = ends.search(text, end)
    stop = right.start() if right else len(text)
    # date words are read in the whole text (a word's own context may reach past the sentence),
    # then kept when they lie inside the sentence
    return any(
        phi_dates._HAS_WEEKDAY_OR_MONTH.fullmatch(x.group())
        and left <= x.start()
        and x.end() <= stop
        for x in phi_dates._DATE_WORD.finditer(text)
    )


@settings(max_examples=200, deadline=None)
@example(["the 10th", "May", "\n", "3rd"])  # a month word at a sentence's end
@given(
    st.lists(
        st.sampled_from(
            ["the 10th", "3rd", "Monday", "May", "in June", ". ", "; ", "\n", " ", "x"]
        ),
        max_size=12,
    )
)
def test_sentence_index_agrees_with_a_search_per_ordinal(parts: list[str]) -> None:
    text = " ".join(parts)
    talk = phi_dates._DateTalk(text)
    for m in re.finditer(r"\d{1,2}(?:st|nd|rd|th)", text):
        old = _naive_date_talk(text, m.start(), m.end())
        assert talk.around(m.start(), m.end()) == old, (text, m.start())


@pytest.mark.parametrize(
    "text",
    [
        "filho asma, mãe hipertensão",
        "hijo asma, hija eczema",
        "esposo hipertenso",
        "figlio asma",
        "a mãe sana, pai falecido",
    ],
)
def test_a_family_history_after_a_foreign_relation_word_is_kept(text: str) -> None:
    assert not [s for s in phi.detect(text) if s.kind == "NAME"]


@pytest.mark.parametrize(
    ("text", "secret"),
    [("con su hijo Javier", "Javier"), ("filho joão ligou", "joão")],
)
def test_a_known_first_name_after_a_foreign_relation_word_is_a_name(text: str, secret: str) -> None:
    assert secret not in phi.redact(text, phi.detect(text))


@pytest.mark.parametrize(
    "text",
    [
        "post op 2/7, wound clean and dry",
        "GP clinic 3/12 for review",
        "f/u 6/52 in fracture clinic",
        "review in 2/12 with bloods",
        "day 3 post-op 5/7 and mobilising",
    ],
)
def test_shorthand_durations_after_an_operation_or_a_follow_up_word_are_not_dates(
    text: str,
) -> None:
    found = [text[s.start : s.end] for s in phi.detect(text, library=False) if s.kind == "DATE"]
    assert found == [], found


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("clinic 30/11 at the GP", "30/11"),
        ("the letter says 8/12 for clinic", "8/12"),
        ("ORIF on 4/12, home after", "4/12"),
    ],
)
def test_a_day_and_month_after_those_words_stays_a_date(text: str, date: str) -> None:
    assert _partial(text) == [date]
