"""The full pipeline on the held-out gold split meets the issue's targets (slow: real lexicons)."""

from __future__ import annotations

import pytest

from assistant.core.config import Settings
from knowledge.nlp import load_pipeline
from knowledge.nlp.gold import load_gold, score
from knowledge.nlp.pipeline import entities


@pytest.mark.slow
def test_held_out_targets(settings: Settings) -> None:
    nlp = load_pipeline(settings)
    docs = load_gold("test")
    res = score(docs, [entities(d) for d in nlp.pipe(x["text"] for x in docs)])
    assert res["overlap"]["FINDING"]["f1"] >= 0.85
    assert res["modifiers"]["negated"]["accuracy"] >= 0.95
