"""Mends to round 10's rules: each case reproduces a story round 10 got wrong, next to the near
misses the round-10 rule was written for (which must keep their answer)."""

from __future__ import annotations

import time

import pytest

from assistant.policy.safety import red_flags
from tools.triage import assess

# ---- being knocked out is a head injury even when a tooth is mentioned (NICE NG232)

KNOCKED_OUT_AND_A_TOOTH = [
    "knocked out cold and lost a tooth",
    "he was knocked out and knocked out a tooth",
    "my son was knocked out at rugby, two teeth knocked out too",
    "she fell and hit her head, knocked out for a few seconds, her tooth is wobbly",
]


@pytest.mark.parametrize("text", KNOCKED_OUT_AND_A_TOOTH)
def test_being_knocked_out_with_a_tooth_mentioned_is_still_an_emergency(text: str) -> None:
    assert assess(text)["level"] == "emergency"
    assert any(f.id == "head_injury" for f in red_flags(text))


@pytest.mark.parametrize(
    "text",
    [
        "knocked out two of my son's front teeth falling off his scooter, he's 14",
        "knocked out one of my front teeth at rugby",
        "my front tooth got knocked out at football, adult tooth, it's in milk",
        "he knocked his tooth out on the trampoline",
    ],
)
def test_a_knocked_out_tooth_alone_stays_urgent_dental_care(text: str) -> None:
    assert assess(text)["level"] == "urgent"
    assert not red_flags(text)


# ---- a bleed that has stopped is exempt only when nothing says shock, arterial or a re-bleed
# (NHS Cuts and grazes: bleeding that won't stop, spurting, or feeling faint is A&E)

STOPPED_BUT_DANGEROUS = [
    "bleeding heavily, it has stopped now but I'm dizzy and faint",
    "cut my arm, bled heavily, it stopped, then it started bleeding heavily once more",
    "blood everywhere from his leg. It stopped. Now it is spurting",
    "blood spurting from his thigh, it has stopped now",
    "deep cut, blood spurting, it has stopped now with a tourniquet",
]


@pytest.mark.parametrize("text", STOPPED_BUT_DANGEROUS)
def test_a_stopped_bleed_with_shock_spurting_or_a_rebleed_is_an_emergency(text: str) -> None:
    assert assess(text)["level"] == "emergency"
    assert any(f.id == "severe_bleeding" for f in red_flags(text))


@pytest.mark.parametrize(
    "text",
    [
        "sliced my finger on a knife, it bled loads, blood everywhere, but it has stopped now",
        "cut my thumb on a tin, it bled loads, blood everywhere, but it has stopped now with pressure",
    ],
)
def test_a_cut_that_bled_a_lot_and_has_stopped_is_still_not_an_emergency(text: str) -> None:
    assert not red_flags(text)
    assert assess(text)["level"] != "emergency"


def test_the_stopped_bleeding_exemption_reads_long_text_in_linear_time() -> None:
    """The exemption once scanned the text twice over (seconds on 20 kB); CPU time, generous."""
    for text in (
        "bled " * 3000 + "it stopped now " * 300 + " again",
        "bled " * 3000 + "it stopped now " * 300,
    ):
        began = time.process_time()
        red_flags(text)
        assert time.process_time() - began < 1.5
