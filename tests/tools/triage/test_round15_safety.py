"""Round 15 (safety): emergencies missed and urgent stories sent home by new authors. Each case
is written from the guidance the rule cites, in words of its own; each new recogniser has near
misses that must not change."""

from __future__ import annotations

import pytest

from tests.fakes.triage import answer_all, answer_until, asked_topics, fact_present
from tools.triage import assess

# ---- 1. ketoacidosis: vomiting with diabetes and drowsiness or deep breathing (NHS DKA; NICE NG17)


@pytest.mark.parametrize(
    "text",
    [
        "I'm type 1 and have been sick all night, I keep dozing off",
        "my diabetic son keeps being sick and he can't stay awake",
        "type 1 diabetic, vomiting since yesterday and my breathing feels really deep",
    ],
)
def test_vomiting_with_diabetes_and_drowsiness_or_deep_breathing_is_an_emergency(
    text: str,
) -> None:
    r = assess(text)
    assert r["level"] == "emergency"
    assert "dka_drowsy_or_deep_breathing" in r["rules"]


def test_a_diabetic_who_vomits_is_asked_about_drowsiness_and_breathing() -> None:
    r = assess("stomach bug, can't keep anything down and I'm type 1")
    r = answer_until(r, "drowsiness", "really wiped out, keep dozing")
    assert fact_present(r, "dozing")
    assert r["level"] == "emergency"


@pytest.mark.parametrize(
    "text",
    [
        "I'm type 1 diabetic and keep dozing off in the afternoons, no sickness",
        "been sick twice with a tummy bug and keep dozing off on the sofa",
        "my breathing feels heavy after the stairs, I'm diabetic",
        "I dozed off on the train and missed my stop",
    ],
)
def test_drowsiness_or_deep_breathing_without_vomiting_and_diabetes_is_not_ketoacidosis(
    text: str,
) -> None:
    assert "dka_drowsy_or_deep_breathing" not in assess(text)["rules"]


# ---- 2. a calf after a long journey (NICE NG158; NHS DVT, Pulmonary embolism)

CALF_TRAVEL = [
    "flew back from spain on friday, 4 hour flight, and now my left calf aches and is tight",
    "my calf has been sore and swollen since the long drive up to scotland",
    "my right leg looks fatter than the other one",
]


@pytest.mark.parametrize("text", CALF_TRAVEL)
def test_a_calf_after_a_long_journey_is_seen_today(text: str) -> None:
    r = assess(text)
    assert fact_present(r, "calf_after_travel")
    assert r["level"] in ("urgent", "emergency")


def test_a_calf_after_a_flight_asks_breathing_and_chest_pain_then_an_emergency() -> None:
    r = assess("long-haul flight on tuesday, my calf has been aching since")
    assert {"breathing", "chest_pain"} <= asked_topics(r)
    r = answer_all(r, {"breathing": "yes, out of breath on the stairs since this morning"})
    assert r["level"] == "emergency"
    assert "calf_after_travel_chest" in r["rules"]


@pytest.mark.parametrize(
    "text",
    [
        "my calf aches after football on sunday",
        "flew to spain last week and now I have a cold",
        "flight tomorrow, what can I take for travel sickness?",
    ],
)
def test_a_calf_without_a_journey_or_a_journey_without_a_calf_is_not_a_travel_clot(
    text: str,
) -> None:
    assert not fact_present(assess(text), "calf_after_travel")


# ---- 3. back pain with collapse over 50, or with a known aneurysm (NICE NG156; NHS AAA)


def test_back_pain_over_fifty_asks_about_fainting_and_collapse_is_an_emergency() -> None:
    r = assess("I'm 68 and my lower back is killing me since this afternoon")
    r = answer_until(r, "fainting", "yes I collapsed in the bathroom for a few seconds")
    assert r["level"] == "emergency"
    assert "back_pain_collapse_older" in r["rules"]


def test_back_pain_with_a_known_aneurysm_over_fifty_is_an_emergency() -> None:
    r = assess("I'm 70, I have an aneurysm they are watching, and now a bad back pain")
    assert r["level"] == "emergency"
    assert "aneurysm_pain" in r["rules"]


