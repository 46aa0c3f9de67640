from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge.nlp.gold import load_gold, parse_markup, render_markup, score


def test_parse_markup_offsets_and_modifiers() -> None:
    text, ents = parse_markup("No [[pneumothorax|FINDING|neg]]. Small [[effusion|FINDING]].")
    assert text == "No pneumothorax. Small effusion."
    assert [(text[e["start"] : e["end"]], e["negated"]) for e in ents] == [
        ("pneumothorax", True),
        ("effusion", False),
    ]


@pytest.mark.parametrize("bad", ["[[x|DISEASE]]", "[[x|FINDING|maybe]]"])
def test_parse_markup_rejects_unknown_labels_and_modifiers(bad: str) -> None:
    with pytest.raises(ValueError, match="valid"):
        parse_markup(bad)


words = st.text(alphabet=st.sampled_from(list("abc .\n")), min_size=1, max_size=8)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(words, words, st.sampled_from(["FINDING", "ANATOMY"]), st.booleans()), max_size=6
    ),
    words,
)
def test_markup_round_trip(parts: list[tuple[str, str, str, bool]], tail: str) -> None:
    marked = (
        "".join(f"{pre}[[{ent}|{lab}{'|neg' if neg else ''}]]" for pre, ent, lab, neg in parts)
        + tail
    )
    text, ents = parse_markup(marked)
    assert render_markup(text, ents) == marked
    assert parse_markup(render_markup(text, ents)) == (text, ents)


def _e(start: int, end: int, label: str = "FINDING", **mods: bool) -> dict:
    return {
        "start": start,
        "end": end,
        "label": label,
        "text": "",
        "negated": False,
        "uncertain": False,
        "historical": False,
        "family": False,
        **mods,
    }


def test_score_exact_overlap_and_negation() -> None:
    docs = [
        {
            "id": "d",
            "text": "x" * 40,
            "entities": [_e(0, 10, negated=True), _e(20, 30), _e(32, 36, "ANATOMY")],
        }
    ]
    pred = [[_e(0, 10, negated=True), _e(22, 30, negated=True), _e(37, 39, "ANATOMY")]]
    res = score(docs, pred)
    assert res["exact"]["FINDING"]["f1"] == 0.5
    assert res["overlap"]["FINDING"]["f1"] == 1.0
    assert res["overlap"]["ANATOMY"]["f1"] == 0.0
    assert res["modifiers"]["negated"]["accuracy"] == 0.5
    assert res["modifiers"]["negated"]["n"] == 2


def test_shipped_gold_set_is_consistent() -> None:
    dev, test = load_gold("dev"), load_gold("test")
    assert not {d["id"] for d in dev} & {d["id"] for d in test}
    all_docs = dev + test
    assert sum(d["source"].startswith("radlabels") for d in all_docs) >= 40
    assert sum(d["source"] == "written" for d in all_docs) >= 60
    for d in all_docs:
        for e in d["entities"]:
            assert d["text"][e["start"] : e["end"]] == e["text"] and e["text"].strip() == e["text"]
    with pytest.raises(ValueError, match="unknown split"):
        load_gold("train")
