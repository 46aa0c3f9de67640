"""Round 15 (rules): facts recognised from the wrong words, and facts that were missing. Each case
is written from the guidance its rule or recogniser cites, in words of its own; each recogniser
has near misses that must not change."""

from __future__ import annotations

import pytest

from assistant.policy import safety
from tests.fakes.triage import answer_all, fact_present
from tools.triage import assess


def flags(text: str) -> set[str]:
    return {f.id for f in safety.red_flags(text)}


# ---- 1. misreads: a fact recognised from the wrong words

# a mole's blurred edge is the mole's border (NHS Melanoma; NICE NG12), not eyesight


def test_a_mole_with_blurred_edges_is_not_an_eyesight_change() -> None:
    r = assess("the mole on my arm has got bigger and the edges are a bit blurry now, I'm 52")
    assert fact_present(r, "mole_change")
    assert not fact_present(r, "vision_change")
    assert "vision_new" not in r["rules"]


@pytest.mark.parametrize(
    "text",
    [
        "my vision has gone blurry in one eye since this morning",
        "everything looks blurry and I've got a headache",
        "the edges of things look blurry when I read",
    ],
)
def test_blurred_vision_is_still_an_eyesight_change(text: str) -> None:
    assert fact_present(assess(text), "vision_change")


# a lost grip after a fall on the hand is the injury's (NHS Broken arm or wrist), not a stroke's


@pytest.mark.parametrize(
    "text",
    [
        "tripped over the dog and landed on my hand, my wrist is swollen and I can't grip anything",
        "fell off my bike onto my wrist, it's really sore and I cannot grip my cup",
    ],
)
def test_unable_to_grip_after_a_fall_on_the_hand_is_seen_today(text: str) -> None:
    r = assess(text)
    assert fact_present(r, "cant_grip")
    assert not fact_present(r, "neuro_deficit")
    assert "injury_grip" in r["rules"]
    assert r["level"] == "urgent"


@pytest.mark.parametrize(
    "text",
    [
        "my grip has been weak for months and my fingers tingle at night",
        "I can't grip the steering wheel properly since I started the new tablets",
    ],
)
def test_a_weak_grip_without_an_injury_is_not_the_injury_rule(text: str) -> None:
    r = assess(text)
    assert not fact_present(r, "cant_grip")
    assert "injury_grip" not in r["rules"]


# the tingle before a cold sore is the cold sore's (NHS Cold sores), not numbness


@pytest.mark.parametrize(
    "text",
    [
        "there's a blister on my bottom lip again, it tingled the day before",
        "I get lip herpes every winter, it starts with a tingle, what can I buy",
    ],
)
def test_a_blister_on_the_lip_with_a_tingle_is_a_cold_sore(text: str) -> None:
    r = assess(text)
    assert fact_present(r, "cold_sore")
    assert "numbness" not in r["rules"]


@pytest.mark.parametrize(
    "text",
    [
        "I've got genital herpes again, it's sore down there",
        "a blister on my foot from new shoes",
    ],
)
def test_genital_herpes_or_a_blister_elsewhere_is_not_a_cold_sore(text: str) -> None:
    assert not fact_present(assess(text), "cold_sore")


# "I'm paranoid" is a worry; paranoia told of someone is psychosis (NHS Psychosis)


@pytest.mark.parametrize(
    "text",
    [
        "I've got a wart on my finger and I'm paranoid my kids will catch it",
        "probably being paranoid but my back has been sore since gardening",
        "I'm a bit paranoid about germs, is hand gel enough",
    ],
)
def test_a_worried_paranoid_is_not_psychosis(text: str) -> None:
    assert not fact_present(assess(text), "psychosis")


@pytest.mark.parametrize(
    "text",
    [
        "my brother has become really paranoid, he thinks the neighbours are spying on him",
        "my dad has paranoid ideas and hasn't slept for days",
        "her paranoia is getting worse",
    ],
)
def test_paranoia_told_of_someone_is_still_psychosis(text: str) -> None:
    assert fact_present(assess(text), "psychosis")