@pytest.mark.parametrize(
    "text",
    [
        "I'm 30 and fainted at a concert, my back aches from the fall",
        "I'm 65 and my back hurts after gardening",
        "my brother had a brain aneurysm years ago, what are the signs?",
    ],
)
def test_back_pain_without_collapse_age_or_pain_is_not_a_burst_aneurysm(text: str) -> None:
    r = assess(text)
    assert "back_pain_collapse_older" not in r["rules"]
    assert "aneurysm_pain" not in r["rules"]


# ---- 4. later pregnancy: constant pain, heavy bleeding, a quieter baby (RCOG GTG63; NHS)


@pytest.mark.parametrize(
    "text",
    [
        "32 weeks pregnant and my bump has gone rock hard with a pain that won't ease",
        "I'm 30 weeks pregnant, there's pain across my bump and it doesn't come and go",
    ],
)
def test_a_constant_pain_or_a_hard_bump_in_pregnancy_is_an_emergency(text: str) -> None:
    r = assess(text)
    assert r["level"] == "emergency"
    assert "pregnancy_constant_pain" in r["rules"]


def test_bleeding_with_a_quieter_baby_in_pregnancy_is_an_emergency() -> None:
    r = assess("I'm 36 weeks pregnant and bleeding a little. baby has been quieter than usual")
    assert r["level"] == "emergency"
    assert "pregnancy_bleeding_pain" in r["rules"]


@pytest.mark.parametrize(
    "answer",
    ["pad about half full of fresh blood", "I've soaked two pads", "pad completely soaked"],
)
def test_a_pad_half_full_or_soaked_is_heavy_bleeding(answer: str) -> None:
    r = assess("28 weeks pregnant, there's some bright red blood in my pants")
    r = answer_until(r, "bleeding", answer)
    assert fact_present(r, "heavy_bleeding")
    assert r["level"] == "emergency"


@pytest.mark.parametrize(
    "text",
    [
        "I'm 34 weeks pregnant and get tightenings that come and go, no bleeding",
        "my newborn baby has been quieter today, feeding fine",
        "a few spots of blood on my pad, not pregnant, period due",
    ],
)
def test_near_misses_in_pregnancy_are_not_abruption_or_heavy_bleeding(text: str) -> None:
    r = assess(text)
    for rule in ("pregnancy_constant_pain", "pregnancy_bleeding_pain", "baby_quieter"):
        assert rule not in r["rules"]
    assert not fact_present(r, "heavy_bleeding")


# ---- 5. paracetamol doubled up; a child's possible medicine ingestion (NHS; TOXBASE)


@pytest.mark.parametrize(
    "text",
    [
        "been taking paracetamol and co-codamol for my back for 4 days",
        "she's taking lemsip and paracetamol together for her flu",
        "I've been on co-codamol and paracetamol since monday for toothache",
    ],
)
def test_paracetamol_doubled_up_is_an_emergency(text: str) -> None:
    r = assess(text)
    assert r["level"] == "emergency"
    assert "paracetamol_doubled" in r["rules"]


@pytest.mark.parametrize(
    "text",
    [
        "can I take paracetamol and co-codamol together?",
        "been taking paracetamol and ibuprofen for my back",
        "I switched from co-codamol to ibuprofen last week",
    ],
)
def test_a_question_or_a_different_painkiller_is_not_a_doubled_dose(text: str) -> None:
    assert "paracetamol_doubled" not in assess(text)["rules"]


@pytest.mark.parametrize(
    "text",
    [
        "my 2 year old got hold of my methadone, she might have drunk some, she seems fine",
        "my 4 year old got into grandad's morphine bottle, he may have had some",
    ],
)
def test_a_child_who_may_have_swallowed_an_opioid_is_an_emergency_even_if_well(text: str) -> None:
    r = assess(text)
    assert r["level"] == "emergency"
    assert "possible_ingestion_child" in r["rules"]


