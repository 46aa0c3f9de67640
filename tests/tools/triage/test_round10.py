"""Round 10's mechanisms. Each case is written from the guidance the rule cites, in words of its
own (not copied from any vignette)."""

from __future__ import annotations

import pytest

from assistant.policy.safety import ethics_violation, red_flags
from tests.fakes.triage import answer_all
from tools.triage import assess
from tools.triage.parse import polarity


def _asked(result: dict) -> list[str]:
    return [t for q in result["next_questions"] for t in q["topics"]]


# ---- 1. suicide preparations however worded (C-SSRS preparatory acts; NICE NG225)

PREPARATIONS = [
    "my pills are all laid out on the bed and I've written my letters, sorry",
    "i have lined up all my sleeping tablets on the side. wanted to talk to someone before.",
    "I've written the letters. the paracetamol is next to me",
    "been giving away all my things to friends this week, it's easier that way",
]


@pytest.mark.parametrize("text", PREPARATIONS)
def test_suicide_preparations_are_an_emergency_without_a_suicide_word(text: str) -> None:
    r = assess(text)
    assert r["level"] == "emergency" and not r["next_questions"]
    assert any(f.id == "suicidal" for f in red_flags(text))  # and the crisis line is given


NOT_PREPARATIONS = [
    "I set out my tablets for the week in the dosette box",
    "wrote the letters for the school trip and packed my hay fever pills",
    "can you ring me before you visit",
]


@pytest.mark.parametrize("text", NOT_PREPARATIONS)
def test_everyday_tablets_and_letters_are_not_preparations(text: str) -> None:
    assert not any(f.id == "suicidal" for f in red_flags(text))


# ---- 2. a child and someone else's prescription tablets (NPIS/TOXBASE; NHS Poisoning)

CHILD_INGESTIONS = [
    "my 18 month old may have chewed one of grandad's heart tablets, she's running around fine",
    "toddler got into his auntie's bag and had some of her pills, he seems ok",
    "think my 3yo sucked on a couple of my diabetes tablets, acting normal",
]


@pytest.mark.parametrize("text", CHILD_INGESTIONS)
def test_a_child_who_may_have_had_an_adults_tablets_is_an_emergency_even_if_well(
    text: str,
) -> None:
    r = assess(text)
    assert r["level"] == "emergency" and not r["next_questions"]


def test_chewing_ones_own_indigestion_tablets_is_not_a_poisoning() -> None:
    r = answer_all(assess("been chewing rennie tablets after meals for heartburn"), {})
    assert r["level"] != "emergency"


# ---- 3. more paracetamol than the daily maximum, said in an answer (NHS Paracetamol for adults)


def test_more_than_the_packet_says_asks_how_much_and_an_overdose_is_an_emergency() -> None:
    first = assess(
        "sore back, taking paracetamol for 4 days, more than the packet says to be honest"
    )
    assert "medicines" in _asked(first)
    r = answer_all(first, {"medicines": "around 10 or 12 of the 500mg paracetamol every day"})
    assert r["level"] == "emergency"


def test_an_amount_unknown_after_more_than_the_packet_stays_same_day() -> None:
    first = assess("sore back, taking paracetamol for 4 days, more than the packet says")
    r = answer_all(first, {"medicines": "not sure"})
    assert r["level"] in ("urgent", "emergency")


def test_paracetamol_within_the_daily_maximum_is_not_an_overdose() -> None:
    r = answer_all(assess("sore back, I take 8 paracetamol a day, 2 four times"), {})
    assert r["level"] != "emergency"


def test_a_daily_amount_over_the_maximum_in_the_first_message_is_an_emergency() -> None:
    assert assess("I have been taking 12 paracetamol a day for my knee")["level"] == "emergency"


# ---- 4. a blistering scald in a child under 5 (NHS Healthier Together burns; NHS Burns and scalds)


def test_a_blistering_scald_in_a_toddler_is_an_emergency() -> None:
    text = (
        "my 2 year old grabbed my coffee and it went down her arm, there's a blister "
        "coming up, we've got it under the cold tap"
    )
    r = assess(text)
    assert r["level"] == "emergency"
    assert not any("cold symptoms" in x for x in r["reasons"])  # "the cold tap" is no cold


def test_a_small_blister_from_a_scald_in_an_adult_is_not_an_emergency() -> None:
    r = answer_all(assess("splashed hot tea on my leg, one small blister, cooled it"), {})
    assert r["level"] == "self_care"


