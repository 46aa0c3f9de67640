"""Consumer-health passages (MedQuAD): chunking, sections, derived care passages, and the
evaluation's ROUGE-L."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from knowledge.data.kb.make_medquad import clean_answer
from knowledge.kb.evaluate_consumer import rouge_l
from knowledge.kb.sources import CONSUMER, citation
from knowledge.kb.sources import sections as sec
from knowledge.kb.sources.medquad import MedQuADSource, derive, split_text


def test_shipped_file_gives_sectioned_consumer_passages() -> None:
    chunks = list(MedQuADSource(topics={"Common Cold", "Back Pain"}).chunks())
    assert chunks and all(c.collection == CONSUMER and c.audience == "consumer" for c in chunks)
    by_id = {c.id: c for c in chunks}
    cold = by_id["medquad:MPlusHealthTopics_0000223_1"]
    assert cold.title == "Common Cold — Information" and cold.organization == "MedlinePlus"
    assert "What" not in cold.text.split("\n")[0][:5]  # no question wording in the index
    self_care = by_id["medquad:MPlusHealthTopics_0000223_selfcare"]
    assert self_care.section == "self-care" and "- Drinking fluids" in self_care.text
    care = by_id["medquad:MPlusHealthTopics_0000078_care"]
    assert care.section == sec.CARE and "call your health care provider" in care.text
    assert citation(care.metadata()) == "MedlinePlus: Back Pain — When to see a doctor"


def test_sections_from_question_types_labels_and_cues() -> None:
    assert sec.from_qtype("exams and tests") == "diagnosis"
    assert sec.from_qtype("genetic changes") == "causes"
    assert sec.from_qtype("something new") == "information"
    assert (
        sec.normalize("When To See A Doctor") == sec.CARE == sec.normalize("when_to_see_a_doctor")
    )
    assert sec.normalize("nonsense") is None
    assert sec.asked_sections("What should I do about a cold?")[0] == "self-care"
    assert "symptoms" in sec.asked_sections("what are the signs of anemia")
    assert sec.asked_sections("hello") == []


def test_care_rule_needs_an_action_and_a_condition() -> None:
    rule = sec.rules()[sec.CARE]
    assert rule.matches("Call your doctor right away if you have a stiff neck.")
    assert not rule.matches(
        "Talk with your doctor about clinical trials that may be right for you."
    )
    assert not rule.matches("Your doctor may order blood tests.")
    picked = derive(rule, ["See your doctor if you have:\n- fever\n- rash\nRest at home."])
    assert picked == ["See your doctor if you have:", "- fever", "- rash"]


@given(st.text(max_size=3000))
def test_split_text_keeps_every_character_within_limits(text: str) -> None:
    parts = split_text(text, target=200, limit=300)
    assert parts and all(len(p) <= 300 for p in parts)


def test_cleaning_drops_heading_questions_and_joins_bullets() -> None:
    raw = "What causes X? X is caused by Y.     -  one     -  two"
    assert clean_answer(raw, "GARD") == "X is caused by Y.\n- one\n- two"


def test_rouge_l() -> None:
    assert rouge_l("the cat sat", "the cat sat") == (1.0, 1.0)
    recall, f1 = rouge_l("the cat [1]", "the cat sat on the mat")
    assert round(recall, 3) == 0.333 and 0 < f1 < 1
    assert rouge_l("", "x") == (0.0, 0.0)
