"""Round 11's mechanisms. Each case is written from the guidance the rule cites, in words of its
own (not copied from any vignette)."""

from __future__ import annotations

import pytest

from tests.fakes.triage import answer_all
from tools.triage import assess


def _asked(result: dict) -> list[str]:
    return [t for q in result["next_questions"] for t in q["topics"]]


# ---- 1. a face, arm or speech that feels odd asks the FAST questions first (NICE NG128; NHS Stroke)

ODD_FACE_ARM_SPEECH = [
    "my cheek went a bit numb and strange while I was having lunch, it's probably nothing",
    "this morning my right hand felt really heavy when I tried to pour the kettle",
    "on the phone just now my words kept coming out wrong, my husband noticed",
    "my lips feel weird since about 20 mins ago, I'm 66",
]


@pytest.mark.parametrize("text", ODD_FACE_ARM_SPEECH)
def test_an_odd_face_arm_or_speech_asks_the_stroke_questions_first(text: str) -> None:
    r = assess(text)
    assert r["level"] != "self_care"
    assert "neuro" in _asked(r)[:2]


@pytest.mark.parametrize("text", ODD_FACE_ARM_SPEECH)
def test_an_odd_face_arm_or_speech_with_a_fast_sign_is_an_emergency(text: str) -> None:
    r = answer_all(
        assess(text), {"neuro": "yes one side of my face has dropped and that arm is weak"}
    )
    assert r["level"] == "emergency"


@pytest.mark.parametrize("text", ODD_FACE_ARM_SPEECH)
def test_an_odd_face_arm_or_speech_is_never_home_care(text: str) -> None:
    assert answer_all(assess(text), {})["level"] != "self_care"


def test_funny_said_of_something_other_than_a_face_is_not_an_odd_face() -> None:
    # "funny" about something else is not an odd face
    r = assess("my son's face when he saw the cake was so funny")
    assert "face_arm_speech_odd" not in r["intake"]["facts"]


# ---- 2. a head injury on an anticoagulant is an emergency (NICE NG232: CT within 8 hours)

HEAD_STRIKES_ON_THINNERS = [
    "Resident aged 88, found on the floor by carers, struck forehead on bedside table. "
    "Oriented, no vomiting. On warfarin for a metal valve.",
    "grandad (84) slipped on the ice and cracked the back of his head on the step, he's on "
    "dabigatran, says he feels alright",
    "I'm 70 and take edoxaban, banged my head on the car boot lid this afternoon, bit of a bump",
]


@pytest.mark.parametrize("text", HEAD_STRIKES_ON_THINNERS)
def test_a_head_strike_on_a_blood_thinner_is_an_emergency(text: str) -> None:
    r = assess(text)
    assert r["level"] == "emergency" and not r["next_questions"]


def test_the_blood_thinner_told_in_an_answer_makes_a_head_strike_an_emergency() -> None:
    first = assess(
        "my mum is 77, she slipped and knocked her head on the door frame, chatting normally"
    )
    r = answer_all(first, {"medicines": "she takes rivaroxaban for her heart rhythm"})
    assert r["level"] == "emergency"


def test_a_head_strike_without_a_blood_thinner_or_warning_sign_is_not_an_emergency_by_rule() -> (
    None
):
    r = answer_all(assess("I'm 35, banged my head on a kitchen cupboard door, little bump"), {})
    assert r["level"] != "emergency"
