"""Round 14 (rules): under-triage gaps closed by mechanism. Each case is written from the guidance
the rule cites, in words of its own; each new recogniser has near misses that must not change."""

from __future__ import annotations

import pytest

from tests.fakes.triage import answer_all, fact_present
from tools.triage import assess

# ---- 1. diabetic ketoacidosis told without ketones or a reading (NHS Diabetic ketoacidosis)

DKA = [
    "my diabetic son keeps being sick and his breath smells funny",
    "my daughter is type 1, she's been throwing up all day and breathing really deep and fast",
    "he's diabetic, vomiting since last night and his breath smells like nail varnish",
    "I'm type 1 and keep being sick, my partner says my breath smells fruity",
    "type 1 diabetic teenager vomiting, taking big deep breaths",
]


@pytest.mark.parametrize("text", DKA)
def test_vomiting_with_diabetes_and_the_breath_of_ketoacidosis_is_an_emergency(text: str) -> None:
    r = assess(text)
    assert r["level"] == "emergency"
    assert "dka_signs" in r["rules"]


@pytest.mark.parametrize(
    "text",
    [
        "my diabetic son keeps being sick",
        "I'm type 2 diabetic and have a tummy bug, been sick twice",
    ],
)
def test_plain_vomiting_with_diabetes_stays_same_day(text: str) -> None:
    r = assess(text)
    assert r["level"] == "urgent"
    assert "dka_signs" not in r["rules"]


@pytest.mark.parametrize(
    "text",
    [
        "I'm diabetic and my breath smells funny, no sickness at all",
        "been sick twice and my breath smells funny after a curry",
        "I'm diabetic and have a cough, breathing deep hurts a little",
    ],
)
def test_the_breath_alone_or_without_diabetes_is_not_ketoacidosis(text: str) -> None:
    r = assess(text)
    assert "dka_signs" not in r["rules"]
    assert r["level"] != "emergency"


# ---- 2. a broken hip told without an age (NHS Hip fracture; NICE CG124)

HIP = [
    "my nan fell in the kitchen and can't stand up, her leg looks shorter and turned out",
    "I fell over on the ice and now my leg is shorter and turned outwards, can't put weight on it",
    "mum slipped in the bathroom, her right foot is pointing outwards and she can't get up",
]


@pytest.mark.parametrize("text", HIP)
def test_a_shortened_turned_out_leg_after_a_fall_is_an_emergency_at_any_age(text: str) -> None:
    r = assess(text)
    assert r["level"] == "emergency"
    assert "hip_fracture_leg" in r["rules"]


@pytest.mark.parametrize(
    "text",
    [
        "one of my son's legs is slightly shorter than the other, the physio says it's normal",
        "my toddler's feet turn outwards when he walks, is that normal",
    ],
)
def test_a_shorter_leg_or_turned_out_feet_without_an_injury_is_not_a_broken_hip(text: str) -> None:
    r = assess(text)
    assert "hip_fracture_leg" not in r["rules"]
    assert r["level"] != "emergency"


def test_a_fall_on_the_hip_walked_on_stays_same_day_without_an_age() -> None:
    r = assess("had a fall this morning, my hip hurts but I can walk ok")
    assert r["level"] == "urgent"
    assert "hip_fracture_leg" not in r["rules"]


# ---- 3. a headache that began during sex or while straining (NHS Headaches; NHS SAH)

EXERTION = [
    "sudden splitting headache during sex",
    "terrible headache came on during sex last night",
    "got a sudden pain in my head while straining on the toilet",
    "while I was straining on the loo a sudden headache hit the back of my head",
]


@pytest.mark.parametrize("text", EXERTION)
def test_a_sudden_or_severe_headache_during_sex_or_straining_is_an_emergency(text: str) -> None:
    r = assess(text)
    assert r["level"] == "emergency"
    assert fact_present(r, "headache_on_exertion")


@pytest.mark.parametrize(
    "text",
    [
        "I had a mild headache after exercise a few days ago",
        "headache after sex last week, mild, gone now",
        "I get a headache when I've been pushing myself too hard at work",
    ],
)
def test_a_mild_headache_after_exercise_or_sex_days_ago_is_not_caught(text: str) -> None:
    r = assess(text)
    assert r["level"] != "emergency"
    assert not {"headache_exertion_sudden", "headache_exertion_severe"} & set(r["rules"])


# ---- 4. lay idioms for back pain (NICE CKS Back pain - low)

