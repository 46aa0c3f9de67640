"""How an answer reads: its polarity and, for a topic-bound "no", the topics it speaks to, both
from the one branch order in tools/triage/answers.py."""

from __future__ import annotations

import pytest

from tools.triage.answers import answer_scope, polarity

READINGS = [
    # (answer, polarity, scope)
    ("no", "no", None),
    ("no I can't put any weight on it", "yes", None),  # the inability told is a yes
    ("yes can walk", "no", frozenset({"weight_bearing"})),
    ("I can walk but only a few steps", None, None),  # a limited ability is no "no"
    ("a bit faster than normal but not sucking in", "no", frozenset({"breathing"})),
    # a distress sign after the denial: no "no" of its own, still about breathing only
    ("a bit faster but not sucking in, she is grunting", "yes", frozenset({"breathing"})),
    (
        "it stopped after 5 minutes with pinching",
        "no",
        frozenset(
            {"bleeding", "blood_vomit_stool", "coughing_blood", "swallowing", "fluids", "vomiting"}
        ),
    ),
    ("it stopped but came back again", None, None),
    ("not sure", "unsure", None),
    ("yes", "yes", None),
    ("he's fine", "no", None),
    ("my throat is sore", None, None),
]


@pytest.mark.parametrize(("answer", "pol", "scope"), READINGS)
def test_polarity_and_scope_come_from_one_reading(
    answer: str, pol: str | None, scope: frozenset[str] | None
) -> None:
    assert polarity(answer) == pol
    assert answer_scope(answer) == scope


@pytest.mark.parametrize("answer", [a for a, _, s in READINGS if s is not None])
def test_a_topic_bound_scope_comes_only_with_a_no_or_a_breathing_sign(answer: str) -> None:
    assert polarity(answer) == "no" or answer_scope(answer) == frozenset({"breathing"})