# a belief that food is poisoned is a delusion (NHS Psychosis), not a swallowed poison


def test_a_belief_that_food_is_poisoned_is_psychosis_not_poisoning() -> None:
    text = "my daughter is 22 and refuses meals because she is convinced her food is poisoned"
    r = assess(text)
    assert fact_present(r, "psychosis")
    assert not fact_present(r, "poisoning")
    assert "overdose_poisoning" not in flags(text)
    assert r["level"] != "emergency"


@pytest.mark.parametrize(
    "text",
    [
        "my toddler drank some weedkiller, I think he's been poisoned",
        "she thinks she swallowed poison from the shed",
    ],
)
def test_a_swallowed_poison_is_still_an_emergency(text: str) -> None:
    r = assess(text)
    assert r["level"] == "emergency"


# a swelling told by its size is not a swelling elsewhere (a golf ball is not a testicle)


@pytest.mark.parametrize(
    "text",
    [
        "twisted my ankle, it's swollen like a golf ball",
        "wasp sting on my arm, swelling about the size of an egg and itchy",
    ],
)
def test_a_swelling_told_by_its_size_is_explained(text: str) -> None:
    r = assess(text)
    assert fact_present(r, "swelling_size")
    assert not fact_present(r, "testicle_pain")


def test_a_swollen_testicle_told_by_its_size_is_still_a_testicle() -> None:
    r = assess("my left testicle is swollen like a golf ball and really painful")
    assert fact_present(r, "testicle_pain")


def test_a_lump_the_size_of_a_golf_ball_is_not_this_qualifier() -> None:
    assert not fact_present(assess("a lump the size of a golf ball in my armpit"), "swelling_size")


# panic attacks that pass are not breathing failing now (NHS Panic disorder; NICE CG113)

PANIC = "I keep getting these attacks where my heart pounds and I can't breathe and think I'm going to die, then it passes after ten minutes"


def test_recurring_attacks_that_pass_are_not_severe_breathing() -> None:
    r = assess(PANIC)
    assert fact_present(r, "panic_episode")
    assert not fact_present(r, "breathing_severe")
    assert "breathing_severe" not in flags(PANIC)
    assert r["level"] != "emergency"


@pytest.mark.parametrize(
    "text",
    [
        "I can't breathe, my inhaler isn't working",
        "I'm having an asthma attack and I can't breathe",
        "panic attack now and I can't breathe, my lips are going blue",
    ],
)
def test_breathing_that_fails_now_is_still_an_emergency(text: str) -> None:
    r = assess(text)
    assert r["level"] == "emergency"
    assert "breathing_severe" in flags(text)


# a child snoring and snuffling with a cold (NHS Common cold); "isn't breathing fast"


def test_snoring_with_a_cold_is_the_blocked_nose() -> None:
    r = assess("my son is bunged up with a cold and snores and snuffles at night")
    assert fact_present(r, "cold")
    assert not fact_present(r, "sleep_apnoea")
    assert not fact_present(r, "constipation")


def test_snoring_with_pauses_is_still_sleep_apnoea() -> None:
    r = assess("my husband snores loudly and stops breathing for a few seconds at night")
    assert fact_present(r, "sleep_apnoea")


def test_bunged_up_without_a_cold_is_still_constipation() -> None:
    assert fact_present(assess("my little boy is bunged up, no poo for 4 days"), "constipation")


@pytest.mark.parametrize(
    "text",
    [
        "she isn't breathing fast or sucking in under her ribs",
        "he's not breathing any faster than normal",
    ],
)
def test_not_breathing_fast_is_no_unresponsive_red_flag(text: str) -> None:
    assert "unresponsive" not in flags(text)