BACK = [
    "I did my back in lifting a box yesterday",
    "did his back in moving house",
    "think I've done my back in at the gym",
    "threw my back out hoovering",
    "put his back out gardening",
    "pulled something in my back at work",
]


@pytest.mark.parametrize("text", BACK)
def test_lay_idioms_for_a_strained_back_are_back_pain(text: str) -> None:
    assert fact_present(assess(text), "back_pain")


def test_a_back_done_in_with_every_warning_sign_denied_can_be_home_care() -> None:
    r = assess("I did my back in lifting a box yesterday, I'm 34")
    assert answer_all(r, {"duration": "since yesterday"})["level"] == "self_care"


@pytest.mark.parametrize(
    "text",
    [
        "did my knee in playing football",
        "I'm back in the office and my wrist hurts",
        "put my back into the gardening and now my hands are blistered",
    ],
)
def test_other_joints_and_back_as_a_word_are_not_back_pain(text: str) -> None:
    assert not fact_present(assess(text), "back_pain")


# ---- 5. a recent operation named by what was taken out

SURGERY = [
    "3 days post lap chole, tummy sore",
    "post laparoscopic cholecystectomy last week, now pain",
    "after my gallbladder was taken out last week I have pain",
    "had my appendix out 5 days ago and the wound is sore",
    "I had a hysterectomy ten days ago and my leg is swollen",
    "two weeks post op and feeling feverish",
]


@pytest.mark.parametrize("text", SURGERY)
def test_an_operation_named_by_what_was_removed_is_a_recent_operation(text: str) -> None:
    assert fact_present(assess(text), "recent_surgery")


@pytest.mark.parametrize(
    "text",
    [
        "had my appendix out when I was 12, now I have a headache",
        "my gallbladder was removed years ago, now heartburn",
        "I posted a letter and then my back started hurting",
    ],
)
def test_an_operation_long_ago_or_the_word_post_is_not_recent_surgery(text: str) -> None:
    assert not fact_present(assess(text), "recent_surgery")


# ---- 6. memory lost after a head injury (NICE NG232; NHS Head injury and concussion)

AMNESIA = [
    "hit his head playing rugby and now he keeps asking the same questions",
    "fell and banged her head, she can't remember what happened",
    "my son bumped his head on the climbing frame and doesn't remember falling",
    "I hit my head on the car door and I've got no memory of the accident",
]


@pytest.mark.parametrize("text", AMNESIA)
def test_repeated_questions_or_lost_memory_after_a_head_injury_is_an_emergency(text: str) -> None:
    r = assess(text)
    assert r["level"] == "emergency"
    assert "head_injury_amnesia" in r["rules"]


@pytest.mark.parametrize(
    "text",
    [
        "bumped my head on a cupboard, I remember everything, small lump",
        "my gran keeps asking the same questions lately, no fall",
        "I can't remember what happened at the party, my head hurts",
    ],
)
def test_memory_without_a_head_injury_or_remembered_is_not_the_head_injury_rule(text: str) -> None:
    r = assess(text)
    assert "head_injury_amnesia" not in r["rules"]
    assert r["level"] != "emergency"


# ---- 7. vomiting blood told in other word orders (NHS Vomiting blood)

HAEMATEMESIS = [
    "there is the blood in vomit",
    "vomit with blood since this morning",
    "blood coming in vomit",
    "I vomited some blood",
    "blood is coming with the vomit",
]


@pytest.mark.parametrize("text", HAEMATEMESIS)
def test_blood_in_the_vomit_in_other_word_orders_is_vomiting_blood(text: str) -> None:
    r = assess(text)
    assert fact_present(r, "vomiting_blood")
    assert r["level"] == "emergency"


@pytest.mark.parametrize(
    "text",
    [
        "I feel like I'm going to vomit when I see blood",
        "blood test came back fine but I vomited once this morning",
    ],
)
def test_blood_and_vomit_apart_are_not_vomiting_blood(text: str) -> None:
    assert not fact_present(assess(text), "vomiting_blood")


# ---- 8. men's urinary symptoms (NICE CKS LUTS in men; NHS Urinary retention)


@pytest.mark.parametrize(
    "text",
    [
        "I'm 72, getting up 3 times a night to pee and dribbling after I wee",
        "I'm 68 and my stream is weak and I have to get up at night to pee",
        "my husband is 70, his flow is weaker and he dribbles at the end",
    ],
)
def test_lower_urinary_symptoms_in_an_older_man_are_a_gp_appointment(text: str) -> None:
    r = assess(text)
    assert fact_present(r, "prostate_symptoms")
    assert answer_all(r, {})["level"] == "routine"


