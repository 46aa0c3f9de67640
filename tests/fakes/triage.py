"""Intake records for triage unit tests."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from tools.triage import assess
from tools.triage.classifier import Model
from tools.triage.intake import new_intake


def adult_intake(complaint: str) -> dict[str, Any]:
    """A 30-year-old asking for themselves, with one complaint present (said on turn 1)."""
    intake = new_intake()
    intake["subject"] = {
        "who": "self",
        "relation": None,
        "sex": None,
        "age": [30.0, 30.0],
        "age_stated": True,
    }
    intake["facts"] = {complaint: {"status": "present", "turn": 1, "said": ""}}
    return intake


class WordEmbedder:
    """Deterministic unit vectors for the learned safety net's tests: dimension 0 counts the
    "alarm" words, dimension 1 every other word."""

    name = "fake-words"
    dim = 2

    def __init__(self, alarm: Iterable[str] = ("crushing", "collapsed", "worst")) -> None:
        self.alarm = frozenset(alarm)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        rows = []
        for t in texts:
            words = t.lower().split()
            alarm = sum(w.strip(".,!?") in self.alarm for w in words)
            v = np.array([alarm, max(1, len(words) - alarm)], dtype=np.float32)
            rows.append(v / np.linalg.norm(v))
        return np.stack(rows)


def fake_model(*, alarm: float, calm: float, threshold: float, reason: str, **extra: Any) -> Model:
    """A safety-net model over ``WordEmbedder``'s features ([story, sentence mean], 2 each):
    alarm words push to emergency (weight ``alarm``), other words to self care (``calm``)."""
    coef = np.zeros((4, 4), dtype=np.float32)
    coef[0, 0] = coef[0, 2] = alarm
    coef[3, 1] = coef[3, 3] = calm
    fields: dict[str, Any] = {
        "embedder": "fake-words",
        "dim": 2,
        "classes": ("emergency", "urgent", "routine", "self_care"),
        "coef": coef,
        "intercept": np.zeros(4, dtype=np.float32),
        "raise_to": "urgent",
        "positive": ("emergency", "urgent"),
        "threshold": threshold,
        "reason": reason,
    }
    return Model(**{**fields, **extra})


def play(text: str, answers: str | None = None, max_rounds: int = 10) -> dict[str, Any]:
    """``tools.triage.assess`` of ``text``, then ``answers`` to every question asked, for at most
    ``max_rounds`` rounds (the dialogue must end by itself well before that)."""
    from tools.triage import assess

    result = assess(text)
    if answers is not None:
        for _ in range(max_rounds):
            if not result.get("next_questions"):
                break
            result = assess(answers, result["intake"])
    return result


def fact_present(result: dict[str, Any], concept: str) -> bool:
    """Whether the triage result's intake holds ``concept`` as present."""
    return bool(result["intake"]["facts"].get(concept, {}).get("status") == "present")


def asked_topics(result: dict[str, Any]) -> set[str]:
    """The topics of the questions a triage result asks."""
    return {t for q in result["next_questions"] for t in q["topics"]}


def answer_until(result: dict[str, Any], topic: str, answer: str) -> dict[str, Any]:
    """Answer "No." to every question until ``topic`` is asked, then ``answer``."""
    for _ in range(6):
        if topic in asked_topics(result):
            return assess(answer, result["intake"])
        assert result["next_questions"], f"{topic} was never asked: {result['reasons']}"
        result = assess("No.", result["intake"])
    raise AssertionError(f"{topic} was never asked")


def answer_all(result: dict[str, Any], answers: dict[str, str]) -> dict[str, Any]:
    """Answer each asked topic from ``answers`` (else "No.") until the decision is final."""
    for _ in range(6):
        if not result["next_questions"]:
            break
        reply = " ".join(
            ". ".join(answers.get(t, "No") for t in q["topics"]) + "."
            for q in result["next_questions"]
        )
        result = assess(reply, result["intake"])
    return result
