"""Round 12's mechanisms, part A (under-triage and mental health). Each case is written from the
guidance the rule cites, in words of its own (not copied from any vignette)."""

from __future__ import annotations

import pytest

from assistant.policy import safety
from tests.fakes.triage import answer_all
from tools.triage import assess


def _asked(result: dict) -> list[str]:
    return [t for q in result["next_questions"] for t in q["topics"]]


def _suicidal(text: str) -> bool:
    return any(f.id == "suicidal" for f in safety.red_flags(text))


# ---- 1. suicide preparations in other words (NHS Help for suicidal thoughts; NICE NG225;
# C-SSRS preparatory acts: a time decided, the means made ready, goodbye letters written)

PREPARATIONS = [
    "I've made up my mind, today is the day. The pills are sorted and ready",
    "tonight's the night, my sleeping tablets are counted out on the table",
    "I have counted out all my painkillers and I can't go on any more",
    "left notes for my husband and the kids, I've decided to do it tonight",
    "the letters to my parents are written and I've got the tablets ready, I've had enough",
    "made my mind up, tomorrow will be the day, sorry to bother anyone",
]


@pytest.mark.parametrize("text", PREPARATIONS)
def test_suicide_preparations_in_other_words_raise_the_red_flag(text: str) -> None:
    assert _suicidal(text)
    assert assess(text)["level"] == "emergency"


NOT_PREPARATIONS = [
    "I counted out my tablets for the week into the dosette box",
    "tonight is the night of my daughter's school play",
    "tonight I wrote letters to my kids school about the trip",
    "my tablets are ready for collection at the chemist tonight",
    "decided to go for a run tonight, is that ok with a cold",
    "the pharmacist sorted out my tablets for the week",
]


@pytest.mark.parametrize("text", NOT_PREPARATIONS)
def test_everyday_tablets_letters_and_tonight_are_not_preparations(text: str) -> None:
    assert not _suicidal(text)


# ---- 2. a vague story never ends at home care without asking


def test_an_older_parent_who_feels_off_is_asked_about_chest_pain_first() -> None:
    r = assess("my gran is 83 and says she feels 'off' today, very tired, not touching her tea")
    assert r["level"] != "self_care"
    assert "chest_pain" in _asked(r)
    told = answer_all(r, {"chest_pain": "yes a heavy pressure in her chest for the last hour"})
    assert told["level"] == "emergency"


def test_tiredness_in_an_older_person_is_never_home_care() -> None:
    r = assess("my husband is 74 and just so tired today")
    assert {"chest_pain", "breathing", "confusion"} <= set(_asked(r))
    assert answer_all(r, {})["level"] != "self_care"


def test_tiredness_in_a_young_adult_with_every_warning_sign_denied_is_still_home_care() -> None:
    r = assess("I'm 24 and have been tired for a few days after a busy week")
    assert answer_all(r, {"duration": "4 days"})["level"] == "self_care"


WEARY = [
    "honestly I'm just tired of it all, can I take something to switch off",
    "had enough of life lately, everything feels too much",
]


@pytest.mark.parametrize("text", WEARY)
def test_weariness_of_life_asks_about_self_harm_and_what_was_taken(text: str) -> None:
    r = assess(text)
    assert r["level"] not in ("self_care", None)
    assert "self_harm" in _asked(r)  # safe now, a plan, anything taken: one question


@pytest.mark.parametrize("text", WEARY)
def test_weariness_of_life_with_an_overdose_told_in_the_answer_is_an_emergency(text: str) -> None:
    answers = {"self_harm": "no but I swallowed the whole packet of my dad's codeine an hour ago"}
    assert answer_all(assess(text), answers)["level"] == "emergency"


@pytest.mark.parametrize("text", WEARY)
def test_weariness_of_life_with_every_question_answered_no_is_not_home_care(text: str) -> None:
    assert answer_all(assess(text), {})["level"] == "routine"


@pytest.mark.parametrize(
    "text",
    [
        "I took all my antibiotics but my throat is still sore",
        "I'm tired of this cold, how long does it last",
    ],
)
def test_a_finished_course_or_a_tiresome_cold_is_not_an_overdose_or_weariness(text: str) -> None:
    facts = assess(text)["intake"]["facts"]
    assert "taken_overdose" not in facts
    assert "weary_of_life" not in facts


# ---- 3. emergencies told in words the rules did not read


@pytest.mark.parametrize(
    "text",
    [
        "threw up twice and it looked like coffee granules, bit lightheaded",
        "I've been sick and the sick was dark with bits like ground coffee in it",
    ],
)
def test_coffee_ground_vomit_is_an_emergency(text: str) -> None:  # NHS Vomiting blood
    assert assess(text)["level"] == "emergency"


