"""Warning signs told in lay words (NHS wording of a fit; C-SSRS preparatory acts), and who is
ill deciding whether home care is advice at all. Each case failed on the code before it."""

from __future__ import annotations

import pytest

from tests.fakes.triage import play as _play
from tools.triage import assess


@pytest.mark.parametrize(
    ("text", "level"),
    [
        # a first fit in a feverish toddler, described as a parent sees it
        (
            "my son is 3 and he had a temperature, then he went stiff and his arms were jerking "
            "and his eyes rolled back, he has never done it before",
            "emergency",
        ),
        ("my 2 week old has a red sticky eye", "urgent"),
        # NHS Pre-eclampsia's words: swelling of the face and hands, seeing flashing lights
        (
            "I'm 34 weeks pregnant with a bad headache, my face and feet are really puffy and I keep "
            "seeing sparkly lights",
            "urgent",
        ),
        # a scald told by what happened, with the NHS's blistering and white skin
        (
            "my son knocked the kettle off the side and it went all over his legs, the skin is white "
            "with big blisters",
            "emergency",
        ),
    ],
)
def test_lay_descriptions_after_a_no_to_every_question(text: str, level: str) -> None:
    assert _play(text, "No.")["level"] == level


@pytest.mark.parametrize(
    "text",
    [
        "I've been saving up my tablets for a month and I know what I'm going to do",
        "I have written goodbye letters to my kids. nobody will miss me",
        "I have saved up enough of my sleeping pills to do it",
        "hoarding my insulin for weeks now",
    ],
)
def test_preparing_for_suicide_is_an_emergency_at_once(text: str) -> None:
    result = assess(text)
    assert result["level"] == "emergency" and not result["provisional"]


def test_a_tired_child_is_not_sent_home_care_as_an_adult_would_be() -> None:
    assert _play("my 4 year old has been really tired", "No.")["level"] != "self_care"
    assert _play("I'm 40 and I've been really tired for a week", "No.")["level"] == "self_care"


@pytest.mark.parametrize(
    "text",
    [
        "the condom broke last night and she told me afterwards she has HIV, what do I do",
        "I'm a nurse and got a needlestick injury from a used needle an hour ago",
    ],
)
def test_a_possible_hiv_exposure_is_seen_the_same_day(text: str) -> None:
    assert _play(text, "No.")["level"] == "urgent"
