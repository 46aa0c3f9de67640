"""Round 12 part B review mends: each reproducer is the reviewer's case plus a paraphrase in other
words; each asserts at least the level the cited guidance asks for."""

from __future__ import annotations

import pytest

from tests.fakes.triage import answer_all
from tools.triage import assess
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