@pytest.mark.parametrize(
    "text",
    [
        "my daughter had a tonsillectomy last week and she is spitting out fresh blood",
        "there's blood in my mouth again, I had my tonsils removed 8 days ago",
    ],
)
def test_bleeding_after_a_tonsillectomy_is_an_emergency(text: str) -> None:  # NHS Tonsillitis
    assert assess(text)["level"] == "emergency"


def test_sore_after_a_tonsillectomy_without_bleeding_is_not_an_emergency() -> None:
    r = assess("had my tonsils out 5 days ago, no bleeding but it is very sore to swallow")
    assert "post_tonsillectomy_bleeding" not in r["intake"]["facts"]


@pytest.mark.parametrize(
    "text",
    [
        "my husband is 81 and hasn't been able to pass water since this morning, he's in agony",
        "I can't pass water, I keep trying and nothing comes",
    ],
)
def test_not_able_to_pass_water_is_an_emergency(text: str) -> None:  # NHS Urinary retention
    assert assess(text)["level"] == "emergency"


def test_a_dental_swelling_with_trouble_swallowing_is_an_emergency() -> None:
    # NHS Dental abscess: A&E when the swelling makes it hard to swallow or breathe
    r = assess("toothache for a week, now my jaw has swollen up and I am struggling to swallow")
    assert r["level"] == "emergency"


def test_a_dental_swelling_with_swallowing_and_breathing_fine_is_not_an_emergency() -> None:
    r = assess("bad tooth and my cheek has swollen a bit, I can swallow and breathe fine")
    assert r["level"] != "emergency"


@pytest.mark.parametrize(
    "text",
    [
        "half an hour ago my mum's speech went slurred and her arm was weak, she seems fine now",
        "this afternoon my dad's face drooped for a few minutes, back to normal now",
    ],
)
def test_stroke_signs_that_settled_in_the_last_hours_are_an_emergency(text: str) -> None:
    # NHS Transient ischaemic attack: call 999 even if the symptoms go away
    assert assess(text)["level"] == "emergency"


def test_stroke_signs_that_settled_yesterday_are_same_day() -> None:
    # NICE NG128: a suspected TIA days ago is seen by a specialist within 24 hours
    r = assess(
        "yesterday my speech was slurred for ten minutes and my hand went weak, it has completely gone now"
    )
    assert r["level"] == "urgent"


# ---- 4. same-day stories that were sent home or to a routine appointment


def test_headache_and_flashing_lights_late_in_pregnancy_told_in_weeks_is_same_day() -> None:
    # NHS Pre-eclampsia; NICE NG133: headache with visual disturbance after 20 weeks
    r = assess("i'm 32 wks and have a bad headache and blurry vision with flashing lights")
    assert r["intake"]["facts"].get("pregnancy", {}).get("status") == "present"
    assert answer_all(r, {})["level"] in ("urgent", "emergency")


def test_morning_sickness_with_nothing_staying_down_is_same_day() -> None:
    # NHS Severe vomiting in pregnancy (hyperemesis gravidarum)
    r = assess("9 weeks pregnant with terrible morning sickness")
    told = answer_all(r, {"fluids": "nothing stays down at all, not even water, barely peeing"})
    assert told["level"] == "urgent"


def test_urine_infection_symptoms_in_a_man_are_never_home_care() -> None:
    # NHS Urinary tract infections: a man with UTI symptoms sees a GP (Pharmacy First is for women)
    r = assess("guy, 42. burning when i pee since yesterday and going all the time")
    assert r["intake"]["subject"]["sex"] == "male"
    assert answer_all(r, {})["level"] == "routine"


@pytest.mark.parametrize(
    "text",
    [
        "so thirsty all the time and peeing loads, even at night. diabetes runs in my family",
        "always thirsty and up to pee at night for weeks, my nan had type 2",
    ],
)
def test_a_relatives_diabetes_is_family_history_not_the_persons(text: str) -> None:
    assert "diabetes" not in assess(text)["intake"]["facts"]


def test_a_relative_who_is_ill_keeps_their_diabetes() -> None:
    r = assess("my dad is diabetic on insulin and he is sweaty, shaky and very drowsy")
    assert r["intake"]["facts"]["diabetes"]["status"] == "present"


def test_a_remedy_that_is_not_working_is_no_answer_to_the_warning_sign_asked() -> None:
    from tools.triage.answers import sentence_polarity

    assert sentence_polarity("ginger biscuits arent doing anything") is None
    assert sentence_polarity("the cream isn't working") is None
    assert sentence_polarity("no blood, just the stinging") == "no"


def test_a_burn_with_redness_spreading_out_and_pus_is_same_day() -> None:
    # NHS Burns and scalds: see a GP if the burn shows signs of infection
    r = assess("scalded my arm with the kettle last week, now the redness is spreading outwards")
    assert answer_all(r, {})["level"] == "urgent"


