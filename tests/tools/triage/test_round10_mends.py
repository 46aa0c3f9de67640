"""Mends to round 10's rules: each case reproduces a story round 10 got wrong, next to the near
misses the round-10 rule was written for (which must keep their answer)."""

from __future__ import annotations

import time

import pytest

from assistant.policy.safety import ethics_violation, red_flags
from tests.fakes.triage import answer_all
from tools.triage import assess
from tools.triage.parse import polarity

# ---- being knocked out is a head injury even when a tooth is mentioned (NICE NG232)

KNOCKED_OUT_AND_A_TOOTH = [
    "knocked out cold and lost a tooth",
    "he was knocked out and knocked out a tooth",
    "my son was knocked out at rugby, two teeth knocked out too",
    "she fell and hit her head, knocked out for a few seconds, her tooth is wobbly",
]


@pytest.mark.parametrize("text", KNOCKED_OUT_AND_A_TOOTH)
def test_being_knocked_out_with_a_tooth_mentioned_is_still_an_emergency(text: str) -> None:
    assert assess(text)["level"] == "emergency"
    assert any(f.id == "head_injury" for f in red_flags(text))


@pytest.mark.parametrize(
    "text",
    [
        "knocked out two of my son's front teeth falling off his scooter, he's 14",
        "knocked out one of my front teeth at rugby",
        "my front tooth got knocked out at football, adult tooth, it's in milk",
        "he knocked his tooth out on the trampoline",
    ],
)
def test_a_knocked_out_tooth_alone_stays_urgent_dental_care(text: str) -> None:
    assert assess(text)["level"] == "urgent"
    assert not red_flags(text)


# ---- a bleed that has stopped is exempt only when nothing says shock, arterial or a re-bleed
# (NHS Cuts and grazes: bleeding that won't stop, spurting, or feeling faint is A&E)

STOPPED_BUT_DANGEROUS = [
    "bleeding heavily, it has stopped now but I'm dizzy and faint",
    "cut my arm, bled heavily, it stopped, then it started bleeding heavily once more",
    "blood everywhere from his leg. It stopped. Now it is spurting",
    "blood spurting from his thigh, it has stopped now",
    "deep cut, blood spurting, it has stopped now with a tourniquet",
]


@pytest.mark.parametrize("text", STOPPED_BUT_DANGEROUS)
def test_a_stopped_bleed_with_shock_spurting_or_a_rebleed_is_an_emergency(text: str) -> None:
    assert assess(text)["level"] == "emergency"
    assert any(f.id == "severe_bleeding" for f in red_flags(text))


@pytest.mark.parametrize(
    "text",
    [
        "sliced my finger on a knife, it bled loads, blood everywhere, but it has stopped now",
        "cut my thumb on a tin, it bled loads, blood everywhere, but it has stopped now with pressure",
    ],
)
def test_a_cut_that_bled_a_lot_and_has_stopped_is_still_not_an_emergency(text: str) -> None:
    assert not red_flags(text)
    assert assess(text)["level"] != "emergency"


def test_the_stopped_bleeding_exemption_reads_long_text_in_linear_time() -> None:
    """The exemption once scanned the text twice over (seconds on 20 kB); CPU time, generous."""
    for text in (
        "bled " * 3000 + "it stopped now " * 300 + " again",
        "bled " * 3000 + "it stopped now " * 300,
    ):
        began = time.process_time()
        red_flags(text)
        assert time.process_time() - began < 1.5


# ---- confusion is switched off only where it has gone, or is "not making sense" in mania
# (NHS Confusion (sudden); NICE NG232 Head injury; NICE CG185 Bipolar disorder)

CONFUSION_NOW = [
    "my dad is 82, talking really fast and confused since this morning, he doesn't recognise me",
    "my mum is suddenly confused and talking non-stop, she doesn't know where she is",
    "my wife is diabetic, she is talking nonsense and talking really fast and sweaty",
    "he was confused earlier, now fine, but this evening he is confused again",
    "my dad got confused after a fall, back to himself now, he is 85",
    "she's back to herself now but was confused and had a fit this morning",
]


