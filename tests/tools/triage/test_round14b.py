"""Round 14 part B: mechanisms missing or misread in the new authors' sets. Each case is written
from the guidance the rule cites, in words of its own; each recogniser has near misses."""

from __future__ import annotations

import pytest

from assistant.policy import safety
from tests.fakes.triage import fact_present
from tools.triage import assess


def _flags(text: str) -> list[str]:
    return [f.id for f in safety.red_flags(text)]


# ---- 1. a swallowed button battery or magnet (NHS Button batteries; CAPT/RCEM guidance)

BATTERY = [
    "i think my toddler swallowed one of those small flat round batteries from the remote, she seems totally fine",
    "my 3 year old might have swallowed a button battery out of a birthday card, he's playing happily",
    "my son ate two of the magnetic balls from his sister's toy",
    "a battery from the car key is missing and I think the baby has swallowed it",
]


@pytest.mark.parametrize("text", BATTERY)
def test_a_swallowed_battery_or_magnet_is_an_emergency_even_in_a_well_child(text: str) -> None:
    r = assess(text)
    assert r["level"] == "emergency"
    assert "swallowed_battery" in r["rules"]
    assert "swallowed_battery" in _flags(text)


@pytest.mark.parametrize(
    "text",
    [
        "my phone battery keeps dying and I'm stressed",
        "I swallowed my pride and changed the batteries in the smoke alarm",
        "the fridge magnets keep falling off",
        "I have a sore throat and it hurts when I swallow, I ate some toast",
    ],
)
def test_batteries_or_swallowing_in_other_senses_are_not_an_ingestion(text: str) -> None:
    r = assess(text)
    assert not fact_present(r, "swallowed_battery")
    assert "swallowed_battery" not in _flags(text)


# ---- 2. a limb that suddenly went cold and pale (NICE CG147; NHS Peripheral arterial disease)

LIMB = [
    "my dad's leg went cold and pale this morning and it's agony",
    "an hour ago my hand suddenly turned white and cold and now it feels dead",
    "my foot has gone icy cold and blue, pins and needles and I can't move my toes",
]


@pytest.mark.parametrize("text", LIMB)
def test_a_limb_that_suddenly_went_cold_and_pale_is_an_emergency(text: str) -> None:
    r = assess(text)
    assert r["level"] == "emergency"
    assert "limb_cold_pale" in r["rules"]


@pytest.mark.parametrize(
    "text",
    [
        "my fingers go white and numb in the cold then turn red",
        "my feet are always cold in winter",
        "my hands are cold and clammy when I'm nervous",
        "my leg went numb from sitting cross-legged",
    ],
)
def test_cold_hands_and_raynauds_are_not_a_blocked_artery(text: str) -> None:
    r = assess(text)
    assert not fact_present(r, "limb_cold_pale")


# ---- 3. pregnancy: waters, bleeding, itching (NICE NG25, NG126; RCOG GTG43, GTG63)

PREGNANCY = [
    ("30 weeks and there's a gush of water every time I stand up", "waters_broken"),
    ("36 weeks, a trickle of clear fluid keeps coming and my pants are wet", "waters_broken"),
    ("26 weeks pregnant and there's some blood in my pants", "bleeding_pregnant"),
    ("I'm 7 weeks pregnant and I've started bleeding a bit with cramps", "bleeding_pregnant"),
    ("I'm pregnant and bleeding, like a light period", "bleeding_pregnant"),
    ("35 weeks, the soles of my feet and my palms are really itchy at night", "pregnancy_itch"),
]


@pytest.mark.parametrize(("text", "rule"), PREGNANCY)
def test_later_pregnancy_waters_bleeding_and_itching_are_seen_today(text: str, rule: str) -> None:
    r = assess(text)
    assert r["level"] in ("urgent", "emergency")
    assert rule in r["rules"]


@pytest.mark.parametrize(
    "text",
    [
        "3 weeks, my cough still hasn't gone",
        "2 weeks and my back still hurts",
        "the boiler has a trickle of water from the pipe",
        "a trickle of fluid from my ear after swimming",
        "I've started bleeding from my gums when I brush",
        "my hands are itchy after gardening",
    ],
)
def test_durations_leaks_and_other_bleeding_are_not_pregnancy_findings(text: str) -> None:
    r = assess(text)
    assert not fact_present(r, "pregnancy")
    assert not fact_present(r, "waters_broken")
    assert not fact_present(r, "vaginal_bleeding")
