"""Guidance coverage: the NHS "call 999 / go to A&E" and urgent lists the rules follow are rules
on the intake record (ages in years, durations in days), not words; and each is reachable from
a patient's lay wording."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tools.triage import assess
from tools.triage.engine import RANK, decide, relevant_items
from tools.triage.intake import new_intake
from tools.triage.lexicon import lexicon
from tools.triage.values import parse_age


def _record(facts: list[str], age: float, days: float | None, temp: float | None) -> dict[str, Any]:
    intake = new_intake()
    intake["subject"] = {
        "who": "other",
        "relation": "child",
        "sex": None,
        "age": [age, age],
        "age_stated": True,
    }
    intake["facts"] = {c: {"status": "present", "turn": 1, "said": ""} for c in facts}
    intake["values"]["duration"] = [days, days] if days is not None else None
    intake["values"]["temperature"] = temp
    return intake


@settings(deadline=None)
@given(
    months=st.floats(min_value=0.0, max_value=59.0),
    days=st.floats(min_value=0.0, max_value=14.0),
    temp=st.floats(min_value=37.5, max_value=41.0),
)
def test_nice_ng143_fever_thresholds_are_rules_on_the_record(
    months: float, days: float, temp: float
) -> None:
    decision = decide(_record(["fever"], months / 12, days, temp), allow_questions=False)
    assert decision is not None
    if months < 3:  # red: any fever under 3 months
        assert decision.level == "emergency"
    elif months < 6 and temp >= 39:  # amber: 39C or more at 3-6 months
        assert RANK[decision.level] >= RANK["urgent"]
    if days >= 5:  # amber: fever for 5 days or more
        assert RANK[decision.level] >= RANK["urgent"]


def test_priapism_duration_threshold_is_a_rule() -> None:
    two_hours = decide(_record(["priapism"], 40, 2 / 24, None), allow_questions=False)
    five_hours = decide(_record(["priapism"], 40, 5 / 24, None), allow_questions=False)
    assert two_hours is not None and two_hours.level == "urgent"
    assert five_hours is not None and five_hours.level == "emergency"


def _answered_no(intake: dict[str, Any]) -> dict[str, Any]:
    present = list(intake["facts"])
    for cid in relevant_items(intake, lexicon(), present):
        if cid in lexicon().concepts and cid not in intake["facts"]:
            intake["facts"][cid] = {"status": "absent", "turn": 1, "said": "answered no"}
    return intake


def test_hip_fracture_signs_by_age() -> None:
    facts = ["limb_injury", "hip_fracture_signs"]
    young = decide(_answered_no(_record(facts, 30, 1, None)), allow_questions=False)
    old = decide(_answered_no(_record(facts, 80, 1, None)), allow_questions=False)
    assert young is not None and young.level == "urgent"
    assert old is not None and old.level == "emergency"


@pytest.mark.parametrize(
    ("text", "age"),
    [("my six week old", 6 / 52), ("our two-month-old son", 2 / 12), ("a 3 month old", 0.25)],
)
def test_ages_in_words(text: str, age: float) -> None:
    got, stated = parse_age(text)
    assert stated and got is not None and abs(got[0] - age) < 1e-6


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("my husband has had an erection for 5 hours and it won't go down", "emergency"),
        ("I was bitten by a snake on my ankle", "emergency"),
        ("my gran is 84, she fell and her leg looks shorter and turned out", "emergency"),
        ("I've had black poo and I nearly fainted", "emergency"),
        ("my son had a fit for the first time", "emergency"),
        ("I can't feel my bum when I wipe and my back hurts", "emergency"),
        ("my 3 year old pulled a cup of tea over his arm", "urgent"),
        ("my six week old has a temperature", "emergency"),
        ("my toddler swallowed a button battery", "emergency"),
        ("my 9 month old has a fever and his legs look mottled", "emergency"),
        ("my baby's soft spot is bulging and she has a temperature", "emergency"),
    ],
)
def test_guidance_lists_in_lay_words(text: str, level: str) -> None:
    assert assess(text)["level"] == level


def test_cold_blue_fingers_are_not_a_red_sign() -> None:
    assert assess("my fingers went blue in the cold")["level"] != "emergency"


def test_a_fall_is_not_falling_asleep() -> None:
    result = assess("I fell asleep on the sofa and now my neck hurts")
    assert result["level"] == "self_care"
    assert copy.deepcopy(result)["level"] == "self_care"