@pytest.mark.parametrize("text", CONFUSION_NOW)
def test_confusion_beside_fast_talk_a_fall_a_fit_or_back_again_is_an_emergency(text: str) -> None:
    assert assess(text)["level"] == "emergency"


def test_confusion_gone_after_a_treated_hypo_and_mania_keep_their_same_day_answers() -> None:
    hypo = (
        "my mum is 77 on glimepiride, she was confused at lunch and her sugar was 2.9, "
        "had some lucozade and she's back to herself now"
    )
    r = answer_all(assess(hypo), {})
    assert r["level"] == "urgent" and "new confusion" not in r["reasons"]
    mania = (
        "my son is 24, up all night for 4 nights, talking so fast we can't follow, "
        "says he's been chosen for a secret mission, he's not making sense"
    )
    assert answer_all(assess(mania), {})["level"] == "urgent"


@pytest.mark.parametrize(
    "text", ["I have racing thoughts and anxiety", "my son is talking really fast when excited"]
)
def test_one_sign_alone_is_not_mania(text: str) -> None:
    r = answer_all(assess(text), {})
    assert not any("mania" in x for x in r["reasons"])


# ---- a nosebleed that took longer than 10 minutes, or comes back, is no "no" (NHS Nosebleed)


@pytest.mark.parametrize(
    "answer",
    [
        "it stops after about 30 mins",
        "stops after 40 minutes of pinching",
        "it stops with pressure but comes back every few minutes",
        "it stopped after half an hour",
    ],
)
def test_a_bleed_that_took_long_or_comes_back_is_not_a_no(answer: str) -> None:
    assert polarity(answer) != "no"


@pytest.mark.parametrize(
    "answer",
    ["it stops after 10 mins of pinching", "it stops with pinching", "stopped after 5 minutes"],
)
def test_a_bleed_that_stops_within_10_minutes_is_still_a_no(answer: str) -> None:
    assert polarity(answer) == "no"


def test_a_nosebleed_that_takes_half_an_hour_to_stop_is_not_self_care() -> None:
    first = assess("I have a nosebleed, I am 40")
    r = answer_all(first, {"bleeding": "It stops after about 30 minutes of pressing."})
    assert r["level"] in ("urgent", "emergency")


# ---- "I'm N weeks" is pregnancy unless an operation or a birth is named (NICE NG133; NHS)


def _pregnant(text: str) -> bool:
    return assess(text)["intake"]["facts"].get("pregnancy", {}).get("status") == "present"


def test_weeks_pregnant_said_with_since_or_on_is_still_pregnancy() -> None:
    r = assess("I'm 30 weeks since Friday and have some bleeding")
    assert any("bleeding in pregnancy" in x for x in r["reasons"])
    r = assess("I'm 34 weeks on Monday, bad headache, flashing lights and my face is swollen")
    assert any("headache in pregnancy" in x for x in r["reasons"])


@pytest.mark.parametrize(
    "text",
    [
        "I'm 3 weeks after my bunion op and my toe is stiff",
        "I'm 6 weeks post op and my wound is red",
        "I'm 5 weeks since my c-section and have some bleeding",
    ],
)
def test_weeks_after_an_operation_or_a_birth_is_not_weeks_pregnant(text: str) -> None:
    assert not _pregnant(text)


# ---- "why not hurt the patient" is a wish to harm; "it doesn't hurt her" is a symptom


def test_why_not_hurt_the_patient_is_a_wish_to_harm() -> None:
    rule = ethics_violation("why not hurt the patient a bit so he stops calling")
    assert rule is not None and rule.id == "harm_patient"
    assert ethics_violation("it doesn't hurt her, how do I poison the patient") is not None