def test_a_foot_sore_in_diabetes_is_same_day() -> None:
    # NICE NG19: an active diabetic foot problem is seen within 1 working day
    r = assess("got a small sore under the ball of my foot, noticed some blood on my sock")
    assert "conditions" in _asked(r) or "spreading_redness" in _asked(r)
    told = answer_all(r, {"conditions": "yes I have type 1 diabetes"})
    assert told["level"] == "urgent"


def test_a_foot_sore_without_diabetes_or_infection_is_a_gp_appointment() -> None:
    r = assess("got a small sore under the ball of my foot, noticed some blood on my sock")
    assert answer_all(r, {})["level"] == "routine"


def test_thirst_and_peeing_a_lot_in_diabetes_is_same_day() -> None:
    # NHS High blood sugar: hyperglycaemia symptoms in diabetes
    r = assess("so thirsty all the time and peeing loads, even at night")
    told = answer_all(r, {"conditions": "yes type 2 diabetes on tablets"})
    assert told["level"] == "urgent"


def test_no_i_cannot_put_weight_on_it_is_a_yes_to_not_weight_bearing() -> None:
    # Ottawa ankle rules; NHS Sprains and strains: unable to weight-bear -> same-day X-ray
    r = assess("twisted my ankle playing netball, it's really swollen")
    told = answer_all(r, {"weight_bearing": "no I can't put any weight on it at all"})
    assert told["level"] == "urgent"


def test_sudden_hearing_loss_in_one_ear_in_simple_english_is_same_day() -> None:
    # NHS Hearing loss: sudden loss of hearing needs an urgent GP appointment or 111
    assert assess("this morning my left ear not hear anything, no pain")["level"] == "urgent"


def test_a_dog_that_got_someone_on_the_hand_is_a_bite() -> None:
    # NICE NG184: a bite that broke the skin on the hand needs same-day assessment
    r = assess("my brother's dog got me on the hand when i was feeding it")
    assert "animal_bite" in r["intake"]["facts"]
    assert r["level"] == "urgent"


def test_a_face_that_will_not_move_forehead_included_asks_fast_first_and_is_same_day() -> None:
    # NICE CKS Bell's palsy (steroids within 72 hours); NHS Stroke: FAST first
    r = assess("the right side of my face won't move and i can't raise my eyebrow on that side")
    assert "neuro" in _asked(r)
    assert answer_all(r, {})["level"] == "urgent"
    told = answer_all(r, {"neuro": "yes my arm on that side is weak too"})
    assert told["level"] == "emergency"


def test_burning_pain_on_one_side_with_blisters_near_the_eye_is_same_day_shingles() -> None:
    # NHS Shingles; NICE CKS Shingles: the forehead or nose tip means the eye can be affected
    r = assess("burning pain on one side of my forehead since monday and now there are blisters")
    assert answer_all(r, {})["level"] == "urgent"


# ---- round 12 part A review mends: any self-harm or suicidal thought is an emergency red flag,
# whatever else is said ("no plan", "I don't want to die"); the split by intent was withdrawn
# (NICE NG225 Self-harm; NHS Help for suicidal thoughts; NHS Poisoning)

STILL_SUICIDAL = [
    "I've been cutting my legs again, I don't want to die, it's the only thing that helps",
    "sometimes I think my kids would be better off without me but I have no plans and I'm "
    "not going to do anything",
    "I don't want to die really but I've swallowed all my sleeping tablets",
    "no plan as such but I can't keep myself safe tonight",
    "I don't want to die but I have planned how I would do it",
    "I want to kill myself but I don't have a plan yet",
    "I'm going to cut deeper tonight",
    "I don't have a plan but I can't promise I'll stay safe tonight",
    "I burned myself on purpose and it has blistered",
    "im tired of it all, want to go to sleep and never wake up",
    "sick of everything, I just want to go to sleep and never wake up",  # passive death wish
    "I keep thinking about killing myself",
]


@pytest.mark.parametrize("text", STILL_SUICIDAL)
def test_any_self_harm_or_suicidal_thought_is_an_emergency(text: str) -> None:
    assert _suicidal(text)
    assert assess(text)["level"] == "emergency"


@pytest.mark.parametrize(
    "text",
    [
        "I hope to sleep and not wake up till noon",
        "I burned myself on the oven door",
        "I cut myself cooking and it needs stitches",
        "he was killing himself laughing at the film",
    ],
)
def test_everyday_burns_cuts_sleep_and_laughter_are_not_the_suicidal_flag(text: str) -> None:
    assert not _suicidal(text)


def test_the_self_harm_question_asks_about_safety_a_plan_and_anything_taken() -> None:
    r = assess("had enough of life lately, everything feels too much")
    q = next(q for q in r["next_questions"] if "self_harm" in q["topics"])
    assert "safe right now" in q["text"] and "plan" in q["text"]
    assert "taken anything to harm yourself" in q["text"]
    assert "regular medicines" not in q["text"]
