"""Round 15: pieces of a story that were wrongly "not understood", and a warning sign left open
although the answer described the rash.

1. Pieces are never cut inside a number ("temp 37.6") or after an abbreviation ("Dr. Patel").
2. A piece near a concept but below the threshold is understood when, besides grammar and what
   the lexicon recognised in the message, it only holds a figurative comparison ("swollen like a
   tennis ball") or is a clause that sets the scene ("with the heating on"); a body part or an
   unknown symptom word left over keeps it unexplained.
3. "Itchy blisters, some scabbing over" for a child with chickenpox answers the glass test's
   sign with no (NHS Chickenpox); the same words without chickenpox, or denied, do not.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fakes.triage import answer_until
from tools.triage import assess
from tools.triage.intake import BENIGN_SAID, benign_description
from tools.triage.lexicon import lexicon
from tools.triage.parse import Findings, Mention, _matches, _subsumed
from tools.triage.semantic import pieces
from tools.triage.text import normalize, vocabulary
from tools.triage.unexplained import figurative, keep_near, understood

LEX = lexicon()
VOCAB = vocabulary(LEX)
INJURY = {"limb_injury": Mention("limb_injury", "present", 0, 3, "x")}


def _read(text: str) -> tuple[str, list[tuple[int, int]]]:
    norm = normalize(text, LEX)
    return norm, [(s, e) for _c, s, e in _subsumed(_matches(norm, LEX), LEX)]


def _understood(text: str, piece: str) -> bool:
    norm, spans = _read(text)
    return understood(normalize(piece, LEX), norm, spans, VOCAB)


# --- 1. pieces ---------------------------------------------------------------------------------


def test_pieces_keep_numbers_and_abbreviations_whole() -> None:
    got = [
        p.text for p in pieces("she has a slight temp 37.6. drank 1.5 litres, dr. patel said ok")
    ]
    assert got == ["she has a slight temp 37.6", "drank 1.5 litres", "dr. patel said ok"]
    # near misses: a full stop or comma after a number still ends the piece
    got = [p.text for p in pieces("temp 37. it was 38,no rash")]
    assert got == ["temp 37", "it was 38", "no rash"]


@given(st.integers(35, 42), st.integers(0, 9), st.sampled_from(["", "c", " degrees"]))
def test_a_temperature_is_one_piece(whole: int, tenth: int, unit: str) -> None:
    text = f"she has a slight temp {whole}.{tenth}{unit}. she is feeding ok"
    assert pieces(text)[0].text == f"she has a slight temp {whole}.{tenth}{unit}"


# --- 2. comparisons and scene-setting clauses ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "piece"),
    [
        ("went over on my ankle, its swollen like a tennis ball", "its swollen like a tennis ball"),
        ("twisted my ankle, its swollen like a golf ball", "its swollen like a golf ball"),
        ("twisted my ankle, its a bit swollen", "its a bit swollen"),
        ("my shins are dry and itchy with the heating on", "the heating on"),
    ],
)
def test_comparisons_grammar_and_scenes_are_understood(text: str, piece: str) -> None:
    assert _understood(text, piece), piece


@pytest.mark.parametrize(
    ("text", "piece"),
    [
        # a body part or a symptom word of its own stays unexplained
        ("twisted my ankle, my tummy looks like a balloon", "my tummy looks like a balloon"),
        ("a cold, and my bogies look like jelly", "my bogies look like jelly"),
        ("a cold, head feels like its in a vice", "head feels like its in a vice"),
        # a comparison about the person, or one naming a body part, is no figure of speech
        ("a cold, it feels like i'm going to pass out", "it feels like i'm going to pass out"),
        ("a cold, feels like my throat is closing", "feels like my throat is closing"),
        # an unknown symptom word, with or without a comparison
        ("sprained my ankle, its gone all fizzy", "its gone all fizzy"),
        ("sprained my ankle, its buckling like a deckchair", "its buckling like a deckchair"),
        # a scene that names a body part or a triage word is not only a scene
        ("a cold, with crunching in my knee", "crunching in my knee"),
        ("a cold, with a discharge", "a discharge"),
        # "watering" is a triage word (watering eyes): the embedder alone judges this scene
        ("itchy skin while watering the tomatoes", "watering the tomatoes"),
        # not after "with" or "while": no scene
        ("a cold, the heating on", "the heating on"),
    ],
)
def test_near_misses_stay_unexplained(text: str, piece: str) -> None:
    assert not _understood(text, piece), piece


def test_figurative_finds_where_the_comparison_starts() -> None:
    # (a size told as a ball, "swollen like a tennis ball", is a recognised fact of its own)
    text = "its swollen like a pumpkin"
    norm, spans = _read(text)
    assert norm[figurative(norm, 0, len(norm), spans) :] == "like a pumpkin"
    plain = "its swollen"
    assert figurative(plain, 0, len(plain), []) == len(plain)


def test_keep_near_needs_a_specific_complaint_and_the_message() -> None:
    text = "went over on my ankle, its swollen like a tennis ball"
    norm, spans = _read(text)
    near = [("ankle_swelling", 0.6, "its swollen like a tennis ball")]
    assert keep_near(near, INJURY, LEX, norm, spans, VOCAB) == []
    # nothing specific named, or no message given: kept as before
    assert keep_near(near, {}, LEX, norm, spans, VOCAB) == near
    assert keep_near(near, INJURY, LEX) == near


@pytest.mark.slow
def test_minilm_stories_with_figures_of_speech(tmp_path: object) -> None:
    from pathlib import Path

    from assistant.core.embeddings import MiniLMEmbedder
    from tools.triage.parse import parse

    emb = MiniLMEmbedder()
    cache = Path(str(tmp_path))
    for text in (
        "went over on my ankle at 5 a side last night, its swollen like a tennis ball and bruised",
        "my 7 month old is teething. she has a slight temp 37.6. she's still feeding ok",
        "my shins are so dry and itchy with the heating on",
    ):
        assert parse(text, embedder=emb, cache_dir=cache).near == [], text


# --- 3. a benign description of the rash ---------------------------------------------------------


def _answer(text: str) -> Findings:
    from tools.triage.parse import parse

    return parse(text)


def test_blisters_of_chickenpox_answer_the_glass_test() -> None:
    pox = {"chickenpox": {"status": "present"}}
    for said in ("lots of itchy blisters, some scabbing over", "they have crusted over"):
        assert benign_description(LEX, "rash", "non_blanching_rash", _answer(said), pox)
    # near misses: no chickenpox told, the blisters denied, another sign, another topic
    assert not benign_description(LEX, "rash", "non_blanching_rash", _answer("blisters"), {})
    no = _answer("no blisters, flat spots")
    assert not benign_description(LEX, "rash", "non_blanching_rash", no, pox)
    flat = _answer("red flat spots all over")
    assert not benign_description(LEX, "rash", "non_blanching_rash", flat, pox)
    assert not benign_description(LEX, "rash", "blistering_rash", _answer("blisters"), pox)
    assert not benign_description(LEX, "fever", "fever", _answer("blisters"), pox)


def test_a_child_with_chickenpox_described_is_not_held_for_the_glass_test() -> None:
    story = "my daughter (5) has chickenpox, spots everywhere, eating and drinking fine"
    result = answer_until(assess(story), "rash", "lots of itchy blisters, some scabbing over.")
    assert result["intake"]["facts"]["non_blanching_rash"]["said"] == BENIGN_SAID
    # without chickenpox the same words leave the sign open
    other = answer_until(
        assess("my daughter (5) has spots everywhere"), "rash", "lots of itchy blisters."
    )
    assert other["intake"]["facts"].get("non_blanching_rash", {}).get("said") != BENIGN_SAID
    # a rash that does not fade is still the emergency
    worse = answer_until(assess(story), "rash", "blisters, and purple spots that don't fade")
    assert worse["level"] == "emergency"
