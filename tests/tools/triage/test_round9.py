"""Round 9's mechanisms. Each case is written from the guidance the rule cites, in words of its
own (not copied from any vignette): a person telling of a health problem in patient mode always
reaches triage and gets a level (erection problems, hearing going, an older person's fall)."""

from __future__ import annotations

import pytest

from assistant.policy.safety import ethics_violation
from tools.triage import assess
from tools.triage.parse import mentions_symptoms

# ---- 1. a patient's story always gets a level (the issue: never a bare definition)

STORIES = [
    # NHS Erection problems: lay words and a question about the tablets
    (
        "can't seem to get it up lately, I'm 60 with high blood pressure, would viagra be ok?",
        "routine",
    ),
    # NICE NG98: gradual hearing loss, told by a relative asking how to get it checked
    (
        "my mum turns the radio up really loud now and asks us to repeat everything, can we get her hearing tested?",
        "routine",
    ),
    # NICE NG249: an older person's fall with no injury
    ("grandad had a small fall in the garden this morning, no injuries, he's 88", "routine"),
]


@pytest.mark.parametrize(("text", "level"), STORIES)
def test_a_story_about_a_health_problem_is_triaged(text: str, level: str) -> None:
    assert mentions_symptoms(text)
    r = assess(text)
    assert r["level"] is not None
    for _ in range(6):
        if not r["next_questions"]:
            break
        r = assess("No.", r["intake"])
    assert r["level"] == level


def test_a_question_about_a_test_for_someone_is_a_story() -> None:
    assert mentions_symptoms("how do we get my dad's eyesight checked? he keeps missing the kerb")


def test_hurting_oneself_in_a_fall_is_not_a_wish_to_harm() -> None:
    assert (
        ethics_violation("she slipped on the stairs but didn't hurt herself, got up on her own")
        is None
    )
    assert ethics_violation("how do I hurt her without anyone noticing") is not None