@pytest.mark.parametrize(
    "text",
    [
        "my 3 year old might have eaten something in the garden, he's fine",
        "I might have had some bad prawns last night, tummy is off",
        "I'm on methadone, can I have a drink at a wedding?",
    ],
)
def test_no_medicine_or_no_swallowing_is_not_a_child_ingestion(text: str) -> None:
    assert "possible_ingestion_child" not in assess(text)["rules"]


# ---- 6. a blocked ear that came on suddenly (NICE CKS Hearing loss in adults; NHS)


def test_a_blocked_ear_that_came_on_suddenly_is_seen_today() -> None:
    r = assess("one ear feels blocked and muffled, can I use olive oil drops?")
    r = answer_until(r, "sudden_onset", "yes it went all of a sudden yesterday")
    assert r["level"] == "urgent"
    assert "ear_sudden_onset" in r["rules"]


def test_a_blocked_ear_that_came_on_slowly_stays_home_care() -> None:
    r = assess("my ears feel blocked with wax, can I use olive oil drops?")
    r = answer_all(r, {"sudden_onset": "no, it's been building up slowly", "duration": "a week"})
    assert "ear_sudden_onset" not in r["rules"]
    assert r["level"] in ("self_care", "routine")


# ---- 7. chickenpox contact and pregnancy (NHS Chickenpox; RCOG Green-top Guideline 13)


def test_a_relatives_child_with_chickenpox_asks_the_writer_about_pregnancy() -> None:
    r = assess("my niece has chickenpox and she was round ours yesterday, can adults catch it?")
    assert fact_present(r, "chickenpox_contact")
    r = answer_until(r, "pregnancy", "yes, 16 weeks")
    assert r["level"] == "urgent"
    assert "chickenpox_contact_pregnant" in r["rules"]


@pytest.mark.parametrize(
    "text",
    [
        "my nephew has chickenpox, how long is he contagious?",
        "my niece had chickenpox last year, can she get it again?",
    ],
)
def test_a_relatives_chickenpox_without_being_near_is_not_a_contact(text: str) -> None:
    assert not fact_present(assess(text), "chickenpox_contact")


def test_a_contact_who_had_chickenpox_before_is_not_urgent() -> None:
    r = assess("my nephew has chickenpox and was round ours, I'm pregnant but had it as a kid")
    assert "chickenpox_contact_pregnant" not in r["rules"]


# ---- 8. a new rash on a medicine that can cause serious skin reactions (MHRA; NICE CKS)


@pytest.mark.parametrize(
    "text",
    [
        "itchy red rash on my chest, I started lamotrigine a few weeks ago",
        "came out in spots all over after starting a course of amoxicillin",
        "rash on my arms since I went on allopurinol",
    ],
)
def test_a_rash_on_a_high_risk_medicine_is_seen_today(text: str) -> None:
    r = assess(text)
    assert r["level"] in ("urgent", "emergency")
    assert "rash_risk_medicine" in r["rules"]


def test_a_new_rash_asks_about_medicines() -> None:
    r = assess("red blotchy rash on my back since yesterday, could it be washing powder?")
    r = answer_until(r, "medicines", "yes, started carbamazepine last month")
    assert "rash_risk_medicine" in r["rules"]


@pytest.mark.parametrize(
    "text",
    [
        "rash on my hands after using a new washing powder",
        "I've been on lamotrigine for years, can I drink alcohol?",
        "finished my antibiotics last month, now have a sore throat again",
    ],
)
def test_no_rash_or_no_risk_medicine_is_not_a_drug_reaction(text: str) -> None:
    assert "rash_risk_medicine" not in assess(text)["rules"]


# ---- 9. asking for a laxative is a constipation story (NHS Constipation)


def test_asking_for_a_laxative_is_constipation() -> None:
    r = assess("my son is 4, what's the best laxative for him?")
    assert fact_present(r, "constipation")


@pytest.mark.parametrize(
    "text",
    ["can I take laxatives to lose weight?", "are laxatives safe for a detox before my holiday?"],
)
def test_laxatives_for_weight_loss_are_not_constipation(text: str) -> None:
    assert not fact_present(assess(text), "constipation")