@pytest.mark.parametrize("text", ["my baby isn't breathing", "he has stopped breathing"])
def test_not_breathing_is_still_the_unresponsive_red_flag(text: str) -> None:
    assert "unresponsive" in flags(text)


# slight or controlled bleeding is not heavy bleeding (NHS Cuts and grazes)


@pytest.mark.parametrize(
    "text",
    [
        "cut my finger chopping onions, there's blood but not loads",
        "deep cut on his shin, bleeding controlled with pressure and a dressing",
    ],
)
def test_slight_or_controlled_bleeding_is_not_heavy(text: str) -> None:
    r = assess(text)
    assert fact_present(r, "bleeding_slight")
    assert not fact_present(r, "heavy_bleeding")


def test_a_bit_from_the_gum_answers_the_bleeding_question() -> None:
    r = assess("my son fell off the climbing frame and cut his lip")
    r = answer_all(r, {"bleeding": "a bit from the lip"})
    assert r["intake"]["facts"].get("heavy_bleeding", {}).get("status") == "absent"
    assert "heavy_bleeding" not in r["rules"]


@pytest.mark.parametrize(
    "text",
    [
        "cut my hand on glass and it won't stop bleeding",
        "blood is pouring out of the cut on his leg",
    ],
)
def test_bleeding_that_will_not_stop_is_still_heavy(text: str) -> None:
    r = assess(text)
    assert fact_present(r, "heavy_bleeding")
    assert r["level"] == "emergency"


# a worry is not a sign: "is this sepsis??", "I've read about meningitis", "is this a stroke??"


def test_asking_about_sepsis_with_a_fever_is_not_the_sepsis_red_flag() -> None:
    text = "temperature 38.7 and aching all over since yesterday, I'm 30. is this sepsis??"
    assert "sepsis" not in flags(text)
    assert assess(text)["level"] != "emergency"


def test_sepsis_signs_asked_about_are_still_sepsis() -> None:
    assert "sepsis" in flags("high fever and my mum is confused and mottled, is this sepsis?")


def test_reading_about_meningitis_beside_a_rash_is_not_the_meningitis_red_flag() -> None:
    text = "my 2 year old has a pink rash on his chest, I've read about meningitis rashes"
    assert "meningitis" not in flags(text)


def test_a_rash_that_does_not_fade_is_still_meningitis() -> None:
    text = "I'm scared it's meningitis, he has a fever and a rash that doesn't fade"
    assert "meningitis" in flags(text)


@pytest.mark.parametrize(
    "text",
    [
        "my eye is twitching and my cheek feels odd, is this a stroke??",
        "my blood pressure was 150/95 at the pharmacy, my father died of a stroke",
    ],
)
def test_a_stroke_asked_about_or_in_the_family_is_not_a_stroke_sign(text: str) -> None:
    assert not fact_present(assess(text), "neuro_deficit")


@pytest.mark.parametrize(
    "text",
    ["I think my dad is having a stroke", "my wife has had a stroke, her face has dropped"],
)
def test_a_stroke_told_is_still_a_stroke_sign(text: str) -> None:
    r = assess(text)
    assert r["intake"]["facts"]["neuro_deficit"]["status"] in ("present", "possible")
    assert r["level"] == "emergency"


# genital warts are a sexual health clinic's (NHS Genital warts; BASHH)


@pytest.mark.parametrize(
    "text",
    [
        "some small painless bumps down there that look like a cauliflower, can I use wart cream",
        "genital warts again, what do I do",
        "found warts around my penis",
    ],
)
def test_genital_warts_are_routine_not_a_fungal_rash(text: str) -> None:
    r = assess(text)
    assert fact_present(r, "genital_warts")
    assert not fact_present(r, "fungal_skin")
    assert r["level"] == "routine"


@pytest.mark.parametrize(
    "text",
    [
        "I've got a wart on my thumb",
        "verruca on my heel, what can I buy",
        "cauliflower ear from rugby",
    ],
)
def test_warts_elsewhere_are_not_genital_warts(text: str) -> None:
    assert not fact_present(assess(text), "genital_warts")


