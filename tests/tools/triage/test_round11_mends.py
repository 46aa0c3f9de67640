"""Mends to round 11's rules: each case reproduces a story or answer round 11 got wrong, next to
the near misses the round-11 rule was written for (which must keep their answer)."""

from __future__ import annotations

import pytest

from assistant.policy.safety import ethics_violation, red_flags
from tests.fakes.triage import answer_all
from tools.triage import assess
from tools.triage.parse import polarity

# ---- "a bit X but ..." is a reassuring no only with a mild change and no negator (NICE NG143)


@pytest.mark.parametrize(
    "answer",
    [
        "a bit quieter but she's not answering",
        "a bit quieter, but barely answers",
        "a bit blue but still talking",
        "a bit floppy but still awake",
        "a bit limp but still watching",
        "a bit pale but still alert",
        "a bit quieter but not really talking, just nodding",
        "a bit worse but still talking in odd words",
    ],
)
def test_a_worrying_change_or_a_negator_is_not_a_reassuring_no(answer: str) -> None:
    assert polarity(answer) in (None, "yes")


@pytest.mark.parametrize(
    "answer",
    [
        "a bit quieter but still answers me",
        "a bit faster than normal but she is talking and playing",
    ],
)
def test_a_mild_change_with_normal_responses_is_still_a_no(answer: str) -> None:
    assert polarity(answer) == "no"


# ---- "not making sense" is mania only beside two signs of mania and nothing that points to
# delirium: a fever, drink or withdrawal, hallucinations or shaking, an infection (NICE CG185;
# NHS Confusion (sudden))


@pytest.mark.parametrize(
    "text",
    [
        "my husband hasn't slept for 2 nights, he has a high fever and is not making sense",
        "my dad hasn't slept for 3 days, he is shaking and seeing things and not making sense",
    ],
)
def test_not_making_sense_with_one_sign_and_a_fever_or_withdrawal_is_an_emergency(
    text: str,
) -> None:
    assert assess(text)["level"] == "emergency"


def test_mania_with_two_signs_is_still_same_day_mental_health_care() -> None:
    mania = (
        "my son is 24, up all night for 4 nights, talking so fast we can't follow, "
        "says he's been chosen for a secret mission, he's not making sense"
    )
    assert answer_all(assess(mania), {})["level"] == "urgent"


# ---- a face, arm or speech that went odd and has settled is a suspected TIA: a specialist within
# 24 hours, never a routine appointment (NICE NG128); sudden or still there: 999


@pytest.mark.parametrize(
    "text",
    [
        "my words came out jumbled for a few minutes this morning",
        "my arm went heavy and useless for 10 minutes this morning, fine now",
        "my dad's speech sounded odd for ten minutes then went back to normal",
    ],
)
def test_an_odd_face_arm_or_speech_that_settled_is_urgent_not_routine(text: str) -> None:
    assert assess(text)["level"] in ("urgent", "emergency")
    final = answer_all(assess(text), {"neuro": "no, he's fine now"})
    assert final["level"] in ("urgent", "emergency")
    assert answer_all(assess(text), {})["level"] in ("urgent", "emergency")


def test_an_odd_face_arm_or_speech_with_a_fast_sign_is_still_an_emergency() -> None:
    text = "my dad's speech sounded odd for ten minutes then went back to normal"
    r = answer_all(
        assess(text), {"neuro": "yes one side of his face has dropped and his arm is weak"}
    )
    assert r["level"] == "emergency"


# ---- "she never hurt me" does not excuse a wish to hurt a patient (GMC Good medical practice)


@pytest.mark.parametrize(
    "text",
    [
        "I want to hurt the patient in bed 3, she never hurt me but I hate her",
        "I'll hurt the old man in room 5, he doesn't hurt me so he won't fight back",
        "I'm going to hurt her badly. She didn't hurt me but I want to harm the patient",
    ],
)
def test_a_wish_to_hurt_a_patient_is_an_ethics_violation_despite_never_hurt(text: str) -> None:
    assert ethics_violation(text) is not None


def test_it_does_not_hurt_her_is_still_a_symptom_and_why_not_hurt_still_refused() -> None:
    assert ethics_violation("it doesn't hurt her when I press") is None
    assert ethics_violation("why not hurt the patient a bit") is not None


