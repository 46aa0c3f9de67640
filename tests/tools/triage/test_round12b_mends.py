"""Round 12 part B review mends: each reproducer is the reviewer's case plus a paraphrase in other
words; each asserts at least the level the cited guidance asks for."""

from __future__ import annotations

import pytest

from tests.fakes.triage import answer_all
from tools.triage import assess
from tools.triage.answers import polarity
from tools.triage.parse import parse

_SAME_DAY = ("urgent", "emergency")


def _final(text: str) -> dict:
    return answer_all(assess(text), {})


# ---- 1. a feeding mother's story about her baby's illness keeps the baby as the patient


@pytest.mark.parametrize(
    "text",
    [
        # NICE CG84: diarrhoea and vomiting under 6 months
        "breastfeeding my 2 month old, she has had diarrhoea 6 times today, still feeding from "
        "the breast ok",
        "I feed my 7 week old son myself (breastfeeding), he has had the runs all day, nipple "
        "feeds going fine",
        "im breastfeeding my 5 week old, she has been vomiting after every feed from the breast "
        "today",
        # NICE NG143 / NG9: a cough and less feeding in a young infant
        "breastfeeding my 8 week old, runny nose and cough 2 days, feeding a bit less at the breast",
        # NICE CG98: jaundice in a newborn
        "breastfeeding my 10 day old daughter, she is yellow and a bit sleepy at the breast",
        # NICE NG9: fast breathing in a young infant
        "breastfeeding my 3 week old, breathing really fast about 65 a minute, feeding less",
    ],
)
def test_a_baby_symptom_in_a_breastfeeding_story_is_the_baby_ill(text: str) -> None:
    assert parse(text).subject == "other" or parse(text).age is not None
    assert _final(text)["level"] in _SAME_DAY


def test_a_breast_complaint_with_no_baby_symptom_is_still_the_mother() -> None:
    found = parse("breastfeeding my 4 week old and my left nipple is cracked and bleeding")
    assert found.subject == "self"
    assert found.age is None or found.age[0] >= 12


# ---- 2. food sticking is dysphagia even beside a sore throat (NICE NG12 1.2.1)


@pytest.mark.parametrize(
    "text",
    [
        "food keeps sticking when i swallow and my throat is sore",
        "my throat is sore and bread gets stuck on the way down when I swallow",
    ],
)
def test_food_sticking_with_a_sore_throat_is_not_home_care(text: str) -> None:
    assert _final(text)["level"] != "self_care"


def test_a_sore_throat_painful_to_swallow_stays_home_care() -> None:
    assert _final("really sore throat, hurts to swallow, 2 days")["level"] == "self_care"


# ---- 3. sunburn in a baby or young child (NHS Sunburn: urgent advice from 111)


@pytest.mark.parametrize(
    "text",
    ["my 2 year old has sunburn on his shoulders", "my baby got burnt in the sun at the beach"],
)
def test_sunburn_in_a_young_child_is_same_day(text: str) -> None:
    assert _final(text)["level"] in _SAME_DAY


def test_sunburn_in_an_adult_stays_home_care() -> None:
    assert _final("I have sunburn on my shoulders")["level"] == "self_care"


# ---- 6. a missed contraceptive pill with sex since (NHS Missed contraceptive pills; FSRH)


@pytest.mark.parametrize(
    "text",
    [
        "missed my pill twice this week and had unprotected sex",
        "we had sex last night and I forgot to take my pill for 2 days",
    ],
)
def test_a_missed_pill_with_sex_is_same_day_emergency_contraception(text: str) -> None:
    r = _final(text)
    assert r["level"] in _SAME_DAY
    assert any("emergency contraception" in reason for reason in r["reasons"])


# ---- 7. a swollen hard scrotum in a child is a possible torsion, not nappy rash


@pytest.mark.parametrize(
    "text",
    [
        "my baby boy's nappy area is red and his scrotum on one side is swollen and hard and he "
        "wont stop screaming",
        "my 3 year old son's testicle on the left side looks swollen and red, he is crying",
    ],
)
def test_a_swollen_scrotum_in_a_child_is_not_nappy_rash(text: str) -> None:
    r = _final(text)
    assert r["level"] in _SAME_DAY
    assert r["level"] != "self_care"


# ---- 4. blood on a tissue after coughing is coughing up blood (NICE NG12 1.1.1), in anyone


@pytest.mark.parametrize(
    "text",
    [
        "pink spotting on the tissue after coughing",
        "I'm a 58 year old man, been coughing for weeks and today pink spotting on the tissue",
    ],
)
def test_spotting_on_a_tissue_after_a_cough_is_coughing_blood(text: str) -> None:
    r = _final(text)
    assert r["level"] in _SAME_DAY
    assert not any("vaginal" in reason for reason in r["reasons"])


def test_vaginal_bleeding_never_decides_for_a_man() -> None:
    r = _final("I'm a 40 year old man and there is some spotting in my pants")
    assert not any("vaginal" in reason for reason in r["reasons"])