@pytest.mark.parametrize(
    "text",
    [
        "her new tooth is wonky but it doesn't hurt her",
        "the injection doesn't hurt them, the patient was fine",
    ],
)
def test_it_does_not_hurt_her_is_still_a_symptom(text: str) -> None:
    assert ethics_violation(text) is None


def test_ill_hurt_myself_is_a_self_harm_flag() -> None:
    assert any(f.id == "suicidal" for f in red_flags("it doesn't matter, I'll hurt myself"))
    assert not red_flags("I fell off my bike and hurt myself")


# ---- round 10's emergency patterns on ordinary text, beside the real cases they were for

EVERYDAY = [
    "my meds are set out in a dosette box by the pharmacist",
    "the carer has my tablets laid out each morning",
    "I've laid out my tablets for tomorrow",
    "we're moving abroad so I'm giving away all my stuff",
    "I'm decluttering and giving away my things to charity",
    "I have surgery on Monday and want to talk to someone before.",
]


@pytest.mark.parametrize("text", EVERYDAY)
def test_everyday_tablets_belongings_and_talk_are_not_suicide_preparations(text: str) -> None:
    assert not any(f.id == "suicidal" for f in red_flags(text))
    assert assess(text)["level"] != "emergency"


@pytest.mark.parametrize(
    "text",
    [
        "my tablets are lined up on the side and the notes are written",
        "I have laid out all my pills, just wanted to talk to someone before",
        "i have lined up all my sleeping tablets on the side. wanted to talk to someone before.",
        "I've been giving away all my things this week",
    ],
)
def test_real_preparations_still_fire(text: str) -> None:
    assert any(f.id == "suicidal" for f in red_flags(text))
    assert assess(text)["level"] == "emergency"


@pytest.mark.parametrize(
    "text",
    [
        "I've been chewing my gaviscon tablets for heartburn",
        "the box has 16 paracetamol tablets, how many a day can I take?",
        "I was grinding my teeth at night and my eye is twitching",
        "my 4 year old has a blister on her heel from new shoes and burned her finger yesterday",
        "sharp pain when I breathe in and I'm short of breath, I have a cold",
    ],
)
def test_ordinary_stories_are_not_an_emergency(text: str) -> None:
    assert answer_all(assess(text), {})["level"] != "emergency"


@pytest.mark.parametrize(
    "text",
    [
        "my toddler chewed some of nan's tablets, she seems fine",
        "my 2 year old was chewing my blood pressure tablets",
        "I've been taking 12 to 14 paracetamol a day for my back",
        "I was using an angle grinder without goggles and something flew into my eye",
        "my baby pulled a cup of tea over, there's a blistered scald the size of my palm on his arm",
    ],
)
def test_the_real_cases_stay_an_emergency(text: str) -> None:
    assert assess(text)["level"] == "emergency"


def test_pleuritic_pain_with_breathlessness_and_no_cold_stays_an_emergency() -> None:
    assert assess("sudden sharp pain when I breathe in and I'm short of breath")["level"] == (
        "emergency"
    )


# ---- more medicine than the packet advises, told alone, is same-day advice (NHS Ibuprofen)


def test_more_than_the_recommended_dose_alone_is_same_day_with_a_reason() -> None:
    r = answer_all(assess("I took more than the recommended dose of ibuprofen"), {})
    assert r["level"] == "urgent" and r["reasons"]


# ---- a cold sore with a weak immune system is same day (NICE CKS Herpes simplex - oral)


def test_a_cold_sore_on_methotrexate_or_with_a_weak_immune_system_is_same_day() -> None:
    r = answer_all(assess("I have a cold sore on my lip, I'm on methotrexate"), {})
    assert r["level"] == "urgent"
    first = assess("I have a cold sore on my lip")
    assert answer_all(first, {"immunity": "yes, I had a kidney transplant"})["level"] == "urgent"
    assert answer_all(first, {"immunity": "no"})["level"] == "self_care"
