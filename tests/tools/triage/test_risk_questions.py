"""Risk-led questions and precision of the readings that sent benign stories to A&E. Each case is
written from the guidance the rule cites (not copied from any vignette): the deciding fact only
arrives when the assistant asks for it, and an answer it gets is used."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes.triage import answer_until, asked_topics
from tools.triage import assess
from tools.triage.parse import parse
from tools.triage.semantic import sites
from tools.triage.values import parse_durations
from tools.triage.vocab import Speller, _frequent_words


def _no_to_all(result: dict[str, Any]) -> dict[str, Any]:
    """Answer "No." to every question until the decision is final."""
    for _ in range(5):
        if not result["next_questions"]:
            break
        result = assess("No.", result["intake"])
    return result


# ---- the questions follow risk (MHRA carbimazole / clozapine; NICE NG51, NG151)


def test_a_sore_throat_asks_about_medicines_that_lower_immunity() -> None:
    r = answer_until(
        assess("my throat is really sore since yesterday"), "medicines", "yes, I take clozapine"
    )
    assert r["level"] == "urgent"
    assert any("lower immunity" in x for x in r["reasons"])


def test_without_that_medicine_a_sore_throat_is_still_home_care() -> None:
    r = _no_to_all(assess("my throat is really sore since yesterday, I'm 30"))
    assert r["level"] == "self_care"


def test_feeling_shivery_is_a_temperature_and_asks_about_chemotherapy() -> None:
    first = assess("feeling shivery and achy tonight")
    assert first["intake"]["facts"]["fever"]["status"] == "present"
    r = answer_until(first, "immunity", "yes, I had chemotherapy last week")
    assert r["level"] == "emergency"


def test_mouth_ulcers_on_methotrexate_are_seen_today() -> None:
    r = answer_until(assess("I've got mouth ulcers"), "medicines", "I take methotrexate weekly")
    assert r["level"] == "urgent"


# ---- burns: mechanism and depth (NHS Burns and scalds: all electrical and chemical burns to A&E)


def test_a_burn_asks_how_it_happened_and_an_electrical_cause_is_an_emergency() -> None:
    first = assess("I burnt my finger, it's only small")
    assert "injury" in asked_topics(first)
    r = answer_until(first, "injury", "I touched a bare wire on the mains")
    assert r["level"] == "emergency"


def test_a_white_patch_after_a_burn_is_a_deep_burn() -> None:
    found = parse("small burn on my hand, there's a white patch and it doesn't hurt")
    assert found.status("burn_serious") == "present"


# ---- fractures, pregnancy, poisoning, fever by days


def test_a_limb_injury_with_osteoporosis_is_seen_today() -> None:
    r = _no_to_all(assess("I fell and hurt my wrist, I'm 70 and I have osteoporosis"))
    assert r["level"] == "urgent"


def test_one_sided_tummy_pain_with_a_late_period_asks_about_fainting() -> None:
    first = assess("sharp pain low on my left side, my period is late")
    assert first["level"] in ("urgent", "emergency")
    r = answer_until(first, "fainting", "yes I nearly passed out on the toilet")
    assert r["level"] == "emergency"


def test_a_toddler_who_ate_a_heart_tablet_is_an_emergency_however_well() -> None:
    r = assess("my 2 year old has eaten some of his grandad's heart tablets, he seems fine")
    assert r["level"] == "emergency"


def test_the_fifth_day_of_a_fever_is_five_days() -> None:
    assert [d.range for d in parse_durations("this is the 5th day of it")] == [(5.0, 5.0)]


# ---- precision: what used to send benign stories to A&E


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("the dog bit me when I went to stroke it", "neuro_deficit"),
        ("both eyes stuck together with yellow gunk this morning", "jaundice"),
        ("hungover, head banging, threw up once", "head_injury"),
    ],
)
def test_everyday_words_are_not_warning_signs(text: str, concept: str) -> None:
    assert parse(text).status(concept) is None


def test_stroke_and_yellow_skin_still_count() -> None:
    assert parse("he's having a stroke").status("neuro_deficit") == "present"
    assert parse("her skin has gone yellow").status("jaundice") == "present"


def test_head_injury_and_ages_in_brackets() -> None:
    found = parse("Dad (81) tripped and bumped the back of his head on the door")
    assert found.status("head_injury") == "present"
    assert found.age == (81.0, 81.0)


def test_peeling_skin_between_the_toes_is_athletes_foot() -> None:
    assert (
        parse("itchy peeling skin between my 4th and 5th toes").status("fungal_skin") == "present"
    )


def test_hand_foot_and_mouth_blisters_are_not_stevens_johnson() -> None:
    r = assess("my son has hand foot and mouth, blisters in his mouth, still drinking")
    assert r["level"] != "emergency"


def test_a_real_word_is_not_spelt_into_a_warning_sign() -> None:
    speller = Speller(["stabbed", "breathing"], _frequent_words())
    assert speller.correct("stubbed") is None
    assert speller.correct("brething") == "breathing"


def test_body_sites() -> None:
    assert sites("swelling of the face, lips, tongue or throat") == {"face"}
    assert sites("twisted my ankle, it is swollen") == {"leg"}
    assert sites("it came back yesterday") == frozenset()


@pytest.mark.slow
def test_a_swollen_ankle_is_not_a_swollen_face(tmp_path: Any) -> None:
    from assistant.core.embeddings import MiniLMEmbedder

    emb = MiniLMEmbedder()
    found = parse(
        "twisted my ankle on the kerb, it's swollen on the outside",
        embedder=emb,
        cache_dir=tmp_path,
    )
    assert found.status("face_swelling") is None
    found = parse(
        "stung on my hand and now my lips have puffed right up", embedder=emb, cache_dir=tmp_path
    )
    assert found.status("face_swelling") == "present"
    found = parse(
        "my eyesight has got gradually misty over the last year", embedder=emb, cache_dir=tmp_path
    )
    assert found.status("vision_loss_sudden") is None


def test_a_sting_with_wheezing_is_an_emergency() -> None:
    r = answer_until(assess("a wasp stung my arm 10 minutes ago"), "breathing", "yes I'm wheezy")
    assert r["level"] == "emergency"


def test_back_pain_asks_about_peeing() -> None:
    r = assess("my back has been bad since I lifted a heavy box")
    asked: set[str] = set()
    for _ in range(5):
        asked |= asked_topics(r)
        if not r["next_questions"]:
            break
        r = assess("No.", r["intake"])
    assert "urinary" in asked


def test_a_burn_from_heat_does_not_ask_about_electricity() -> None:
    r = assess("I burnt my finger on the oven shelf, it's only small")
    assert "injury" not in asked_topics(r)
    first = assess("I burnt my finger, it's only small")
    r = answer_until(first, "injury", "touched a hot pan")
    assert r["level"] != "emergency"
    assert "injury" not in asked_topics(r)


# ---- review mends: a rule's exception or a reading's site must not hide the emergency


def test_peeling_skin_with_sore_eyes_is_an_emergency_even_after_hand_foot_and_mouth() -> None:
    # NHS Stevens-Johnson syndrome: skin that blisters or peels with sore, red eyes: A&E. The
    # exception for hand, foot and mouth disease (blisters on the hands, feet and in the mouth)
    # does not reach the eyes
    r = _no_to_all(
        assess(
            "she had hand foot and mouth last week and now her skin is peeling off, eyes are sore"
        )
    )
    assert r["level"] == "emergency"
    assert "blistering_rash_eyes" in r["rules"]


@pytest.mark.parametrize(
    "story",
    [
        "I burned my hand with oven cleaner, it's red and stinging",
        "my son got an electric shock from the kettle and it burned his fingers",
        "I burned my arm with drain cleaner",
    ],
)
def test_a_chemical_or_electrical_burn_is_an_emergency_even_beside_a_kitchen_word(
    story: str,
) -> None:
    # NHS Burns and scalds: go to A&E for all chemical and electrical burns; the heat-burn
    # reading of "oven" or "kettle" is cancelled when the story names the chemical or the shock
    r = _no_to_all(assess(story))
    assert r["level"] == "emergency"
    assert "burn_electrical_chemical" in r["rules"]


def test_a_heat_burn_is_still_not_asked_whether_it_was_electrical() -> None:
    r = assess("burned my hand on the oven door, small red patch")
    assert "burn_electrical_chemical" not in parse("burned my hand on the oven door").present()
    assert all("electric" not in q["text"].lower() for q in r["next_questions"])


def test_swelling_said_to_be_all_over_is_placed_nowhere_in_particular() -> None:
    from tools.triage.semantic import _sentence_sites

    text = "stung by a bee on my hand. now I'm swelling up all over"
    assert _sentence_sites(text, text.index("swelling")) == frozenset()
    assert _sentence_sites(text, 0) == sites("stung by a bee on my hand")
    ankle = "twisted my ankle, it's swollen on the outside"
    assert _sentence_sites(ankle, ankle.index("swollen")) == frozenset({"leg"})