def test_coffee_over_a_laptop_is_not_a_burn() -> None:
    r = assess("my coffee went all over my laptop and i have a headache")
    assert not any("burn" in x for x in r["reasons"])


# ---- 5. breathlessness with a pain on breathing in, or after an operation (NICE NG158)


def test_breathless_after_an_operation_with_a_pain_on_breathing_in_is_an_emergency() -> None:
    first = assess("a bit breathless since yesterday, had my hip replaced a fortnight ago")
    r = answer_all(first, {"chest_pain": "it catches on the left when I take a deep breath"})
    assert r["level"] == "emergency"


def test_blood_stained_phlegm_is_coughing_up_blood() -> None:
    r = assess("breathless for 2 days, I had an operation on my knee last week")
    r = answer_all(r, {"coughing_blood": "some pink in my phlegm", "chest_pain": "yes"})
    assert r["level"] == "emergency"


def test_weeks_after_an_operation_is_not_weeks_pregnant() -> None:
    r = assess("I'm 3 weeks after my bunion op and my toe is stiff")
    assert r["intake"]["facts"].get("pregnancy", {}).get("status") != "present"
    assert assess("I'm 12 weeks and I've got some spotting")["level"] != "self_care"


# ---- 6. a swollen, tender tummy with vomiting: possible bowel blockage (NHS Bowel obstruction)


def test_a_distended_tummy_with_vomiting_is_an_emergency() -> None:
    first = assess("my nan is 84, bad tummy pain since lunch and she's been sick twice")
    r = answer_all(first, {"abdominal_pain": "her tummy is distended and tender everywhere"})
    assert r["level"] == "emergency"


# ---- 7. something in the eye at speed (NHS Eye injuries; NICE CKS Corneal superficial injury)


def test_an_eye_injury_from_a_grinder_is_an_emergency_when_told_in_an_answer() -> None:
    first = assess("my eye's sore and watering, I think I've got a bit of grit in there")
    r = answer_all(first, {"injury": "yes, I was using the angle grinder on some steel"})
    assert r["level"] == "emergency"
    calm = answer_all(first, {"injury": "no, it was just windy outside"})
    assert calm["level"] == "urgent"


def test_something_flying_into_the_eye_while_hammering_is_an_emergency_at_once() -> None:
    r = assess("was hammering a nail and a bit flew into my eye, it hurts")
    assert r["level"] == "emergency" and not r["next_questions"]


# ---- 8. same-day problems the answers carry; a tooth story gets a level


def test_vomiting_that_keeps_nothing_down_with_few_wees_is_same_day() -> None:
    first = assess("tummy bug, been sick all night")
    r = answer_all(first, {"fluids": "can't even keep sips of water down, barely peed today"})
    assert r["level"] == "urgent"


def test_a_pregnant_writer_near_someone_with_chickenpox_is_same_day() -> None:
    r = assess("I'm 16 weeks pregnant and my niece who I babysat on Saturday now has chickenpox")
    assert answer_all(r, {})["level"] == "urgent"
    immune = assess(
        "I'm 16 weeks pregnant and my niece who I babysat on Saturday now has chickenpox. "
        "I had it as a child"
    )
    assert answer_all(immune, {})["level"] != "urgent"


def test_a_tooth_or_filling_problem_without_pain_is_a_dentist_appointment() -> None:
    r = assess("my son is 6 and his big tooth is growing in behind his baby tooth, not sore")
    assert answer_all(r, {})["level"] == "routine"
    assert answer_all(assess("lost a filling last night, no pain"), {})["level"] == "routine"


def test_it_does_not_hurt_her_is_a_symptom_not_a_wish_to_harm() -> None:
    assert ethics_violation("her new tooth is wonky but it doesn't hurt her") is None
    assert ethics_violation("how can I hurt the patient so it looks natural") is not None


# ---- 9. words read as the wrong sign (NHS Knocked-out tooth; NICE NG143 floppy child)


def test_a_knocked_out_tooth_is_urgent_dental_care_not_being_knocked_out() -> None:
    for text in (
        "knocked out two of my son's front teeth falling off his scooter, he's 14",
        "my front tooth got knocked out at football, adult tooth, it's in milk",
    ):
        r = assess(text)
        assert r["level"] == "urgent", text
        assert not any("knocked out" in x and "tooth" not in x for x in r["reasons"])
        assert not red_flags(text)
    assert assess("fell off the ladder and was knocked out for a minute")["level"] == "emergency"


