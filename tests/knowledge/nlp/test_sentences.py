from __future__ import annotations

import spacy
from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge.nlp.components import split_sentences

NLP = spacy.blank("en")


def sents(text: str) -> list[str]:
    return [s.text.strip() for s in split_sentences(NLP.make_doc(text)).sents if s.text.strip()]


def test_headers_lists_and_wrapped_lines() -> None:
    text = "INDICATION: Cough.\n\nFINDINGS: No effusion. Mild\n edema noted.\nIMPRESSION:\n1. Edema.\n2. No effusion."
    assert sents(text) == [
        "INDICATION:",
        "Cough.",
        "FINDINGS:",
        "No effusion.",
        "Mild\n edema noted.",
        "IMPRESSION:",
        "1. Edema.",
        "2. No effusion.",
    ]


def test_mimic_separator_and_lowercase_continuation() -> None:
    assert sents("man with cough // eval for pneumonia") == [
        "man with cough",
        "// eval for pneumonia",
    ]
    assert sents("at 4:45 p.m. and then") == ["at 4:45 p.m. and then"]


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab .:\n/-1AB")), max_size=80))
def test_any_text_gets_sentences_covering_every_token(text: str) -> None:
    doc = split_sentences(NLP.make_doc(text))
    if len(doc):
        assert doc[0].is_sent_start
        assert sum(len(s) for s in doc.sents) == len(doc)
