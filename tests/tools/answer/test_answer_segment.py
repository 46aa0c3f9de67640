"""Passage segmentation (tools/answer/segment.py): headings, list items and sentences are
separate units; reference markers removed; fragments and anaphora recognised."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.tools.answer.passages import LYME, MARFAN_SYMPTOMS, SHINGLES_COMPLICATIONS
from tools.answer.segment import anaphoric, antecedent, strip_references, tidy, units


def test_heading_is_its_own_unit_and_never_fused() -> None:
    us = units(MARFAN_SYMPTOMS["text"])
    assert [u.text for u in us if u.kind == "heading"] == ["Marfan Traits"]
    assert not any(u.text.startswith("Marfan Traits ") for u in us)
    intro = next(u for u in us if u.text.startswith("This can lead to signs"))
    assert intro.intro  # introduces the unmarked items that follow
    items = [u.text for u in us if u.kind == "item"]
    assert "A tall, thin build." in items and "Flat feet." in items


def test_list_items_are_not_glued_to_the_next_sentence() -> None:
    us = units(LYME[2]["text"])
    items = [u.text for u in us if u.kind == "item"]
    assert items == ["A fever", "A headache", "Muscle and joint aches", "A stiff neck", "Fatigue"]
    assert next(u for u in us if u.text.startswith("As the infection spreads")).intro
    assert any(u.text.startswith("Lyme disease can be hard") and u.kind == "sentence" for u in us)


def test_inline_items_after_a_sentence() -> None:
    us = units(SHINGLES_COMPLICATIONS["text"])
    assert [u.kind for u in us[-3:]] == ["sentence", "item", "item"]
    assert us[-3].intro and not us[-1].text.startswith("-")


def test_abbreviations_do_not_end_a_sentence() -> None:
    us = units("Ask Dr. Smith about it, e.g. at a visit. Then rest.")
    assert [u.text for u in us] == ["Ask Dr. Smith about it, e.g. at a visit.", "Then rest."]


def test_reference_markers_are_removed_but_not_citations() -> None:
    assert (
        strip_references("is limited.[9440] Treatment helps.[1,2]")
        == "is limited. Treatment helps."
    )
    assert strip_references("drained with a tube [1].") == "drained with a tube [1]."


def test_tidy_cuts_fragments_off_the_front() -> None:
    text = MARFAN_SYMPTOMS["text"]
    fused = "Marfan Traits Marfan syndrome often affects the long bones of the body."
    assert tidy(fused, text) == "Marfan syndrome often affects the long bones of the body."
    lyme = LYME[2]["text"]
    glued = "- A fever Lyme disease can be hard to diagnose because you may not have noticed a tick bite."
    assert tidy(glued, lyme).startswith("Lyme disease can be hard")  # type: ignore[union-attr]
    assert tidy("- A fever", lyme) is None
    assert tidy("Fatigue is common in Lyme disease.", lyme) == "Fatigue is common in Lyme disease."


def test_anaphora_and_antecedent() -> None:
    assert anaphoric("This condition is called scoliosis.")
    assert anaphoric("These include fever.") and anaphoric("However, most get better.")
    assert not anaphoric("Thiamine deficiency causes beriberi.")
    assert not anaphoric("These resources address the management of X: Gene Review; Drugs.")
    text = MARFAN_SYMPTOMS["text"]
    assert antecedent("This condition is called scoliosis.", text) is not None
    assert antecedent("Marfan syndrome can affect many parts of the body.", text) is None


_LINE = st.text(
    alphabet=st.sampled_from(list("abcdefg ABC.,:;-[]0123456789")), min_size=0, max_size=60
)


@given(st.lists(_LINE, min_size=0, max_size=8))
def test_units_are_single_line_pieces_of_the_text(lines: list[str]) -> None:
    text = "\n".join(lines)
    clean = strip_references(text)
    for u in units(text):
        assert "\n" not in u.text and u.text.strip() == u.text and u.text
        assert u.kind in ("heading", "item", "sentence")
        assert u.text in clean


def test_a_list_after_a_colon_on_one_line_and_the_end_of_an_unmarked_list() -> None:
    us = units("Common symptoms are: - being very thirsty - frequent urination\nRest.")
    assert [u.text for u in us if u.kind == "item"] == ["being very thirsty", "frequent urination"]
    text = (
        "The three main causes of anemia are:\nBlood loss\nLack of red blood cell production\n"
        "Blood Loss\nBlood loss is the most common cause of anemia, especially iron-deficiency "
        "anemia, and it can be short term or long term."
    )
    kinds = {u.text: u.kind for u in units(text)}
    assert kinds["Blood loss"] == "item" and kinds["Blood Loss"] == "heading"


def test_a_cue_word_inside_a_name_does_not_count() -> None:
    from tools.answer.quote import speaks_of

    assert speaks_of("Prevention is the best approach.", "prevention")
    assert speaks_of("You can prevent tick bites.", "prevention")
    assert not speaks_of("See the Centers for Disease Control and Prevention.", "prevention")