# ---- 2. missing facts


@pytest.mark.parametrize(
    "text",
    [
        "my nose started bleeding at work",
        "his nose keeps bleeding",
        "she's bleeding from her left nostril",
    ],
)
def test_a_nosebleed_in_other_words(text: str) -> None:
    assert fact_present(assess(text), "nosebleed")


def test_a_nosebleed_still_going_after_pinching_for_20_minutes() -> None:
    r = assess("my nose started bleeding an hour ago")
    r = answer_all(r, {"bleeding": "still going, I've been pinching it for 20 minutes"})
    assert fact_present(r, "nosebleed_prolonged")
    assert r["level"] in ("urgent", "emergency")


@pytest.mark.parametrize(
    "answer",
    ["pinched it for 10 minutes and it stopped", "I pinched it for 20 minutes and it stopped"],
)
def test_a_nosebleed_that_stopped_with_pinching_is_not_prolonged(answer: str) -> None:
    r = assess("my nose started bleeding while I was reading")
    r = answer_all(r, {"bleeding": answer})
    assert not fact_present(r, "nosebleed_prolonged")
    assert r["level"] == "self_care"


def test_swallowing_some_blood_is_not_food_sticking() -> None:
    r = assess("nosebleed for ages, I'm swallowing some")
    assert fact_present(r, "swallowing_blood")
    assert not fact_present(r, "dysphagia")


# memory failing over months: routine (NICE NG97), not new confusion


def test_repeating_herself_over_months_is_a_memory_problem_for_a_gp() -> None:
    r = assess("my gran is 81, she keeps repeating herself and losing things")
    r = answer_all(r, {"confusion": "a bit muddled but no different from last month"})
    assert fact_present(r, "memory_problems")
    assert fact_present(r, "confusion_longstanding")
    assert not fact_present(r, "confusion")
    assert r["level"] == "routine"


def test_sudden_confusion_is_still_an_emergency() -> None:
    r = assess("my dad suddenly became very confused this afternoon and doesn't know where he is")
    assert fact_present(r, "confusion")
    assert r["level"] == "emergency"


def test_repeating_himself_after_a_head_injury_is_still_the_head_injury_rule() -> None:
    r = assess("he fell and hit his head and keeps repeating himself")
    assert r["level"] == "emergency"


def test_a_kettle_put_in_the_fridge_is_not_a_burn() -> None:
    r = assess("she keeps forgetting things and put the kettle in the fridge")
    assert not fact_present(r, "burn_thermal")


def test_a_kettle_burn_is_still_a_heat_burn() -> None:
    assert fact_present(assess("burnt my hand on the kettle"), "burn_thermal")


# alcohol in a child is not a hangover (NHS Alcohol poisoning)


def test_a_young_teenager_who_drank_alcohol_is_seen_today() -> None:
    r = assess("my 13 year old got drunk on cider at a party and has been sick")
    assert "alcohol_young" in r["rules"]
    assert r["level"] in ("urgent", "emergency")


def test_an_adult_hangover_stays_home_care() -> None:
    r = assess("I'm 25 and hungover after a party, headache and feel sick")
    assert "alcohol_young" not in r["rules"]


# deciding facts get asked: giant cell arteritis and mastoiditis


def test_never_getting_headaches_does_not_deny_the_headache() -> None:
    r = assess("I'm 70 and have had a headache for a week, I never get headaches")
    assert fact_present(r, "headache")
    assert fact_present(r, "headache_new_for_them")


def test_a_new_headache_over_50_with_a_sore_scalp_is_seen_today() -> None:
    r = assess("I'm 70 and have had a headache on one side for a week, I never get headaches")
    r = answer_all(r, {"headache": "by my temple, and it hurts to brush my hair"})
    assert fact_present(r, "gca_signs")
    assert r["level"] == "urgent"


