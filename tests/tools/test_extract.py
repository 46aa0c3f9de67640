"""The declined-question fallback: best-matching section of the best-matching topic, and the
patient-mode care sentences."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from assistant.core.config import Settings
from assistant.core.llm import ScriptedLLM
from tests.fakes.tools import answer_ctx
from tools.answer import care_sentences, content_words, generate_answer
from tools.base import ToolContext
from tools.extract import pick, quote, section_sentences

COLD = [
    {
        "id": "mq:cold-1",
        "title": "Common Cold — Information",
        "topic": "Common Cold",
        "section": "information",
        "text": "Sneezing and a stuffy nose are symptoms of the common cold. It is common.\n"
        "There is no cure for the common cold. For relief, try\n- Getting plenty of rest\n"
        "- Drinking fluids\nHowever, do not give aspirin to children.",
    },
    {
        "id": "mq:cold-selfcare",
        "title": "Common Cold — Self-care",
        "topic": "Common Cold",
        "section": "self-care",
        "text": "For relief, try\n- Getting plenty of rest\n- Drinking fluids",
    },
]
CARE = {
    "id": "mq:cold-care",
    "title": "Common Cold — When to see a doctor",
    "topic": "Common Cold",
    "section": "when-to-see-a-doctor",
    "text": "See your doctor if you have:\n- a fever that lasts more than 4 days\n- trouble breathing",
}


def test_the_asked_section_of_the_named_topic_is_quoted_with_its_list() -> None:
    out, kind = section_sentences("What should I do about a cold?", COLD, content_words)
    assert kind == "section"
    assert out == ["For relief, try: Getting plenty of rest; Drinking fluids. [2]"]
    assert pick("what is the common cold?", COLD, content_words) == 0


def test_a_question_naming_no_topic_gets_nothing() -> None:
    assert section_sentences("is my tap water safe?", COLD[1:], content_words) == ([], "")


@given(st.text(max_size=80), st.text(max_size=400))
def test_quotes_only_words_of_the_passage(question: str, text: str) -> None:
    passage = {"title": "Asthma — Treatment", "section": "treatment", "text": text}
    for sentence in quote(question, passage, 1, content_words):
        assert sentence.endswith("[1]")
        assert content_words(sentence.removesuffix("[1]")) <= content_words(text)


def test_care_sentences_join_the_list_to_its_introduction() -> None:
    assert care_sentences(CARE["text"], 3) == [
        "See your doctor if you have: a fever that lasts more than 4 days; trouble breathing. [3]"
    ]


def test_patient_answer_adds_the_topics_care_advice(settings: Settings) -> None:
    llm = ScriptedLLM([], default="I don't know.")
    ctx = answer_ctx(settings, llm, "patient", {"results": COLD, "abstain": False, "care": CARE})
    out = generate_answer.fn(question="What should I do about a cold?", ctx=ctx)
    assert out["grounded"] and out["method"] == "section"
    assert "Drinking fluids [1]." in out["answer"] and "trouble breathing [2]." in out["answer"]
    assert [c["id"] for c in out["citations"]] == ["mq:cold-selfcare", "mq:cold-care"]
    assert isinstance(out["reading_grade"], float)


PLEURA = {
    "id": "mq:pleurisy-causes",
    "title": "Pleurisy and Other Pleural Disorders — Causes",
    "topic": "Pleurisy and Other Pleural Disorders",
    "section": "causes",
    "citation": "NHLBI: Pleurisy and Other Pleural Disorders — Causes",
    "text": "Many conditions can cause a pleural effusion. Heart failure is the most common "
    "cause. Cancer, pneumonia and pulmonary embolism can also cause it.",
}


def _clinician(settings: Settings, results: list[dict[str, Any]]) -> ToolContext:
    llm = ScriptedLLM([], default="Lupus [1].")
    return answer_ctx(settings, llm, "clinician", {"results": results, "abstain": False})


def test_a_differential_question_says_there_is_no_differential_source(settings: Settings) -> None:
    """No clinical differential source: say so, and quote the causes a page lists, cited."""
    ctx = _clinician(settings, [COLD[0], PLEURA])
    out = generate_answer.fn(
        question="What is the differential for a unilateral pleural effusion?", ctx=ctx
    )
    assert out["method"] == "differential" and out["grounded"] and out["needs_review"]
    assert out["answer"].startswith("Not a differential diagnosis")
    assert "Heart failure is the most common cause [1]." in out["answer"]
    assert "Lupus" not in out["answer"]  # the model is not asked
    assert [c["id"] for c in out["citations"]] == ["mq:pleurisy-causes"]
    none = generate_answer.fn(
        question="ddx of a unilateral pleural effusion?", ctx=_clinician(settings, COLD)
    )
    assert not none["grounded"] and none["citations"] == []
    assert none["answer"].startswith("I can't give a differential")
