"""Mends to round 10's rules: each case reproduces a story round 10 got wrong, next to the near
misses the round-10 rule was written for (which must keep their answer)."""

from __future__ import annotations

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
