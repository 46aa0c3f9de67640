"""The answer answers the question that was asked, in clean sentences: the question's type
steers which passage and sentences are quoted, "nothing of that type" is said plainly, and
headings, list fragments, back-pointing sentences and source reference markers never reach
the reader. Passages as the default knowledge base returns them (tests/tools/answer/passages.py)."""

from __future__ import annotations

from typing import Any

import pytest

from assistant.core.config import Settings
from assistant.core.embeddings import HashingEmbedder
from assistant.core.llm import ScriptedLLM
from assistant.core.schema import ToolCall
from assistant.core.state import empty_case
from assistant.policy import messages
from tests.tools.answer.passages import (
    CFS_GARD,
    GOUT,
    GOUT_TERM,
    KIDNEY_STONES,
    LYME,
    MARFAN_SYMPTOMS,
    SHINGLES_COMPLICATIONS,
)
from tools.answer import build_messages, focus_passages, generate_answer
from tools.answer.quote import asked_type, quote
from tools.base import Resources, ToolContext


def answer(
    settings: Settings,
    question: str,
    passages: list[dict[str, Any]],
    reply: str = "I don't know.",
    mode: str = "clinician",
) -> dict[str, Any]:
    ctx = ToolContext(
        case_id="t",
        mode=mode,
        settings=settings,
        resources=Resources(  # type: ignore[arg-type]
            settings, llm=ScriptedLLM([reply], default="I don't know."), embedder=HashingEmbedder()
        ),
        case=empty_case(mode),  # type: ignore[arg-type]
        load_blob=lambda sha: b"",
    )
    ctx.turn_calls.append(
        ToolCall(name="search_knowledge", args={"query": question}, result={"results": passages})
    )
    return generate_answer.fn(question=question, ctx=ctx)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("question", "key"),
    [
        ("how is gout treated?", "treatment"),
        ("what causes kidney stones?", "causes"),
        ("what are the symptoms of Marfan syndrome?", "symptoms"),
        ("is cystic fibrosis inherited?", "inheritance"),
        ("how can I prevent the flu?", "prevention"),
        ("what is gout?", None),
    ],
)
def test_question_type(question: str, key: str | None) -> None:
    assert asked_type(question) == key


def test_treatment_question_is_not_answered_with_the_definition(settings: Settings) -> None:
    out = answer(settings, "how is gout treated?", GOUT)
    assert out["grounded"] and "You can treat gout with medicines" in out["answer"]
    assert "Recurrent attacks" not in out["answer"]  # the definition answers "what is gout?"
    assert out["method"] == "sentences" and out["note"] is None


def test_no_passage_of_the_asked_type_is_said_plainly(settings: Settings) -> None:
    out = answer(settings, "how is gout treated?", [GOUT_TERM])
    assert out["grounded"] and out["method"] == "other_section"
    assert out["note"] and out["answer"].startswith(out["note"])
    assert '"treatment"' in out["note"] and "Gout" in out["note"]
    assert "Recurrent attacks" in out["answer"]  # labelled as what the sources do say
    assert out["note"] == messages.NO_SECTION.format(section="treatment", topic="Gout")


def test_a_term_named_by_its_synonym_answers_a_causes_question(settings: Settings) -> None:
    out = answer(settings, "what causes kidney stones?", KIDNEY_STONES)
    assert out["grounded"], out["answer"]
    assert "Urinary stone disease is caused by supersaturation" in out["answer"]


def test_treatment_sentences_not_a_sentence_that_merely_mentions_treatment(
    settings: Settings,
) -> None:
    out = answer(settings, "what is the treatment for lyme disease", LYME)
    assert out["grounded"]
    assert not out["answer"].startswith("After treatment")
    assert "Antibiotics can cure most cases of Lyme disease" in out["answer"]
    assert "- " not in out["answer"] and "A fever Lyme" not in out["answer"]


def test_symptom_answer_has_no_heading_and_no_orphan_pointer(settings: Settings) -> None:
    out = answer(settings, "what are the symptoms of Marfan syndrome?", [MARFAN_SYMPTOMS])
    assert out["grounded"] and "Marfan Traits" not in out["answer"]
    assert "This condition is called scoliosis" not in out["answer"]


