"""Names by context, continental addresses and dates in more languages (the round after the
second blind set). Texts written for these tests, not taken from any PHI set."""

from __future__ import annotations

import pytest

from assistant.policy import phi
from tests.fakes.phi_spans import covered as _covered


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("@maria.lopez can you check the gent in 4", "@maria.lopez"),
        ("Acc 77120 / MCALLISTER, Fiona / F / ward 6", "MCALLISTER, Fiona"),
        ("Order 55 — BROWN-OKAFOR, Ada, DOB 1/2/1950", "BROWN-OKAFOR, Ada"),
        ("ADMISSION — Rosa Mae Quigley, [AGE] pending", "Rosa Mae Quigley"),
        ("Bay 2: Gwendolyn in bed 7 needs a commode", "Gwendolyn"),
        ("Tobias from pharmacy called about the gent", "Tobias"),
    ],
)
def test_names_by_rule_context(text: str, secret: str) -> None:
    assert _covered(text, secret, library=False)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("X-ray done. Anna-Sofia Lindqvist, 12. Follow up in clinic.", "Anna-Sofia Lindqvist"),
        ("Nurse update: Gwendolyn (the one with the hip) is asleep", "Gwendolyn"),
        ("his pulse is 80. his name is dmitri", "dmitri"),
        ("pls could someone review Okonjo in resus", "Okonjo"),
        ("Baby born to Marisol Etxeberria at 04:10", "Marisol"),
        ("sorry again its natalia (bed 3 yesterday) can i", "natalia"),
    ],
)
def test_names_by_vocabulary_context(text: str, secret: str) -> None:
    assert _covered(text, secret)


@pytest.mark.slow
@pytest.mark.parametrize(
    "text",
    [
        "Pain in bed 4 settled. Nurse in bay 2 aware.",
        "Troponin 45, 2000 Units given; HbA1c 48, 2024 Review.",
        "i am tired and thanks a lot",
    ],
)
def test_ordinary_words_in_those_contexts_are_kept(text: str) -> None:
    assert not [s for s in phi.detect(text) if s.kind in ("NAME", "ADDRESS")], phi.detect(text)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Anschrift: Lindenstraße 8, 04109 Leipzig.", "Lindenstraße 8, 04109 Leipzig"),
        ("Woont op Lange Nieuwstraat 31, 3512 Utrecht.", "3512 Utrecht"),
        ("Indirizzo: Corso Buenos Aires 41, 20124 Milano.", "Corso Buenos Aires 41"),
        ("Wohnhaft in Alte Landstraße 3, 8700 Küsnacht.", "8700 Küsnacht"),
        ("Moved to 3/14 Ocean Pde, Coogee NSW 2034 last year", "3/14 Ocean Pde"),
    ],
)
def test_continental_addresses(text: str, secret: str) -> None:
    assert _covered(text, secret)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Kontrolle am Donnerstag, 3. Juni 2027.", "Donnerstag, 3. Juni 2027"),
        ("cita el martes 8 de junio", "martes 8 de junio"),
        ("internat 2 martie 2025", "2 martie 2025"),
        ("přijat 5. října 2024", "5. října 2024"),
        ("seen Weds 6/10 in clinic", "Weds 6/10"),
    ],
)
def test_dates_in_more_languages(text: str, secret: str) -> None:
    assert _covered(text, secret, library=False)


def test_slack_broadcast_mentions_are_not_names() -> None:
    assert not phi.detect("@here bed 4 needs a review, @channel fyi", library=False)


@pytest.mark.slow
def test_devices_named_after_people_are_kept() -> None:
    text = "Groshong line flushed; Thomas splint on; Zimmer frame at bedside."
    assert not [s for s in phi.detect(text) if s.kind == "NAME"], phi.detect(text)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("text", "word", "kept"),
    [
        ("Low thiamine, on Vitrexin.", "Vitrexin", True),
        ("Started Zorbex 10 mg today.", "Zorbex", True),
        ("Seen on Okonkwo's ward round.", "Okonkwo", False),
        ("Spoke to Amara Osei 2 tabs given.", "Amara", False),
    ],
)
def test_a_word_written_as_a_medicine_is_not_a_name(text: str, word: str, kept: bool) -> None:
    assert _covered(text, word) is not kept


@pytest.mark.slow
@pytest.mark.parametrize(
    ("text", "name", "term"),
    [
        ("Mr Tom Reed reports Raynaud's phenomenon in winter", "Tom Reed", "Raynaud"),
        ("Cardiology referral for Wolff-Parkinson-White syndrome", None, "Wolff-Parkinson"),
        ("Spoke to GP; KUB clear; HbSS known; Hounsfield units 40", None, "KUB"),
    ],
)
def test_names_stop_where_a_clinical_term_begins(text: str, name: str | None, term: str) -> None:
    if name:
        assert _covered(text, name)
    assert not _covered(text, term)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Spelling check: Siobhán Ní Dhubhghaill. DOB on file", "Siobhán Ní Dhubhghaill"),
        ("Seen with Máire Nic Ghiolla today.", "Máire Nic Ghiolla"),
    ],
)
def test_accented_names_and_irish_particles(text: str, secret: str) -> None:
    assert _covered(text, secret)


@pytest.mark.parametrize(
    ("span", "clinical"),
    [
        ("Narcolepsy", True),
        ("Myasthenia Gravis", True),
        ("anorexia nervosa", True),
        ("Amara Okafor", False),
        ("Deafness Smith", False),
    ],
)
def test_words_of_mesh_disease_names(span: str, clinical: bool) -> None:
    from assistant.policy import phi_terms

    assert phi_terms.only_clinical_words(span) is clinical


def test_deafness_is_not_a_dea_number() -> None:
    assert not phi.detect("Hereditary deafness; hearing aids advised", library=False)


def test_the_generated_word_lists_hold_no_header_words() -> None:
    from assistant.policy import phi_terms

    assert "narcolepsy" in phi_terms.clinical_words()
    assert not {"names", "holds", "generated", "from"} & phi_terms.clinical_words()
    assert all(len(p) >= 2 for p in phi_terms.phrases())
