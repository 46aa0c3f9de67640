"""Who is ill and how people word things: a message that starts with the child ("baby feels
hot"), a child's age asked first and answered in weeks or months, an unknown infant age that
keeps the level up, and general lay wordings of signs (an inability to use a limb, a hot-drink
scald, a "sickness bug", a blocked ear that came on suddenly)."""

from __future__ import annotations

from typing import Any

import pytest

from tools.triage import assess
from tools.triage.engine import RANK, decide, relevant_items
from tools.triage.intake import new_intake
from tools.triage.lexicon import lexicon
from tools.triage.parse import mentions_symptoms, parse
from tools.triage.values import parse_age


def test_a_message_that_starts_with_the_baby_is_about_a_baby() -> None:
    found = parse("baby feels a bit warm and is being grizzly")
    assert (found.subject, found.relation) == ("other", "baby")
    assert found.age is not None and found.age[1] <= 1
    assert found.status("fever") == "present"
    assert parse("baby shark is a song").subject is None


@pytest.mark.parametrize(
    ("answer", "years"),
    [("4 months.", 4 / 12), ("about 6 weeks", 6 / 52), ("10 days", 10 / 365)],
)
def test_an_age_answer_in_weeks_or_months(answer: str, years: float) -> None:
    age, stated = parse_age(answer.lower(), answer, relation="baby", bare=True)
    assert stated and age is not None and abs(age[0] - years) < 1e-9
    assert parse_age(answer.lower(), answer, relation="baby", bare=False)[1] is False


def _baby_with_fever() -> dict[str, Any]:
    intake = new_intake()
    intake["subject"] = {
        "who": "other",
        "relation": "baby",
        "sex": None,
        "age": [0.0, 1.0],
        "age_stated": False,
    }
    intake["facts"] = {"fever": {"status": "present", "turn": 1, "said": ""}}
    return intake


def test_a_baby_s_unknown_age_is_asked_first() -> None:
    decision = decide(_baby_with_fever(), lex=lexicon())
    assert decision is not None and decision.next_questions
    assert decision.next_questions[0]["topics"] == ["age"]


def test_a_baby_with_a_temperature_and_no_age_is_seen_today() -> None:
    lex = lexicon()
    unknown_age = _baby_with_fever()
    for item in relevant_items(unknown_age, lex, ["fever"]):  # every warning sign ruled out
        if item in lex.concepts and item != "fever":
            unknown_age["facts"][item] = {"status": "absent", "turn": 2, "said": "no"}
    decision = decide(unknown_age, lex=lex, allow_questions=False)
    assert decision is not None and RANK[decision.level] >= RANK["urgent"]
    unknown_age["subject"].update(age=[0.8, 0.8], age_stated=True)
    settled = decide(unknown_age, lex=lex, allow_questions=False)
    assert settled is not None and RANK[settled.level] < RANK["urgent"]


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("her wrist is swollen and she won't use it", "cant_weight_bear"),
        ("my 3 year old knocked my cup of tea onto his chest", "burn"),
        ("touched the oven shelf with my finger", "burn"),
        ("been ill with a sickness bug since saturday", "vomiting"),
        ("the skin on her chest looks white in patches", "burn_serious"),
        ("a rash that feels rough like sandpaper", "scarlet_fever_signs"),
    ],
)
def test_general_lay_wordings(text: str, concept: str) -> None:
    assert parse(text).status(concept) == "present"


def test_a_sudden_blocked_ear_is_seen_today() -> None:
    first = assess("my left ear feels blocked, I suddenly can't hear out of my left ear")
    assert first["level"] == "urgent"


def test_a_chickenpox_blister_is_not_a_blistering_rash_emergency() -> None:
    text = "my 4 year old has chickenpox, itchy spots with blisters all over her tummy"
    assert assess(text)["level"] != "emergency"


@pytest.mark.parametrize(
    "text",
    [
        "scratched my shin on a rose bush, it's a bit red around it now. is savlon enough?",
        "the condom split last night and he told me he's HIV positive, am I ok?",
    ],
)
def test_stories_in_other_words_reach_triage(text: str) -> None:
    assert mentions_symptoms(text)
