"""Mends to round 11's rules: each case reproduces a story or answer round 11 got wrong, next to
the near misses the round-11 rule was written for (which must keep their answer)."""

from __future__ import annotations

import pytest

from tools.triage.parse import polarity

# ---- "a bit X but ..." is a reassuring no only with a mild change and no negator (NICE NG143)


@pytest.mark.parametrize(
    "answer",
    [
        "a bit quieter but she's not answering",
        "a bit quieter, but barely answers",
        "a bit blue but still talking",
        "a bit floppy but still awake",
        "a bit limp but still watching",
        "a bit pale but still alert",
        "a bit quieter but not really talking, just nodding",
        "a bit worse but still talking in odd words",
    ],
)
def test_a_worrying_change_or_a_negator_is_not_a_reassuring_no(answer: str) -> None:
    assert polarity(answer) in (None, "yes")


@pytest.mark.parametrize(
    "answer",
    [
        "a bit quieter but still answers me",
        "a bit faster than normal but she is talking and playing",
    ],
)
def test_a_mild_change_with_normal_responses_is_still_a_no(answer: str) -> None:
    assert polarity(answer) == "no"
