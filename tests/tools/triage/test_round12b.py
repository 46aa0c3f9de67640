"""Round 12, part B: over-triage and the routine / self-care boundary. Each case is written from
the guidance the rule cites, in words of its own (not copied from any vignette). Lowering a level
always needs the guidance's condition (every red flag of the complaint asked and answered no);
the near misses check that the safer level stays where a warning sign is told."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.triage import answer_all
from tools.triage import assess
from tools.triage.answers import polarity
from tools.triage.parse import parse


def _asked(result: dict) -> list[str]:
    return [t for q in result["next_questions"] for t in q["topics"]]


# ---- a stated ability is a no to the inability asked about (Ottawa ankle rules: 4 steps)


@pytest.mark.parametrize(
    "answer",
    ["yes she can walk", "yeah I can put my weight on it ok", "he can still stand on it"],
)
def test_an_ability_told_in_the_answer_is_a_no_to_the_inability(answer: str) -> None:
    assert polarity(answer) == "no"


@pytest.mark.parametrize(
    "answer",
    [
        "yes I can walk but only a couple of steps",
        "can walk with help, hopping mostly",
        "yes, I can't walk at all",
    ],
)
def test_an_ability_limited_in_the_answer_is_not_a_no(answer: str) -> None:
    assert polarity(answer) != "no"


def test_a_sprain_walked_on_is_not_sent_for_an_x_ray() -> None:
    r = assess("twisted my ankle on a kerb this afternoon, a bit puffy and achy")
    r = answer_all(r, {"weight_bearing": "yes I can walk on it fine", "deformity": "no"})
    assert r["level"] not in ("urgent", "emergency")
    assert r["intake"]["facts"].get("cant_weight_bear", {}).get("status") != "present"


def test_a_sprain_that_cannot_take_weight_is_still_same_day() -> None:
    r = assess("twisted my ankle on a kerb this afternoon, a bit puffy and achy")
    r = answer_all(r, {"weight_bearing": "yes, I can't put any weight on it"})
    assert r["level"] in ("urgent", "emergency")


# ---- a bleed that is a little and stops at once is a no to "bleeding that won't stop"


def test_a_little_blood_that_stops_at_once_is_a_no_to_heavy_bleeding() -> None:
    assert polarity("only a little bit of blood on the brush, it stops right away") == "no"


@pytest.mark.parametrize(
    "answer",
    [
        "a bit of blood, stops straight away then starts again for an hour",
        "a bit of blood, it stops and keeps coming back",
    ],
)
def test_a_bleed_that_keeps_coming_back_is_not_settled(answer: str) -> None:
    assert polarity(answer) != "no"


# ---- a mother feeding her baby is the one with mastitis (NICE CKS Mastitis and breast abscess)


def test_a_breastfeeding_mother_is_the_one_ill_not_her_baby() -> None:
    found = parse("I'm breastfeeding my 3 week old and my right breast has a sore red lump")
    assert found.subject == "self"
    assert found.age is None or found.age[0] >= 12


def test_mastitis_with_a_fever_is_same_day_not_the_infant_fever_rule() -> None:
    r = assess("breast feeding my 6 week old, one boob is red, hot and painful")
    r = answer_all(r, {"fever": "yes 38.6 and shivery", "temperature": "38.6"})
    assert r["level"] == "urgent"
    assert not any("baby" in reason for reason in r["reasons"])


def test_a_baby_with_a_fever_is_still_the_infant_fever_rule() -> None:
    r = assess("my 6 week old baby has a temperature of 38.4")
    assert r["level"] == "emergency"


# ---- words that name a place or a time are not a symptom


def test_a_cough_with_pink_on_the_tissue_is_still_coughing_blood() -> None:
    found = parse("coughing a lot and there's pink streaks on the tissue")
    assert found.status("haemoptysis") == "present"


def test_spotting_on_the_tissue_is_not_coughing_blood() -> None:
    found = parse("I'm 61, years past the menopause, and saw red spotting on the tissue today")
    assert found.status("haemoptysis") is None
    assert found.status("vaginal_bleeding") == "present"


def test_clinical_varicosities_with_heavy_legs_are_varicose_veins() -> None:
    found = parse("Referral: 52M, heavy aching legs by evening, tortuous veins behind both knees.")
    assert found.status("varicose_veins") == "present"


def test_heavy_legs_alone_are_not_varicose_veins() -> None:
    assert parse("my legs feel heavy and weak since this morning").status("varicose_veins") is None


@pytest.mark.slow
def test_a_body_part_or_a_spots_head_is_not_a_symptom_by_similarity(tmp_path: Path) -> None:
    from assistant.core.embeddings import MiniLMEmbedder

    emb = MiniLMEmbedder()
    cases = {
        "hives came up on my legs and tummy, itchy lumps": "chest_pain",
        "hurt my back at the gym, it's sore low down": "low_mood",
        "a pimple on my chin with a small yellow head": "jaundice",
    }
    for text, concept in cases.items():
        found = parse(text, embedder=emb, cache_dir=tmp_path)
        assert found.status(concept) is None, (text, found.as_dict()["mentions"])
    still = {
        "I've been feeling really low and down for weeks": "low_mood",
        "my skin and the whites of my eyes have turned yellow": "jaundice",
    }
    for text, concept in still.items():
        found = parse(text, embedder=emb, cache_dir=tmp_path)
        assert found.status(concept) == "present", (text, found.as_dict()["mentions"])


# ---- an expected reaction after a vaccination (UKHSA Green Book chapter 8; NHS side effects)


def test_a_sore_red_arm_after_a_vaccination_is_home_care_once_the_red_flags_are_denied() -> None:
    r = assess(
        "my 8 month old had his jabs this morning, the thigh is a bit red and hard where the "
        "needle went in and he's a little grizzly"
    )
    assert r["level"] != "self_care"  # red flags not asked yet
    assert r["intake"]["facts"].get("calf_swelling", {}).get("status") != "present"
    r = answer_all(r, {"temperature": "37.6"})
    assert r["level"] == "self_care"


@pytest.mark.parametrize(
    ("answers", "worse"),
    [
        ({"breathing": "yes she's wheezing and struggling to breathe"}, "emergency"),
        ({"face_swelling": "yes his lips have swollen up"}, "urgent"),
    ],
)
def test_a_vaccination_with_a_red_flag_is_not_home_care(answers: dict, worse: str) -> None:
    r = assess("had my flu jab at the chemist an hour ago, arm aching")
    r = answer_all(r, answers)
    assert r["level"] in (worse, "emergency")


def test_a_swollen_calf_after_a_vaccine_elsewhere_is_still_a_possible_clot() -> None:
    r = assess("had my covid vaccine last week and now my left calf is swollen, red and sore")
    assert r["intake"]["facts"]["calf_swelling"]["status"] == "present"
    assert r["level"] in ("urgent", "emergency")


# ---- a sticky eye glued shut is conjunctivitis (NICE CKS Conjunctivitis - infective)


def test_an_eye_glued_shut_is_a_sticky_eye() -> None:
    assert parse("my daughter's eyelashes were glued together this morning").status("red_eye")


# ---- a little faster breathing with distress denied is not a severe attack (NICE NG9)


@pytest.mark.parametrize(
    "answer",
    [
        "a little quicker than usual but not pulling in under the ribs",
        "a bit faster, but no grunting",
    ],
)
def test_a_little_faster_with_no_distress_is_a_no_to_severe_breathing(answer: str) -> None:
    assert polarity(answer) == "no"


@pytest.mark.parametrize(
    "answer",
    [
        "a bit faster and sucking in under his ribs",
        "a bit faster but not sucking in, though she has gone a bit blue",
    ],
)
def test_a_little_faster_with_a_distress_sign_is_still_a_yes(answer: str) -> None:
    assert polarity(answer) != "no"


# ---- self-care stories kept at routine by a word read wrongly


def test_drinking_lots_of_squash_is_fluids_not_alcohol() -> None:
    assert parse("she's drinking loads of water and juice").status("alcohol") is None
    assert parse("I've been drinking loads at the weekends").status("alcohol") == "present"


def test_bunged_up_ears_are_a_blocked_ear_not_constipation_or_hearing_loss() -> None:
    found = parse("both ears bunged up and my hearing is muffled, I get wax")
    assert found.status("ear_blocked") == "present"
    assert found.status("constipation") is None
    assert found.status("hearing_loss") is None


def test_a_blocked_ear_still_asks_about_sudden_hearing_loss() -> None:
    r = assess("my ears feel bunged up, I used to get wax, no pain")
    r = answer_all(r, {"sudden_onset": "yes it went suddenly this morning, can't hear a thing"})
    assert r["level"] != "self_care"


def test_a_sore_throat_painful_to_swallow_is_not_food_sticking() -> None:
    r = assess("really sore throat, hurts to swallow, 2 days")
    r["intake"]["facts"]["dysphagia"] = {"status": "present", "turn": 1, "said": "swallow"}
    r = answer_all(assess("no temperature", r["intake"]), {"swallowing": "I can swallow fine"})
    assert r["level"] == "self_care"
    assert not any("sticking" in reason for reason in r["reasons"])


def test_food_sticking_without_a_sore_throat_is_still_a_gp_appointment() -> None:
    r = answer_all(assess("food keeps getting stuck when I swallow, for a month"), {})
    assert r["level"] in ("routine", "urgent")


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("my shins ache along the front after running, fine when I rest", "shin_splints"),
        ("spent the afternoon in the sun and my arms are bright red", "sunburn"),
        ("my baby's nappy area looks red and sore", "nappy_rash"),
    ],
)
def test_common_minor_complaints_in_plain_words(text: str, concept: str) -> None:
    assert parse(text).status(concept) == "present"


def test_shin_splints_are_home_care_only_once_a_hot_swollen_calf_is_denied() -> None:
    r = assess("my shins hurt after football training, fine at rest")
    assert r["level"] != "self_care"
    assert "calf_leg" in _asked(r)
    assert answer_all(r, {})["level"] == "self_care"
    assert answer_all(r, {"calf_leg": "yes my left calf is swollen and hot"})["level"] in (
        "urgent",
        "emergency",
    )


# ---- routine stories sent home: treatment tried, infections that recur, a squint, psoriasis


@pytest.mark.parametrize(
    "text",
    [
        "my daughter has eczema, we've been using the cream from the chemist for 4 weeks and "
        "it's still flaring",
        "acne on my face and back, after months of pharmacy washes and gels",
    ],
)
def test_pharmacy_treatment_used_for_weeks_without_effect_is_a_gp_appointment(text: str) -> None:
    assert answer_all(assess(text), {})["level"] == "routine"


@pytest.mark.parametrize(
    "text",
    [
        "that's my second urine infection in 4 months, feel ok today",
        "I keep getting water infections, the chemist treated the last one",
    ],
)
def test_recurrent_urine_infections_are_a_gp_review(text: str) -> None:
    r = answer_all(assess(text), {"age": "34"})
    assert r["level"] == "routine"


def test_a_new_squint_in_a_child_is_a_gp_appointment_and_sudden_is_same_day() -> None:
    text = "my 2 year old's right eye turns in when she looks at books"
    assert answer_all(assess(text), {})["level"] == "routine"
    sudden = answer_all(assess(text), {"sudden_onset": "yes it started suddenly today"})
    assert sudden["level"] in ("urgent", "emergency")


def test_new_scaly_patches_are_a_gp_appointment() -> None:
    r = answer_all(assess("silvery scaly patches on my knees and scalp, a bit itchy"), {})
    assert r["level"] == "routine"


# ---- a question about a missed dose is a medicine question with a level (NHS medicines A-Z)


def test_a_missed_dose_question_is_recognised_as_a_health_matter() -> None:
    from tools.triage.parse import mentions_symptoms

    text = "forgot to take my rivaroxaban tablet last night, do I double up today?"
    assert mentions_symptoms(text)


def test_a_missed_dose_is_a_pharmacist_question_once_the_clot_signs_are_denied() -> None:
    r = assess("I missed my evening dose of apixaban yesterday, what should I do")
    assert r["level"] != "self_care"
    assert {"neuro", "breathing", "calf_leg"} <= set(_asked(r))
    assert answer_all(r, {})["level"] == "self_care"
    told = answer_all(r, {"neuro": "yes my face has dropped on one side and my arm is weak"})
    assert told["level"] == "emergency"


@pytest.mark.parametrize(
    "answer",
    ["no I can't put any weight on it at all", "no, he can't walk on it", "nope she cannot stand"],
)
def test_an_inability_told_after_a_no_is_a_yes_to_the_inability(answer: str) -> None:
    assert polarity(answer) == "yes"


@pytest.mark.parametrize(
    "text",
    [
        "travelling to Kenya next year, which jabs will I need?",
        "a neighbour's cat scratched me, it is vaccinated I think",
        "practice nurse note: attended for her flu vaccine, mentions a cough",
    ],
)
def test_a_vaccine_planned_or_someone_elses_is_not_a_reaction(text: str) -> None:
    assert parse(text).status("vaccine_reaction") is None
