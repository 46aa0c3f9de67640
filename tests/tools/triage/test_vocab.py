"""Recognition beyond the patterns: the HPO vocabulary as phrases, and spelling tolerance."""

from __future__ import annotations

from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tools.triage.lexicon import lexicon
from tools.triage.parse import normalize, parse
from tools.triage.vocab import PhraseIndex, Speller, english_words, osa_distance, stem, tokens

LEX = lexicon()


def test_stems_fold_plurals_and_uk_spelling() -> None:
    assert stem("diarrhoea") == stem("diarrhea")
    assert stem("haematuria") == stem("hematuria")
    assert stem("headaches") == stem("headache")
    assert tokens("Blood-in-stool") == ["blood", "in", "stool"]


def test_phrase_index_longest_match_whole_words() -> None:
    index = PhraseIndex([("blood in stool", "rectal_bleeding"), ("blood", "x"), ("stool", "y")])
    assert index.find("there was blood in stools") == [("rectal_bleeding", 10, 25)]
    assert index.find("bloodin") == []


def test_hpo_layperson_synonyms_are_recognised() -> None:
    # none of these is in a hand-written pattern: they come from HPO through the concept's id
    cases = {
        "I have a bloody nose": "nosebleed",
        "ringing in the ears since the concert": "tinnitus",
        "pins and needles feeling in my hand": "numbness_tingling",
        "my dad has slurred speech": "neuro_deficit",
        "she has a dry mouth and has been sick": "dehydration_signs",
    }
    for text, concept in cases.items():
        assert parse(text).status(concept) == "present", text


def test_hpo_matches_are_negated_by_context() -> None:
    assert parse("no ringing in the ears").status("tinnitus") == "absent"


def test_osa_distance() -> None:
    assert osa_distance("breth", "breath", 2) == 1
    assert osa_distance("vomitting", "vomiting", 2) == 1
    assert osa_distance("wierd", "weird", 2) == 1  # a swap counts once
    assert osa_distance("abc", "xyzabc", 1) == 2  # capped at limit + 1


def test_speller_reads_misspellings_and_leaves_real_words() -> None:
    speller = Speller(["breathing", "swollen", "diarrhoea", "throat"], ["bread", "the", "swallow"])
    assert speller.correct("brething") == "breathing"
    assert speller.correct("swolen") == "swollen"
    assert speller.correct("diarhoea") == "diarrhoea"
    assert speller.correct("bread") is None  # an English word is never changed
    assert speller.correct("xyzzy") is None
    assert speller.correct("thraot") == "throat"  # a swap of two letters is one edit


def test_misspelt_symptoms_are_recognised() -> None:
    if not english_words():  # pragma: no cover - the embedder package ships the word list
        return
    assert normalize("my brething is bad") == "my breathing is bad"
    assert normalize("my ankle is swolen") == "my ankle is swollen"
    assert parse("my thraot is really sore").status("sore_throat") == "present"


@hsettings(max_examples=60, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz '", max_size=60))
def test_speller_is_safe_on_any_text(text: str) -> None:
    out = normalize(text)
    assert len(out.split()) <= len(text.split()) + 1