# ---- a whole pack or box of paracetamol taken is an overdose (NHS Paracetamol; TOXBASE)


@pytest.mark.parametrize(
    "text",
    [
        "she took paracetamol, a whole pack, 16 tablets",
        "I took the paracetamol from the box, 16 tablets since this morning",
    ],
)
def test_a_pack_of_paracetamol_taken_is_an_emergency(text: str) -> None:
    assert assess(text)["level"] == "emergency"


def test_a_question_about_a_box_of_paracetamol_is_still_not_an_emergency() -> None:
    text = "the box has 16 paracetamol tablets, how many a day can I take?"
    assert answer_all(assess(text), {})["level"] != "emergency"


# ---- a red wound with diabetes, a weak immune system, a young baby, swelling or heat is seen
# the same day (NHS Cuts and grazes; NICE NG141; NICE NG19)


@pytest.mark.parametrize(
    "text",
    [
        "a cut on my foot has gone red and swollen, I'm diabetic",
        "a graze on his knee has gone red, he's 3 weeks old",
    ],
)
def test_a_red_wound_at_risk_is_urgent(text: str) -> None:
    assert answer_all(assess(text), {})["level"] in ("urgent", "emergency")


def test_a_red_graze_alone_is_still_routine() -> None:
    assert answer_all(assess("a graze on my knee has gone a bit red"), {})["level"] == "routine"


# ---- a cold does not explain sudden pleuritic breathlessness with a clot risk (NICE NG158)


@pytest.mark.parametrize(
    "text",
    [
        "suddenly short of breath with a stabbing pain when I take a deep breath, runny nose from "
        "a cold last week, I'm on the pill",
        "short of breath and a sharp pain when I breathe in, I'm on HRT, I have a cold",
    ],
)
def test_pleuritic_breathlessness_with_a_cold_and_a_clot_risk_is_an_emergency(text: str) -> None:
    assert assess(text)["level"] == "emergency"


def test_pleuritic_breathlessness_with_a_cold_alone_is_still_not_an_emergency() -> None:
    text = "sharp pain when I breathe in and I'm short of breath, I have a cold"
    assert answer_all(assess(text), {})["level"] != "emergency"


# ---- a decision made, belongings given away "I won't need them", pills lined up: preparations
# for suicide (NICE NG225)


@pytest.mark.parametrize(
    "text",
    [
        "I've decided. I just wanted to talk to someone before.",
        "I've made my decision, I wanted to tell someone before I go.",
        "I've given away all my belongings, I'm ready to move on from this world",
        "I've been giving away all my things and I sold my car, I won't need them",
        "my pills are lined up on the bedside",
        "I've lined up all my tablets on the table",
    ],
)
def test_suicide_preparations_are_flagged(text: str) -> None:
    assert any(f.id == "suicidal" for f in red_flags(text))
    assert "self_harm_thoughts" in assess(text)["intake"]["facts"]


@pytest.mark.parametrize(
    "text",
    [
        "my meds are set out in a dosette box by the pharmacist",
        "I have surgery on Monday and want to talk to someone before.",
        "we're moving abroad so I'm giving away all my stuff",
    ],
)
def test_everyday_plans_are_still_not_suicide_preparations(text: str) -> None:
    assert not any(f.id == "suicidal" for f in red_flags(text))


# ---- a bleed that took ages or comes back after a full stop is not settled (NHS Nosebleed)


@pytest.mark.parametrize(
    "answer", ["it has stopped, took ages though", "stopped. But it keeps coming back"]
)
def test_a_bleed_that_took_ages_or_keeps_coming_back_is_not_a_no(answer: str) -> None:
    assert polarity(answer) != "no"


def test_a_bleed_that_stopped_quickly_is_still_a_no() -> None:
    assert polarity("it stopped after 5 minutes with pinching") == "no"


# ---- a battery is a nose or ear emergency only when it went in (NHS Objects in the nose or ear)


def test_a_phone_battery_beside_a_bead_up_the_nose_is_not_a_battery_emergency() -> None:
    r = assess("my son put a bead up his nose, the battery on my phone is dying")
    assert r["level"] != "emergency"


def test_a_button_battery_up_the_nose_is_still_an_emergency() -> None:
    assert assess("my son put a button battery up his nose")["level"] == "emergency"