def test_a_floppy_face_is_facial_weakness_not_a_floppy_child() -> None:
    r = assess("the left side of my face feels floppy since this morning, can't shut my eye")
    assert not any("drowsy" in x for x in r["reasons"])
    assert any("drooping face" in x for x in r["reasons"])
    assert assess("my baby is hot and floppy")["level"] == "emergency"


# ---- 10. confusion that has gone after a treated hypo; mania (NICE CKS Hypoglycaemia; NICE CG185)


def test_a_treated_hypo_on_a_sulfonylurea_is_same_day_not_new_confusion() -> None:
    text = (
        "my mum is 77 on glimepiride, she was confused at lunch and her sugar was 2.9, "
        "had some lucozade and she's back to herself now"
    )
    r = answer_all(assess(text), {})
    assert r["level"] == "urgent"
    assert "new confusion" not in r["reasons"]


def test_mania_is_same_day_mental_health_care_not_delirium() -> None:
    text = (
        "my son is 24, up all night for 4 nights, talking so fast we can't follow, "
        "says he's been chosen for a secret mission, he's not making sense"
    )
    assert answer_all(assess(text), {})["level"] == "urgent"


def test_confusion_now_is_still_an_emergency() -> None:
    assert assess("grandad is suddenly confused today and not making sense")["level"] == "emergency"


# ---- 11. a cut that bled a lot and has stopped (NHS Cuts and grazes); one reason for immunity


def test_a_cut_that_bled_a_lot_and_has_stopped_is_not_an_emergency() -> None:
    text = "sliced my finger on a knife, it bled loads, blood everywhere, but it has stopped now"
    assert not red_flags(text)
    assert assess(text)["level"] != "emergency"


def test_bleeding_that_started_again_or_blood_vomited_stays_an_emergency() -> None:
    assert assess("cut my leg, blood everywhere, it stopped then started again")["level"] == (
        "emergency"
    )
    assert assess("I vomited blood this morning, it has stopped now")["level"] == "emergency"


def test_a_medicine_that_lowers_immunity_gives_one_reason_not_two() -> None:
    r = assess("I'm on methotrexate for my arthritis and I've got a temperature of 38.5")
    immune = [x for x in r["reasons"] if "immun" in x]
    assert r["level"] == "urgent" and len(immune) == 1


# ---- 12. same-day stories that were sent to "within days" (RCOG GTG57; NICE NG141; NICE CKS
# Croup, Corneal superficial injury)


def test_a_quieter_baby_in_pregnancy_is_reduced_movements() -> None:
    r = assess("33 weeks pregnant and the baby seems much quieter than usual today")
    assert r["level"] == "urgent"
    born = answer_all(assess("my 3 month old baby has been quieter today, feeding well"), {})
    assert not any("moving less" in x for x in born["reasons"])


def test_a_red_warm_patch_with_a_temperature_is_same_day() -> None:
    first = assess("there's a red patch on my forearm, warm and tender, since yesterday")
    assert answer_all(first, {"fever": "yes 38.4"})["level"] == "urgent"
    assert answer_all(first, {})["level"] == "routine"


def test_croup_with_a_noisy_breath_in_when_crying_is_same_day() -> None:
    first = assess("my 3 year old has a cough like a seal since tonight")
    upset = answer_all(
        first, {"breathing": "a squeaky noise when he breathes in but only when he is crying"}
    )
    assert upset["level"] == "urgent"
    assert answer_all(first, {"breathing": "no"})["level"] == "self_care"


def test_a_scratched_eye_is_same_day() -> None:
    r = answer_all(assess("caught my eye on a rose bush, it's stinging and watering"), {})
    assert r["level"] == "urgent"


def test_a_pulled_back_is_back_pain() -> None:
    r = answer_all(assess("tweaked my lower back moving a sofa, sore but I can walk fine"), {})
    assert any("back pain" in x for x in r["reasons"])


def test_grandkids_are_not_grandiose_ideas() -> None:
    r = assess("i am 71, got a cold from my grandkids, runny nose and sneezy")
    assert not any("mania" in x for x in r["reasons"])


def test_a_nosebleed_that_stops_with_pinching_is_a_no_to_bleeding_that_wont_stop() -> None:
    assert polarity("it stops after 10 mins of pinching") == "no"
    assert polarity("it stops then starts again") != "no"


def test_nosebleeds_for_weeks_that_stop_with_pinching_are_a_gp_appointment() -> None:
    first = assess("nosebleeds a few times a week for the last 5 weeks, right side")
    r = answer_all(first, {"bleeding": "it stops after 10 mins of pinching"})
    assert r["level"] == "routine"
