"""Round 9's mechanisms. Each case is written from the guidance the rule cites, in words of its
own (not copied from any vignette): a person telling of a health problem in patient mode always
reaches triage and gets a level (erection problems, hearing going, an older person's fall)."""

from __future__ import annotations

import pytest

from assistant.policy.safety import ethics_violation
from tests.fakes.triage import answer_all
from tools.triage import assess
from tools.triage.parse import mentions_symptoms

# ---- 1. a patient's story always gets a level (the issue: never a bare definition)

STORIES = [
    # NHS Erection problems: lay words and a question about the tablets
    (
        "can't seem to get it up lately, I'm 60 with high blood pressure, would viagra be ok?",
        "routine",
    ),
    # NICE NG98: gradual hearing loss, told by a relative asking how to get it checked
    (
        "my mum turns the radio up really loud now and asks us to repeat everything, can we get her hearing tested?",
        "routine",
    ),
    # NICE NG249: an older person's fall with no injury
    ("grandad had a small fall in the garden this morning, no injuries, he's 88", "routine"),
]


@pytest.mark.parametrize(("text", "level"), STORIES)
def test_a_story_about_a_health_problem_is_triaged(text: str, level: str) -> None:
    assert mentions_symptoms(text)
    r = assess(text)
    assert r["level"] is not None
    for _ in range(6):
        if not r["next_questions"]:
            break
        r = assess("No.", r["intake"])
    assert r["level"] == level


def test_a_question_about_a_test_for_someone_is_a_story() -> None:
    assert mentions_symptoms("how do we get my dad's eyesight checked? he keeps missing the kerb")


def test_hurting_oneself_in_a_fall_is_not_a_wish_to_harm() -> None:
    assert (
        ethics_violation("she slipped on the stairs but didn't hurt herself, got up on her own")
        is None
    )
    assert ethics_violation("how do I hurt her without anyone noticing") is not None


_answer = answer_all


def _asked(result: dict) -> list[str]:
    return [t for q in result["next_questions"] for t in q["topics"]]


# ---- 2. a hand gone clumsy is asked the stroke questions first (NICE NG128, NHS FAST)


def test_a_clumsy_hand_asks_about_face_speech_and_sudden_onset_first() -> None:
    first = assess("my right hand's gone all clumsy, I fumbled my keys and spilt my tea")
    assert "neuro" in _asked(first) and "injury" not in _asked(first)
    assert not any("burn" in r for r in first["reasons"])
    r = _answer(first, {"neuro": "yes my face feels droopy on one side", "sudden_onset": "yes"})
    assert r["level"] == "emergency"


def test_a_slowly_clumsy_hand_without_stroke_signs_is_not_an_emergency() -> None:
    r = _answer(assess("my left hand has been clumsy for a few months, I'm 50"), {})
    assert r["level"] == "routine"


def test_a_hot_drink_on_the_person_is_still_a_burn() -> None:
    r = assess("I knocked my coffee over my hand and it's red and stinging")
    assert any("burn" in x for x in r["reasons"])


# ---- 3. a headache late in pregnancy: eyesight, swelling, blood pressure (NICE NG133)


def test_a_headache_in_pregnancy_asks_eyesight_and_swelling_and_with_one_is_urgent() -> None:
    first = assess(
        "I'm 30 weeks pregnant and have had a headache since last night, I never usually get them"
    )
    asked: list[str] = []
    r = first
    for _ in range(6):
        if not r["next_questions"]:
            break
        asked += _asked(r)
        r = assess(
            " ".join(
                (
                    "yes my ankles and face have puffed up"
                    if "face_swelling" in q["topics"]
                    else "No"
                )
                + "."
                for q in r["next_questions"]
            ),
            r["intake"],
        )
    assert "vision" in asked and "face_swelling" in asked
    assert r["level"] == "urgent"


def test_zigzag_lights_are_an_eyesight_change() -> None:
    r = _answer(
        assess("headache since this morning, I'm 33 weeks pregnant"),
        {"vision": "I keep getting zigzag flickering lights"},
    )
    assert r["level"] == "urgent"


def test_a_habit_denied_does_not_undo_the_complaint() -> None:
    r = assess("got a bad headache today, I don't usually get headaches")
    assert any("headache" in x for x in r["reasons"])


# ---- 4. bruising or bleeding on a blood thinner is seen today (NICE CKS; MHRA)


def test_unexplained_bruising_asks_about_medicines_and_on_warfarin_is_urgent() -> None:
    first = assess(
        "I've noticed lots of bruises on my legs this week and my gums bleed when I brush"
    )
    asked: list[str] = []
    r = first
    while r["next_questions"]:
        asked += _asked(r)
        r = assess("No.", r["intake"])
    assert "medicines" in asked and r["level"] == "routine"
    r = _answer(first, {"medicines": "I take warfarin"})
    assert r["level"] == "urgent"
    r = _answer(assess("lots of bruises on my legs for no reason this week, I'm 45"), {})
    assert r["level"] == "routine"


# ---- 5. clinical shorthand for no fever


def test_apyrexial_is_no_fever() -> None:
    r = assess("colicky loin to groin pain since this morning, apyrexial")
    assert not any("temperature" in x for x in r["reasons"])


def test_unexplained_bruising_in_a_child_is_seen_today() -> None:
    r = _answer(assess("my 7 year old has bruises all over his legs for no reason"), {"age": "7"})
    assert r["level"] == "urgent"