@pytest.mark.parametrize(
    "text",
    ["my baby is dribbling a lot, teething", "the tap's flow is weak and I have a cold"],
)
def test_a_baby_dribbling_or_a_weak_tap_is_not_a_urinary_symptom(text: str) -> None:
    assert not fact_present(assess(text), "prostate_symptoms")


def test_a_man_who_cannot_pee_with_a_swollen_painful_bladder_goes_to_a_and_e() -> None:
    r = assess("my dad hasn't been able to pee since last night, his tummy is swollen and painful")
    assert r["level"] == "emergency"


# ---- 9. food sticking (NICE NG12: a GP appointment for referral; food stuck now: A&E)


def test_progressive_food_sticking_with_weight_loss_is_a_gp_referral() -> None:
    r = assess("food has been sticking in my chest for weeks and I've lost half a stone, I'm 66")
    assert answer_all(r, {})["level"] == "routine"


def test_food_stuck_now_with_saliva_not_going_down_is_an_emergency() -> None:
    r = assess("a piece of steak is stuck since dinner, I can't swallow my own spit, keep spitting")
    assert r["level"] == "emergency"


# ---- 10. self-harm today (NICE NG225): never below same day; with intent an emergency


@pytest.mark.parametrize(
    "text",
    [
        "I cut my arm today, it's superficial, I don't want to die",
        "I cut myself this morning, not deep",
    ],
)
def test_self_harm_today_without_intent_is_at_least_same_day(text: str) -> None:
    assert assess(text)["level"] in ("urgent", "emergency")


def test_self_harm_with_intent_is_an_emergency() -> None:
    assert assess("I cut myself last night and I want to die")["level"] == "emergency"


# ---- a child "drinking loads" is thirst or alcohol, a doctor today (NICE NG18), never a hangover


@pytest.mark.parametrize(
    "text",
    [
        "my 9 year old is drinking loads lately, is that normal in this warm weather?",
        "my 7 year old is drinking a lot of water and weeing loads",
    ],
)
def test_a_child_drinking_loads_is_seen_today(text: str) -> None:
    r = assess(text)
    assert r["level"] == "urgent"
    assert "alcohol_child" in r["rules"]


@pytest.mark.parametrize(
    "text",
    [
        "my 4 year old has a cold and a temperature since this morning, "
        "she's playing and drinking loads",
        "my 3 year old has a temperature since last night, drinking loads, weeing normally",
    ],
)
def test_a_feverish_child_drinking_loads_as_reassurance_is_not_thirst(text: str) -> None:
    r = assess(text)
    assert "alcohol_child" not in r["rules"]
    assert r["level"] != "urgent"


@pytest.mark.parametrize(
    "text",
    [
        "bad hangover this morning, any tips",
        "I'm 25 and was drinking loads last night, awful hangover",
    ],
)
def test_an_adult_hangover_keeps_its_home_care(text: str) -> None:
    r = assess(text)
    assert "alcohol_child" not in r["rules"]
    assert answer_all(r, {})["level"] == "self_care"


# ---- croup told in other words: a seal-like cough, a noisy breath only when crying (NICE CKS
# Croup; NHS Healthier Together croup pathway: stridor only when upset -> a doctor today)


@pytest.mark.parametrize(
    "text",
    [
        "my 2 yr old has a cough that sounds like a seal, breathing fine when settled, "
        "bit noisy when she cries",
        "my 2 year old has a barking cough, breathing is ok when he's calm but noisy when he cries",
        "croup cough in my 3 year old, only noisy when crying",
    ],
)
def test_a_croup_cough_with_noisy_breathing_only_when_crying_is_same_day(text: str) -> None:
    r = assess(text)
    assert "croup_stridor_upset" in r["rules"]
    assert r["level"] == "urgent"


def test_a_seal_like_cough_without_noisy_breathing_keeps_home_care() -> None:
    r = assess("my son's cough sounds like a seal barking, it started tonight, he's 4")
    assert fact_present(r, "barking_cough")
    assert "croup_stridor_upset" not in r["rules"]
    assert answer_all(r, {"duration": "since tonight"})["level"] == "self_care"


@pytest.mark.parametrize(
    "text",
    ["my baby is noisy when she cries, otherwise fine", "my cough sounds like a smoker's cough"],
)
def test_a_loud_crying_baby_or_another_cough_is_not_croup(text: str) -> None:
    r = assess(text)
    assert not fact_present(r, "stridor_upset")
    assert not fact_present(r, "barking_cough")
