"""Round 8's safety mechanisms. Each case is written from the guidance the rule cites, in words
of its own (not copied from any vignette): home care needs the warning signs of a vague
"unwell" story asked; fever with a local infection is seen today; itching in pregnancy without
a rash is seen today; black, tarry poo in lay words; a topic whose answer is not understood twice
is not asked a third time and stays not ruled out; a child who swallowed an opioid is an
emergency; a baby's responsiveness is asked before a same-day level."""

from __future__ import annotations

from tests.fakes.triage import answer_all, answer_until, asked_topics
from tools.triage import assess
from tools.triage.answers import polarity
from tools.triage.engine import UNCLEAR_REASON
from tools.triage.intake import NOT_UNDERSTOOD
from tools.triage.parse import parse

_answer = answer_all


# ---- a. a vague "unwell" story: chest pain and who is ill are asked (NICE CG95)


def test_a_vague_unwell_story_is_not_home_care_before_chest_pain_is_asked() -> None:
    first = assess("feeling rough and wiped out since this morning, maybe a bug")
    assert first["level"] != "self_care"
    assert "chest_pain" in asked_topics(first)
    r = _answer(first, {"chest_pain": "yes my chest feels tight", "age": "81"})
    assert r["level"] == "emergency"


def test_chest_pain_with_diabetes_is_an_emergency() -> None:
    r = answer_until(
        assess("I've got a pain in my chest, it started an hour ago"),
        "conditions",
        "yes, I have type 1 diabetes",
    )
    r = _answer(r, {"age": "45"})
    assert r["level"] == "emergency"
    assert any("diabetes" in x for x in r["reasons"])


def test_the_same_vague_story_answered_no_throughout_can_still_be_decided() -> None:
    r = _answer(assess("feeling rough and wiped out since this morning, I'm 30"), {})
    assert r["level"] in ("self_care", "routine")
    assert not r["next_questions"]


# ---- b. fever with a local infection (NICE CKS Mastitis; NG141 Cellulitis)


def test_a_red_hot_breast_with_a_temperature_is_seen_today() -> None:
    r = _answer(assess("I'm feeding my baby and my right breast is red and hot, 38.6 tonight"), {})
    assert r["level"] == "urgent"


def test_a_red_breast_asks_about_a_temperature_and_shivering() -> None:
    first = assess("my boob is red and inflamed since yesterday, I'm breastfeeding")
    assert "fever" in asked_topics(first)
    r = answer_until(first, "fever", "yes, shivery and 38.2")
    assert r["level"] == "urgent"


# ---- c. itching in pregnancy (RCOG Green-top Guideline 43)


def test_itching_in_pregnancy_asks_about_a_rash_and_without_one_is_urgent() -> None:
    first = assess("I'm 30 weeks pregnant and itchy all over, worse at night")
    assert "rash" in asked_topics(first)
    r = answer_until(first, "rash", "no rash, just itchy on my hands and feet")
    assert r["level"] == "urgent"


def test_itching_outside_pregnancy_stays_home_care() -> None:
    r = _answer(assess("itchy skin on my arms for 3 days, no rash, I'm 25"), {})
    assert r["level"] == "self_care"


# ---- d. melaena in lay words; a topic whose answer is not understood twice


def test_black_tarry_poo_in_lay_words() -> None:
    for text in (
        "my poo has turned black and sticky",
        "my stools look like tar",
        "it's black and tarry when I go",
    ):
        assert parse(text).mentions.get("black_stool"), text


def test_a_topic_not_understood_twice_is_not_asked_a_third_time() -> None:
    r = assess("tummy ache on and off for 2 days, I'm 40")
    asked = 0
    for _ in range(6):
        if not r["next_questions"]:
            break
        topics = asked_topics(r)
        asked += "blood_vomit_stool" in topics
        reply = " ".join(
            "my poo has gone a funny colour since yesterday." if t == "blood_vomit_stool" else "No."
            for q in r["next_questions"]
            for t in q["topics"]
        )
        r = assess(reply, r["intake"])
    assert asked == 2
    unclear = [f for f in r["intake"]["facts"].values() if f.get("said") == NOT_UNDERSTOOD]
    assert unclear and all(f["status"] == "unsure" for f in unclear)
    assert r["level"] != "self_care"
    assert any(x.startswith(UNCLEAR_REASON) for x in r["reasons"])


