"""The display gate: a passage-cited sentence is shown only in the passage's own words."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.core.config import Settings
from assistant.core.llm import ScriptedLLM
from assistant.evals.claim_check import grounded
from tests.fakes.tools import answer_ctx
from tools.answer import generate_answer
from tools.verbatim import Verbatim, copied, strip_heading, units_of

NOONAN = {
    "id": "medquad:GARD_1",
    "title": "Noonan syndrome — Information",
    "topic": "Noonan syndrome",
    "section": "information",
    "citation": "GARD: Noonan syndrome — Information",
    "text": "Noonan syndrome is a genetic disorder that prevents normal development in various "
    "parts of the body. A person can be affected in a wide variety of ways.\n"
    "Signs include\n- a short stature\n- heart defects",
}


def test_a_restated_heading_is_cut_off() -> None:
    said = "Noonan syndrome — Information: Noonan syndrome is a genetic disorder."
    assert strip_heading(said, NOONAN) == "Noonan syndrome is a genetic disorder."
    gate = Verbatim.of([NOONAN])
    assert gate.display(said, NOONAN) == "Noonan syndrome is a genetic disorder."
    assert gate.stripped == 1
    # a sentence that merely starts with a word of the title keeps it
    assert strip_heading("Noonan syndrome: features vary.", {"title": "Asthma"}) == (
        "Noonan syndrome: features vary."
    )


def test_a_paraphrase_is_replaced_by_the_source_sentence_it_restates() -> None:
    gate = Verbatim.of([NOONAN])
    shown = gate.display(
        "Noonan syndrome is a genetic condition that stops normal development in many parts "
        "of the body.",
        NOONAN,
    )
    assert shown == (
        "Noonan syndrome is a genetic disorder that prevents normal development in various "
        "parts of the body."
    )
    assert gate.snapped == 1
    # the same source sentence is not shown twice; something the passage does not say, never
    assert gate.display("Noonan syndrome is a genetic disorder.", NOONAN) is not None
    assert gate.display("It is a rare genetic disorder of development.", NOONAN) is None
    assert gate.display("It is cured by surgery in most children.", NOONAN) is None
    assert gate.rejected


def test_a_list_introduction_brings_its_items() -> None:
    units = units_of(NOONAN["text"])
    assert units[-1].text == "Signs include" and units[-1].items == [
        "a short stature",
        "heart defects",
    ]
    gate = Verbatim.of([NOONAN])
    assert gate.display("Signs include short stature and heart problems.", NOONAN) == (
        "Signs include: a short stature; heart defects."
    )


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "the",
                "heart",
                "a",
                "is",
                "disorder",
                "genetic",
                "can",
                "body",
                "of",
                "12",
                "pain",
                "parts",
            ]
        ),
        max_size=14,
    ),
    st.text(alphabet="abcdefgh .,:-\n0123456789", max_size=300),
)
def test_whatever_is_shown_passes_the_independent_check(said: list[str], text: str) -> None:
    passage = {"id": "p", "title": "T — Information", "text": text + " the heart is a body part."}
    shown = Verbatim.of([passage]).display(" ".join(said) + ".", passage)
    if shown is not None:
        assert copied(shown, passage["text"])
        assert grounded(f"{shown[:-1]} [1].", {1: passage["text"]})[1] == 0


def test_a_model_answer_that_restates_the_heading_is_shown_clean(settings: Settings) -> None:
    """The unsupported sentences of the first real-model run: the heading was shown."""
    llm = ScriptedLLM(
        [
            "Noonan syndrome — Information: Noonan syndrome is a genetic disorder that prevents "
            "normal development in various parts of the body [1]. See your doctor. You should "
            "ask a doctor about it."
        ]
    )
    ctx = answer_ctx(settings, llm, "patient", {"results": [NOONAN], "abstain": False})
    out = generate_answer.fn(question="What is Noonan syndrome?", ctx=ctx)
    assert out["grounded"] and out["method"] == "model"
    assert out["answer"] == (
        "Noonan syndrome is a genetic disorder that prevents normal development in various "
        "parts of the body [1]. See your doctor."
    )
    assert grounded(out["answer"], {1: NOONAN["text"]})[1] == 0
    assert out["support"]["verbatim"]["heading_stripped"] == 1