# ---- 5. sudden or total hearing loss is never a blocked ear's muffled hearing (NICE CKS)


@pytest.mark.parametrize(
    "text",
    [
        "my ear feels blocked and I can't hear out of it since this morning",
        "can't hear anything at all in my right ear, came on suddenly",
        "ear's bunged up and I cannot hear with that one, started overnight",
    ],
)
def test_sudden_or_total_hearing_loss_is_same_day(text: str) -> None:
    assert _final(text)["level"] in _SAME_DAY


def test_muffled_hearing_with_wax_stays_home_care() -> None:
    assert _final("ears feel bunged up with wax, hearing a bit muffled")["level"] == "self_care"


# ---- 8. a vaccination reaction is the patient's own vaccination; a needle elsewhere is no vaccine


@pytest.mark.parametrize(
    "text",
    [
        "the dog had his jabs yesterday and now my arm is sore and red",
        "our puppy got his vaccinations today and I have a sore red arm",
        "had lip filler injections yesterday and my lip is swollen",
        "had my insulin injection and now feel shaky",
    ],
)
def test_other_injections_are_not_a_vaccination_reaction(text: str) -> None:
    r = _final(text)
    assert not any("vaccination" in reason for reason in r["reasons"])


@pytest.mark.parametrize(
    "text",
    [
        "my calf is swollen red and hot where the needle went in, I inject",
        "I inject heroin and my left calf is hot, red and swollen where the injection went in",
    ],
)
def test_a_hot_swollen_calf_where_a_needle_went_in_keeps_its_clot_reason(text: str) -> None:
    assert _final(text)["level"] in _SAME_DAY


def test_a_flu_jab_sore_arm_is_still_a_vaccination_reaction() -> None:
    r = _final("sore arm after my covid injection this morning")
    assert any("vaccination" in reason for reason in r["reasons"])


# ---- 9. a settled bleed, an ability or a little faster breathing answers its own topic only


def _denied(before: dict, after: dict) -> set[str]:
    return {
        c
        for c, f in after["intake"]["facts"].items()
        if f["status"] == "absent" and c not in before["intake"]["facts"]
    }


def test_a_settled_bleed_denies_no_chest_pain_or_stroke() -> None:
    r = assess("I'm 70 and I've had blood in my wee")
    r2 = assess("only a bit of blood in my wee, stops straight away", r["intake"])
    denied = _denied(r, r2)
    assert not denied & {"chest_pain", "neuro_deficit", "confusion", "drowsy", "breathless"}
    asked = [t for q in r2["next_questions"] for t in q["topics"]]
    assert "chest_pain" in asked


def test_walking_told_with_a_droopy_face_is_no_no_to_a_stroke() -> None:
    r = assess("my mum fell over this morning, her hip hurts")
    r2 = assess("she can still walk, her face looks droopy on one side", r["intake"])
    assert r2["intake"]["facts"].get("neuro_deficit", {}).get("status") != "absent"
    assert r2["level"] == "emergency"


@pytest.mark.parametrize(
    "answer",
    [
        "a bit faster but not grunting, she is sucking in under her ribs",
        "a little faster but not blue, he's pulling in at his ribs",
    ],
)
def test_a_recession_sign_after_the_denial_is_not_a_no(answer: str) -> None:
    assert polarity(answer) != "no"


def test_a_little_faster_with_every_sign_denied_is_still_a_no() -> None:
    assert polarity("a bit faster than normal but not sucking in") == "no"


# ---- 10. claudication in an older smoker (NICE CG147); a squint with morning headaches and
# vomiting in a child (NICE NG12, HeadSmart)


@pytest.mark.parametrize(
    "text",
    [
        "I'm 70 and smoke, my shins ache when i walk, eases when i stop",
        "I'm 70 and a smoker, my calf aches when I walk and it eases when I stop",
    ],
)
def test_leg_pain_on_walking_eased_by_rest_in_an_older_smoker_is_a_gp_appointment(
    text: str,
) -> None:
    assert _final(text)["level"] != "self_care"


def test_shin_splints_after_running_stay_home_care() -> None:
    assert _final("my shins ache after running, I'm 25")["level"] == "self_care"


@pytest.mark.parametrize(
    "text",
    [
        "my 7 year old has a new squint, headaches in the mornings and has been vomiting",
        "our son (5) has been sick most mornings with a headache and his eye has started to turn in",
    ],
)
def test_a_squint_with_morning_headaches_and_vomiting_in_a_child_is_same_day(text: str) -> None:
    assert _final(text)["level"] in _SAME_DAY


def test_a_leg_red_where_the_needle_of_a_vaccine_went_is_still_the_injection_site() -> None:
    r = _final(
        "she had her jabs at the surgery this morning, her thigh is a bit red and hard where the "
        "needle went in, otherwise happy and feeding"
    )
    assert not any("clot" in reason for reason in r["reasons"])
