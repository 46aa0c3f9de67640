"""Dates by grammar (``phi_dates``), codes by shape and context (``phi_ids``), names after a
relation and in a sign-off (``phi_context``), and an age right after a name. Texts written for
these tests, not taken from any PHI set."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.policy import phi, phi_dates, phi_ids
from tests.fakes.phi_spans import covered as _covered


def _dates(text: str) -> list[str]:
    return [text[s:e] for s, e in phi_dates.spans(text)]


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("seen on 3rd Feb. 2024 in clinic", "3rd Feb. 2024"),
        ("letter dated Mar. 3rd, 2024 enclosed", "Mar. 3rd, 2024"),
        ("op 3rd-Mar-2024", "3rd-Mar-2024"),
        ("review 2024 March 3 at 10", "2024 March 3"),
        ("on March the 5th she fell", "March the 5th"),
        ("born 05 03 1951", "05 03 1951"),
        ("Wed, Nov 4 clinic", "Wed, Nov 4"),
        ("since Sept 12th", "Sept 12th"),
        ("last seen Feb '24", "Feb '24"),
        ("smear due Oct/2026", "Oct/2026"),
    ],
)
def test_date_grammar_reads_combinations(text: str, date: str) -> None:
    assert date in _dates(text)


@pytest.mark.parametrize(
    "text",
    [
        "may 2 tablets help",
        "2 may help",
        "dec 2 units of insulin",
        "BP 120/80, HR 72",
        "diagnosed in 2019",
        "worse since May",
        "took 2 tabs 3 times",
        "Sunday clinic is closed",
    ],
)
def test_date_grammar_leaves_years_counts_and_words(text: str) -> None:
    assert _dates(text) == []


@given(st.text(max_size=80))
@settings(max_examples=200, deadline=None)
def test_date_grammar_never_fails(text: str) -> None:
    for s, e in phi_dates.spans(text):
        assert 0 <= s < e <= len(text)


def _ids(text: str) -> list[str]:
    return [text[s:e] for s, e in phi_ids.spans(text)]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Transmitter ID 8G7KQ2. Can you order one", "8G7KQ2"),
        ("booking ref for the new sensor: QX7-KP2M", "QX7-KP2M"),
        ("Name: X | DOB 1/2/33 | ref AB12CD", "AB12CD"),
        ("Insurance member no. for her is W7K2PQ", "W7K2PQ"),
    ],
)
def test_codes_near_a_label_or_on_a_header_are_identifiers(text: str, code: str) -> None:
    assert code in _ids(text)


@pytest.mark.parametrize(
    "text",
    [
        "patient is HER2 positive, on 500MG bd",
        "pt ID confirmed; CYP2D6 poor metaboliser",
        "patient number checked; COVID19 swab sent",
        "ECG: Q waves V1V2V3, no ST change",  # no label near it
        "MRI: disc bulge L4-L5",
    ],
)
def test_clinical_codes_are_not_identifiers(text: str) -> None:
    assert _ids(text) == []


def test_an_age_right_after_a_name_is_found_by_the_rules() -> None:
    assert _covered("ex-miner; wife Nerys 90 also frail.", "90", library=False)
    assert not _covered("wife Nerys 90 mg daily", "90", library=False)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("my son brendon is poorly since monday", "brendon"),
        ("is dr kaur in today? mum (harjit) has a rash", "harjit"),
        ("emailed u the readings did u get them - jamal", "jamal"),
    ],
)
def test_lower_case_names_after_a_relation_and_in_a_sign_off(text: str, secret: str) -> None:
    assert _covered(text, secret)


@pytest.mark.slow
@pytest.mark.parametrize(
    "text", ["my son cant sleep", "my wife shes fine", "pain 7/10 - worse", "see you - tomorrow"]
)
def test_ordinary_and_misspelt_words_after_a_relation_are_kept(text: str) -> None:
    assert not [s for s in phi.detect(text) if s.kind == "NAME" and s.source == "context"]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Pt: Doe, Jo (URN 0042 8817). Dx", "0042 8817"),
        ("IP No. IP/25/118832. Dx", "IP/25/118832"),
        ("Request REQ#77410298 sent", "REQ#77410298"),
        ("NHIS 04477128. Seen", "04477128"),
        ("My medical aid no. is Acme 408812273. The", "408812273"),
    ],
)
def test_digit_groups_after_a_label_are_identifiers(text: str, value: str) -> None:
    assert value in _ids(text)


@pytest.mark.parametrize(
    "text", ["patient weight 12345 g", "ref dated 12/03/2024", "pt number 2 sodium 13500"]
)
def test_counts_dates_and_lab_values_after_a_label_are_not(text: str) -> None:
    assert _ids(text) == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("seen 2234 5678 9016 today", None),  # fails the Verhoeff check
        ("seen 4391 8265 7039 today", "4391 8265 7039"),  # passes it (a made-up number)
        ("CURP FUGJ750322HDFNTN07, domicilio", "FUGJ750322HDFNTN07"),
        ("RUT 14.582.937-2. Suspected", "14.582.937-2"),
    ],
)
def test_national_numbers_beyond_europe_by_shape_and_check(text: str, value: str | None) -> None:
    found = [text[s.start : s.end] for s in phi.rule_spans(text, phi.project_rules())]
    if value is None:
        assert found == []
    else:
        assert any(value in f for f in found), found


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("collected 2025-12-01T08:15. Pt", "2025-12-01T08:15"),
        ("Next infusion Wed 10.12. ok", "Wed 10.12."),
        ("DOB 14 Nisan 5744 (Hebrew calendar)", "14 Nisan 5744"),
        ("born 3 Rajab 1402", "3 Rajab 1402"),
    ],
)
def test_iso_times_dotted_day_months_and_other_calendars(text: str, date: str) -> None:
    assert _covered(text, date, library=False)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Antenatal. Morag MacAskill, CHI 1508920133, EDD soon.", "Morag MacAskill"),
        ("Urology. J.K. Abernethy, hosp no A123-4456, PSA 14.2.", "J.K. Abernethy"),
        ("for my wife Mrs Ingrid van der Berg to our GP", "Ingrid van der Berg"),
        ("o meu nome é Rui Pedro dos Reis. Obrigado", "Rui Pedro dos Reis"),
    ],
)
def test_names_before_a_header_identifier_and_with_particles(text: str, secret: str) -> None:
    assert _covered(text, secret)


@pytest.mark.slow
@pytest.mark.parametrize(
    "text",
    [
        "Discharge Summary, DOB 1/2/1950",
        "Crohn's Disease, DOB 1/2/1950",
        "Oncology MDT, MRN 0048812",
        "Clinic Letter, 3 March 2024",
    ],
)
def test_headings_before_an_identifier_are_not_names(text: str) -> None:
    assert not [s for s in phi.detect(text) if s.kind == "NAME" and s.source == "rules"]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("Mrs A, lives alone in Ballinrobe. Charles Bonnet syndrome", "Ballinrobe"),
        ("Pt lives Mánesova 1511/23, 120 00 Praha 2. Wilson's disease", "Mánesova 1511/23"),
        ("W/o R. Rao, r/o H.No. 7-12/4, Gandhi Nagar, Nellore 524001. IP no", "Nellore 524001"),
        ("We live Plot 9, Akin Adesola Street, Victoria Island, Lagos.", "Akin Adesola Street"),
        ("Lives Croft 3, Achmore, Isle of Lewis HS2 9DX.", "Croft 3, Achmore"),
    ],
)
def test_addresses_after_a_verb_of_residence(text: str, address: str) -> None:
    assert _covered(text, address, library=False)


@pytest.mark.parametrize(
    "text",
    [
        "She lives with her daughter and is independent.",
        "lives in fear of falling",
        "He lives at home with wife. Mobile.",
        "Nursing home resident 88 y.o., vascular dementia",
    ],
)
def test_ordinary_sentences_about_living_are_kept(text: str) -> None:
    assert not [s for s in phi.detect(text, library=False) if s.kind == "ADDRESS"]


@pytest.mark.parametrize(
    ("text", "age"),
    [
        ("patient (Li Wei), 91y, interpreter used", "91"),
        ("Ana, noventa e dois anos, Chagas", "noventa e dois"),
        ("Mi papá tiene noventa y tres años", "noventa y tres"),
    ],
)
def test_ages_over_89_in_other_languages_and_short_forms(text: str, age: str) -> None:
    assert _covered(text, age, library=False)


def test_younger_ages_in_words_and_temperatures_are_kept() -> None:
    assert phi.detect("tiene cuarenta años; temp 99y", library=False) == []


_PIECES = ["a", "b", "m", "r", "s", "é", "[ab]", "c?", "(?:a|b)"]
_WORDS = st.lists(st.sampled_from(_PIECES), min_size=1, max_size=4).map("".join)


def _literal(word: str) -> str:
    return word.replace("[ab]", "a").replace("c?", "c").replace("(?:a|b)", "b")


@given(st.lists(_WORDS, min_size=20, max_size=40), st.text(alphabet="abcmrsé", max_size=7))
@settings(max_examples=200, deadline=None)
def test_factored_alternations_match_what_the_plain_ones_match(
    words: list[str], probe: str
) -> None:
    import re

    group = "(?:" + "|".join(words) + ")"
    plain = re.compile(group)
    factored = re.compile(phi.factor_alternation(group))
    for text in [probe, *map(_literal, words)]:
        assert bool(plain.fullmatch(text)) == bool(factored.fullmatch(text)), text


def test_the_identifier_label_list_is_factored_and_unchanged_elsewhere() -> None:
    cue = phi._data("phi_rules.yaml")["macros"]["ID_CUE"]
    assert phi.factor_alternation(cue).startswith("(?:m(?:rn|")
    assert phi.factor_alternation("(?:a|b)") == "(?:a|b)"  # too short to gain
    assert phi.factor_alternation("(?!x)") == "(?!x)"


def test_a_care_home_after_a_verb_of_residence_is_not_an_address() -> None:
    text = "Resident of Sunrise Assisted Living, sent in with a fall"
    assert not [s for s in phi.detect(text, library=False) if s.kind == "ADDRESS"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Note in chart: Winifred 'Winnie' Albright died peacefully", "Winifred 'Winnie' Albright"),
        ('Seen: Margaret "Peggy" Olsen, frail', 'Margaret "Peggy" Olsen'),
    ],
)
def test_a_nickname_in_quotes_inside_a_name(text: str, secret: str) -> None:
    assert _covered(text, secret)


def test_quoted_words_after_a_name_are_not_taken_for_a_nickname() -> None:
    from assistant.policy import phi_tokens

    toks = phi_tokens.tokenize("Dr Ahmed said 'review' tomorrow")
    assert all(phi_tokens.nickname(toks, j) == 0 for j in range(len(toks)))


@pytest.mark.parametrize(
    "text",
    [
        "Lives at A" + ".a" * 25_000 + "!",
        "r/o A" + ".a" * 25_000 + "!",
        "lives from 1 A" + ".a" * 25_000 + "!",
        "Blk 1 a" + ".a" * 25_000 + "!",
        "Lives at A" + ". a" * 16_000 + "!",
        "Plot 1, A" + " a.a" * 12_000 + "!",
    ],
)
def test_address_rules_read_a_dotted_run_in_bounded_time(text: str) -> None:
    """A run of dotted words has one reading (each word taken whole): a 50 kB run took over a
    minute when a dot could end a word or join two."""
    import time

    rules = [r for r in phi.project_rules() if r.kind == "ADDRESS"]
    began = time.process_time()
    phi.rule_spans(text, rules)
    assert time.process_time() - began < 2.0


@pytest.mark.parametrize(
    "text",
    [
        "Insulin glargine increased from 10 U to 14 U at night.",
        "Levothyroxine reduced from 100 MCG to 75 MCG",
        "Haemoglobin fell from 120 G/L",
        "Transferred from 4 North to ICU",
        "Dose titrated, from 10 U to 14 U at night.",
        "Moved from 4 North to ICU overnight.",
        "Block 3 of chemotherapy started today.",
        "Plot 2 of the growth chart",
    ],
)
def test_doses_results_wards_and_blocks_of_treatment_are_no_address(text: str) -> None:
    assert not [s for s in phi.detect(text, library=False) if s.kind == "ADDRESS"]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("She moved here from 12 Station Road, Pune.", "12 Station Road"),
        ("Mrs Rao, 91, from 22 Kerkstraat, Stellenbosch 7600.", "22 Kerkstraat"),
        ("Musa, 91 years, from Plot 1147, Cadastral Zone B06, Mabushi, Abuja.", "Plot 1147"),
        ("Address Blk 12 Lot 4, Sampaguita St., Brgy. San Isidro", "Blk 12 Lot 4"),
        ("Address Plot 7, Adeola Odeku Street, Victoria Island, Lagos", "Plot 7"),
    ],
)
def test_from_a_house_number_after_moving_and_plots_with_a_place(text: str, address: str) -> None:
    assert _covered(text, address, library=False)


@pytest.mark.parametrize(
    "text",
    [
        "ECG: QTc 450 ms. Creatinine 92, eGFR 90",
        "Ms. Potassium 98 on the chart",  # a lab word an earlier rule took for a name
        "Dr Patel 92, Na 135, K 4.1",  # a list of results after the number
        "Mr Ames 96 mmHg systolic",
    ],
)
def test_a_lab_result_after_a_false_name_is_no_age(text: str) -> None:
    assert not [s for s in phi.detect(text, library=False) if s.kind == "AGE"]


def test_an_age_after_a_name_still_found_before_a_comma_and_words() -> None:
    assert _covered("Mr Ames 103, frail", "103", library=False)
    assert _covered("Mr Ames 95, Mrs Ames 93, both frail", "95", library=False)


def test_name_rules_read_a_long_hyphenated_run_in_bounded_time() -> None:
    """A capitalised word is at most 42 letters: each start in a 50 kB run of hyphenated words
    ("Aa-Aa-...") read the whole run before (quadratic: minutes for the name-before-an-identifier
    rule)."""
    import time

    rules = [r for r in phi.project_rules() if r.kind == "NAME"]
    began = time.process_time()
    phi.rule_spans("Aa-" * 16_000 + "!", rules)
    assert time.process_time() - began < 3.0