def test_model_sentences_lose_fused_headings_and_glued_list_items(settings: Settings) -> None:
    reply = (
        "Marfan Traits Marfan syndrome often affects the long bones of the body [1]. "
        "This condition is called scoliosis [1]."
    )
    out = answer(settings, "what are the symptoms of Marfan syndrome?", [MARFAN_SYMPTOMS], reply)
    assert out["answer"].startswith("Marfan syndrome often affects the long bones of the body [1].")
    assert "scoliosis" not in out["answer"]  # its antecedent ("A spine that curves") not shown
    reply = (
        "- A fever Lyme disease can be hard to diagnose because you may not have noticed a "
        "tick bite [1]."
    )
    out = answer(settings, "is lyme disease hard to diagnose?", LYME[2:], reply)
    assert out["answer"].startswith("Lyme disease can be hard to diagnose"), out["answer"]


def test_source_reference_markers_are_not_quoted(settings: Settings) -> None:
    out = answer(settings, "how is chronic fatigue syndrome treated?", [CFS_GARD])
    assert out["grounded"] and "Treatment is largely supportive" in out["answer"]
    assert "9440" not in out["answer"] and "6269" not in out["answer"]


def test_a_list_comes_with_its_introduction_and_no_loose_bullets(settings: Settings) -> None:
    out = answer(settings, "what are the complications of shingles?", [SHINGLES_COMPLICATIONS])
    assert out["grounded"] and " - " not in out["answer"] and "- [" not in out["answer"]


def test_a_lower_ranked_passage_that_answers_the_asked_type_is_used(settings: Settings) -> None:
    # the three best-ranked passages are term definitions; the fourth says how gout is treated
    assert GOUT[3]["section"] == "information" and len(GOUT) == 4
    out = answer(settings, "how is gout treated?", GOUT)
    assert out["citations"][0]["id"] == GOUT[3]["id"]


def test_prompt_keeps_lines_and_drops_headings() -> None:
    focused = focus_passages(
        "what are the symptoms of lyme disease?", [*LYME[2:], MARFAN_SYMPTOMS], budget=400
    )
    prompt = build_messages("q", focused, [], "clinician")[1]["content"]
    assert "A fever Lyme" not in prompt and "Marfan Traits" not in prompt


def test_quote_returns_nothing_when_no_topic_is_named() -> None:
    assert quote("how is asthma treated?", GOUT).sentences == []


def test_prompt_for_a_treatment_question_leads_with_the_treatment_sentences() -> None:
    focused = focus_passages("what is the treatment for lyme disease", LYME, budget=200)
    prompt = build_messages("q", focused, [], "clinician")[1]["content"]
    assert "Antibiotics can cure most cases of Lyme disease" in prompt
    assert "After treatment, some patients" not in prompt


def test_a_loose_list_item_from_the_model_is_not_shown(settings: Settings) -> None:
    reply = "Antibiotics can cure most cases of Lyme disease [3].\n- A fever\n- A stiff neck"
    out = answer(settings, "what is the treatment for lyme disease", LYME, reply)
    assert out["answer"] == "Antibiotics can cure most cases of Lyme disease [1]."


def test_a_model_answer_to_another_question_is_replaced_by_the_sources_answer(
    settings: Settings,
) -> None:
    reply = (
        "After treatment, some patients may still have muscle or joint aches and nervous "
        "system symptoms [1]. This is called post-Lyme disease syndrome (PLDS) [1]."
    )
    out = answer(settings, "what is the treatment for lyme disease", LYME, reply)
    assert out["method"] == "sentences" and not out["answer"].startswith("After treatment")
    assert "Antibiotics can cure most cases of Lyme disease" in out["answer"]
    kept = "Antibiotics can cure most cases of Lyme disease [3]."
    out = answer(settings, "what is the treatment for lyme disease", LYME, kept)
    assert out["method"] == "model"