def test_a_little_bleeding_that_is_settling_is_not_heavy_bleeding() -> None:
    assert polarity("a bit of bleeding, it's slowing down") == "no"
    assert polarity("a bit") == "yes"


# ---- e. a child and an opioid; a baby's responsiveness (TOXBASE; NICE NG143)


def test_a_toddler_who_drank_an_opioid_is_an_emergency_at_once() -> None:
    r = assess("my 2 year old drank some of her dad's methadone an hour ago")
    assert r["level"] == "emergency" and not r["next_questions"]


def test_a_baby_is_asked_about_being_floppy_before_a_same_day_level() -> None:
    first = assess("my 4 month old is not feeding well today and feels a bit warm")
    assert "drowsiness" in asked_topics(first)
    r = answer_until(first, "drowsiness", "yes she is floppy and hard to wake")
    assert r["level"] == "emergency"


# ---- f. other same-day problems


def test_blisters_on_one_side_are_shingles() -> None:
    assert parse("a burning patch on my back and now blisters on one side only").mentions.get(
        "shingles"
    )


def test_a_fever_after_travel_stays_travel_when_antimalarials_were_skipped() -> None:
    found = parse("temperature of 39, just got back from Ghana, didn't take my malaria tablets")
    assert found.mentions["recent_travel"].status == "present"


def test_thirst_with_diabetes_and_tiredness_or_high_readings_is_seen_today() -> None:
    told = "I have type 2 diabetes and I'm so thirsty and weeing loads this week"
    r = _answer(assess(told + ", exhausted too"), {})
    assert r["level"] == "urgent"
    assert parse("my blood sugar meter said 23 this morning").mentions.get("high_blood_sugar")


def test_a_knocked_out_tooth_is_an_urgent_dental_problem() -> None:
    r = _answer(assess("fell off my bike and knocked my front tooth out"), {})
    assert r["level"] == "urgent"


# ---- over-triage: answers that mean "no", words that named the wrong problem


def test_answers_that_say_the_trouble_has_settled_are_a_no() -> None:
    for text in ("stopped after a couple of minutes", "it has stopped", "managing small sips"):
        assert polarity(text) == "no", text
    assert polarity("it hurts but I can still swallow") == "no"
    assert polarity("yes, and I can still eat") == "yes"


def test_a_normal_temperature_is_not_a_fever() -> None:
    assert parse("temp is normal, she's just grizzly").mentions.get("fever") is None
    assert parse("her temp was 38.9").mentions["fever"].status == "present"


def test_chest_burning_after_a_big_meal_that_an_antacid_settled_is_heartburn() -> None:
    found = parse("burning behind my breastbone after a big spicy meal, rennie helped")
    assert found.mentions.get("heartburn")


def test_sore_muscles_round_the_ribs_explain_chest_pain() -> None:
    assert parse("only sore muscles round my ribs from coughing").mentions.get("chest_pain_msk")


def test_an_insect_bite_on_the_calf_is_not_a_clot() -> None:
    r = _answer(assess("something bit me on the calf, it's a red itchy lump, I'm 35"), {})
    assert r["level"] != "urgent" and "calf" not in r["rules"]


def test_everyday_problems_are_recognised_for_home_care() -> None:
    assert parse("rubbed a blister on my toe from new trainers").mentions.get("friction_blister")
    assert parse("the condom broke, can I get the morning after pill").mentions.get(
        "emergency_contraception"
    )
    assert parse("not been for a poo since monday").mentions.get("constipation")
    r = _answer(assess("rubbed a blister on my heel from new trainers, I'm 28"), {})
    assert r["level"] == "self_care"


def test_a_warning_sign_told_alone_asks_what_would_make_it_an_emergency() -> None:
    first = assess("my poo has been black like tar since the weekend")
    assert first["level"] != "self_care"
    assert "fainting" in asked_topics(first) or "drowsiness" in asked_topics(first)
    r = answer_until(first, "fainting", "yes I nearly passed out getting up")
    assert r["level"] == "emergency"


def test_a_dog_that_nipped_and_broke_the_skin_is_a_bite() -> None:
    assert parse("the dog nipped my son's hand and broke the skin").mentions.get("animal_bite")
