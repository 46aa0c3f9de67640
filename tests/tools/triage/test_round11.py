"""Round 11's mechanisms. Each case is written from the guidance the rule cites, in words of its
own (not copied from any vignette)."""

from __future__ import annotations

import pytest

from tests.fakes.triage import answer_all
from tools.triage import assess
from tools.triage.answers import polarity


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


# ---- 3. same-day stories: shingles near the eye, infected chickenpox, an abscess, an object in a
# child's nose or ear, a scratch gone red with a temperature


@pytest.mark.parametrize(
    "text",
    [
        "blisters in a strip on one side of my scalp and forehead, really stinging, I'm 68",
        "a blistering rash on one side of my face near my eye since yesterday",
    ],
)
def test_shingles_near_the_eye_is_same_day(text: str) -> None:
    assert assess(text)["level"] in {"urgent", "emergency"}


def test_chickenpox_with_a_temperature_that_came_back_is_same_day() -> None:
    first = assess("my son has chickenpox, day 5")
    r = answer_all(first, {"fever": "his temperature came back last night, 38.6"})
    assert r["level"] == "urgent"


def test_chickenpox_with_hot_red_swollen_skin_round_the_spots_is_same_day() -> None:
    r = assess("she has chickenpox and a few of the spots on her leg are red and swollen and sore")
    assert r["level"] in {"urgent", "emergency"}


def test_plain_chickenpox_is_still_home_care() -> None:
    r = answer_all(assess("my 6 year old has chickenpox, itchy but otherwise happy"), {})
    assert r["level"] == "self_care"


@pytest.mark.parametrize(
    "text",
    [
        "a boil on my thigh that keeps getting bigger and is agony now",
        "there's a lump on my back, hot to touch and red, very tender",
    ],
)
def test_an_abscess_that_grows_or_is_red_and_hot_is_same_day(text: str) -> None:
    assert assess(text)["level"] in {"urgent", "emergency"}


@pytest.mark.parametrize(
    "text",
    [
        "my 4 year old has put a bit of crayon in his ear and we can't get it out",
        "toddler shoved a dried pea up his nostril, he's fine otherwise",
    ],
)
def test_an_object_in_a_childs_nose_or_ear_is_same_day(text: str) -> None:
    assert answer_all(assess(text), {})["level"] == "urgent"


def test_a_button_battery_in_the_nose_is_an_emergency() -> None:
    assert assess("my daughter pushed a button battery up her nose")["level"] == "emergency"


def test_a_scratch_gone_red_with_shivers_is_same_day_and_without_is_never_home_care() -> None:
    first = assess("scratched my arm on a rose bush 3 days ago and it's going red and sore")
    assert "fever" in _asked(first)
    assert answer_all(first, {"fever": "I've been shivery and it's 38.1"})["level"] == "urgent"
    assert answer_all(first, {})["level"] != "self_care"


# ---- 4. answers read more precisely: some change, but still responding or talking normally


@pytest.mark.parametrize(
    "answer",
    [
        "a little sleepier than usual but still chatting to me",
        "a bit quiet, but she still smiles and plays with her toys",
        "a bit faster than normal, but he's talking fine",
    ],
)
def test_a_small_change_while_still_responding_is_a_no_to_the_severe_sign(answer: str) -> None:
    assert polarity(answer) == "no"


@pytest.mark.parametrize("answer", ["a bit drowsy", "a bit sleepy but hard to wake", "yes"])
def test_a_change_without_normal_responses_is_still_a_yes(answer: str) -> None:
    assert polarity(answer) == "yes"


def test_the_reliever_named_in_lay_words_every_few_hours_is_same_day_not_severe() -> None:
    # BTS/SIGN: needing the reliever every 4 hours or more, still talking in sentences: same day
    first = assess("my asthma has been bad for a few days with this cold")
    r = answer_all(first, {"breathing": "yes wheezy, on my ventolin every 2 hours, talking fine"})
    assert r["level"] == "urgent"


# ---- COPD flare-up (NICE NG115; NHS COPD): same day, and "my chest" is the lungs, not chest pain


@pytest.mark.parametrize(
    "text",
    [
        "I have emphysema and for the last 2 days I'm coughing up more yellow sputum than normal",
        "copd, a lot more breathless than usual this week and my chest is getting worse",
    ],
)
def test_a_copd_flare_up_is_same_day(text: str) -> None:
    r = answer_all(assess(text), {"breathing": "more than usual but I can talk in full sentences"})
    assert r["level"] == "urgent"


def test_copd_without_a_flare_up_is_not_raised_by_the_flare_rule() -> None:
    r = assess("I have COPD, just wondering if I should have the flu jab this year")
    assert "copd_flare" not in r["intake"]["facts"]


# ---- 5. treatment tried without effect, or an infection that keeps coming back: a GP appointment


@pytest.mark.parametrize(
    "text",
    [
        "my eczema on my hands isn't getting any better with the cream from the pharmacy",
        "teenage son's acne, we've tried the gel from the chemist for two months, doesn't help",
        "thrush again, that's the 5th time in the last year",
        "I've had tonsillitis 8 times this year",
    ],
)
def test_failed_pharmacy_treatment_or_recurrent_infection_is_not_home_care(text: str) -> None:
    assert answer_all(assess(text), {})["level"] == "routine"


def test_mild_acne_is_still_home_care() -> None:
    r = answer_all(assess("a few spots of acne on my chin before my period"), {})
    assert r["level"] == "self_care"