def test_a_headache_in_someone_young_who_never_gets_them_is_not_raised() -> None:
    r = assess("I'm 25, never get headaches but have one today after a late night")
    assert "headache_new_older" not in r["rules"]
    assert "gca_new_headache" not in r["rules"]


def test_earache_asks_about_a_swelling_behind_the_ear() -> None:
    r = assess("my 5 year old has earache again after an ear infection last week, temperature 38.5")
    r = answer_all(r, {"deformity": "there is a red swollen lump behind his ear and it sticks out"})
    assert fact_present(r, "mastoid_signs")
    assert "mastoiditis" in r["rules"]
    assert r["level"] == "urgent"


@pytest.mark.parametrize(
    "text",
    [
        "I have a small pea sized lump behind my ear, no pain",
        "my ears stick out, can I get them pinned back",
    ],
)
def test_a_lump_behind_the_ear_without_an_ear_infection_is_not_mastoiditis(text: str) -> None:
    assert "mastoiditis" not in assess(text)["rules"]


# ---- 3. misreads and missing facts of sets w and x


@pytest.mark.parametrize(
    "text",
    [
        "blocked nose with this cold, I can't breathe through it at night",
        "my nose is so stuffed up I cannot breathe through my nose",
    ],
)
def test_a_blocked_nose_is_not_severe_breathing(text: str) -> None:
    r = assess(text)
    assert not fact_present(r, "breathing_severe")
    assert "breathing_severe" not in flags(text)
    assert r["level"] != "emergency"


def test_a_tingle_on_the_lip_then_a_blister_is_a_cold_sore() -> None:
    r = assess("a tingly feeling on my top lip yesterday and now a blister has come up")
    assert fact_present(r, "cold_sore")
    assert "numbness" not in r["rules"]


def test_a_child_drinking_loads_and_losing_weight_is_seen_today() -> None:
    r = assess("my 9 year old keeps drinking loads and loads and has lost weight")
    assert fact_present(r, "drinking_a_lot")
    assert r["level"] == "urgent"


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        (
            "this is my third water infection this year, can I get more antibiotics",
            "uti_recurrent_count",
        ),
        ("thrush again, the 4th time since January", "thrush_recurrent_count"),
    ],
)
def test_cystitis_or_thrush_counted_three_or_more_times_a_year_is_for_a_gp(
    text: str, rule: str
) -> None:
    r = assess(text)
    assert rule in r["rules"]
    assert r["level"] == "routine"


@pytest.mark.parametrize(
    "text",
    [
        "cystitis again, same as usual, what can I get from the pharmacy",
        "first water infection ever, burning when I pee",
        "thrush for the third day, itchy",
    ],
)
def test_cystitis_or_thrush_not_counted_is_not_recurrent(text: str) -> None:
    r = assess(text)
    assert "uti_recurrent_count" not in r["rules"]
    assert "thrush_recurrent_count" not in r["rules"]


def test_piles_itching_in_pregnancy_is_not_cholestasis() -> None:
    r = assess("I'm 28 weeks pregnant and I think I've got piles, itchy and sore down there")
    assert "pregnancy_itch_no_rash" not in r["rules"]


def test_itchy_hands_and_feet_in_pregnancy_are_still_cholestasis() -> None:
    r = assess("I'm 32 weeks pregnant and my hands and feet are really itchy, no rash")
    assert r["level"] == "urgent"


def test_pink_spit_from_gums_that_bleed_when_brushing_is_not_coughed_blood() -> None:
    r = assess("my gums bleed when I brush and my spit is pink")
    assert fact_present(r, "gum_bleeding_brushing")
    assert not fact_present(r, "haemoptysis")


def test_pink_phlegm_with_a_cough_is_still_coughed_blood() -> None:
    assert fact_present(assess("I've had a cough for a week and my phlegm is pink"), "haemoptysis")
