"""Report-level observations: the mapping file, mention status, NegBio-style aggregation, the
CheXpert CSV row; properties over arbitrary entity lists."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge.nlp.observations import (
    FINDINGS,
    LABELS,
    NO_FINDING,
    STATUSES,
    chexpert_row,
    load_rules,
    observations,
    observations_line,
    parse_rules,
    status_map,
)


def ent(normalized: str, text: str | None = None, **flags: Any) -> dict[str, Any]:
    base = {
        "text": text or normalized,
        "label": "FINDING",
        "start": 0,
        "end": len(text or normalized),
        "negated": False,
        "uncertain": False,
        "historical": False,
        "family": False,
        "section": "findings",
        "normalized": normalized,
    }
    return base | flags


def test_shipped_rules_cover_the_14_findings() -> None:
    rules = load_rules()
    mapped = {name for names in rules.by_concept.values() for name in names}
    assert mapped == set(FINDINGS)
    # what a radiologist keeps apart does not count for the finding
    for concept in ("granuloma", "hyperinflation", "chronic obstructive pulmonary disease"):
        assert concept not in rules.by_concept
    assert "scarring" not in rules.by_concept and "nodular opacity" not in rules.by_concept
    assert None in rules.sections and "indication" not in rules.sections


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"findings": {}, "extra": 1}, "unknown key"),
        ({"findings": {"Atelectasis": {"concepts": ["a"], "why": "x"}}}, "missing"),
    ],
)
def test_bad_rules_are_one_clear_error(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_rules(data)


def test_a_finding_needs_concepts_and_a_reason() -> None:
    spec = {f: {"concepts": [f.lower()], "why": "w"} for f in FINDINGS}
    spec["Mass"] = {"concepts": ["mass"]}
    with pytest.raises(ValueError, match="Mass needs concepts and why"):
        parse_rules({"findings": spec})


def test_aggregation_follows_negbio() -> None:
    # negative + uncertain -> uncertain; negative + positive -> positive; none -> absent
    obs = status_map(
        observations(
            [
                ent("pleural effusion", negated=True),
                ent("pleural effusion", uncertain=True, hedges=["possible"]),
                ent("pneumothorax", negated=True),
                ent("atelectasis", negated=True),
                ent("atelectasis"),
            ]
        )
    )
    assert obs["Effusion"] == "uncertain"
    assert obs["Pneumothorax"] == "negative"
    assert obs["Atelectasis"] == "positive"
    assert obs["Edema"] == "absent"
    assert obs[NO_FINDING] == "absent"


def test_probable_hedges_count_as_positive_other_hedges_do_not() -> None:
    assert status_map(observations([ent("atelectasis", uncertain=True, hedges=["likely"])]))[
        "Atelectasis"
    ] == ("positive")
    mixed = ent("atelectasis", uncertain=True, hedges=["may represent", "versus"])
    assert status_map(observations([mixed]))["Atelectasis"] == "uncertain"
    bare = ent("pulmonary edema", uncertain=True)  # uncertain without a named hedge
    assert status_map(observations([bare]))["Edema"] == "uncertain"


def test_sections_history_and_family_are_not_observations() -> None:
    obs = status_map(
        observations(
            [
                ent("pneumonia", section="indication"),
                ent("emphysema", historical=True),
                ent("mass", family=True),
                ent("cardiomegaly", section=None),
            ]
        )
    )
    assert obs["Pneumonia"] == obs["Emphysema"] == obs["Mass"] == "absent"
    assert obs["Cardiomegaly"] == "positive"


def test_not_words_exclude_a_mention() -> None:
    top_normal = ent("cardiomegaly", text="heart size at the upper limits of normal")
    assert status_map(observations([top_normal]))["Cardiomegaly"] == "absent"


def test_no_finding_only_when_nothing_abnormal_is_asserted() -> None:
    negated_only = [ent("pneumothorax", negated=True), ent("acute cardiopulmonary process")]
    assert status_map(observations(negated_only))[NO_FINDING] == "positive"
    granuloma = [ent("granuloma")]  # not one of the 14, still an abnormality
    assert status_map(observations(granuloma))[NO_FINDING] == "absent"
    devices = [dict(ent("chest tube"), label="DEVICE")]
    assert status_map(observations(devices))[NO_FINDING] == "positive"


def test_evidence_and_chexpert_row() -> None:
    obs = observations(
        [
            ent("pleural effusion", text="effusion", start=5, end=13),
            ent("pneumothorax", negated=True),
        ]
    )
    eff = next(o for o in obs if o["finding"] == "Effusion")
    assert eff["evidence"][0] == {
        "text": "effusion",
        "start": 5,
        "end": 13,
        "section": "findings",
        "status": "positive",
    }
    row = chexpert_row(obs)
    assert len(row) == 15 and row[0] == ""  # No Finding first: not normal
    assert row[1 + FINDINGS.index("Effusion")] == "1.0"
    assert row[1 + FINDINGS.index("Pneumothorax")] == "0.0"
    assert row[1 + FINDINGS.index("Mass")] == ""
    line = observations_line(obs)
    assert "Effusion positive" in line and "Pneumothorax negative" in line and "Mass" not in line


FLAGS = st.fixed_dictionaries(
    {
        "normalized": st.sampled_from(
            ["atelectasis", "pleural effusion", "granuloma", "mass", "nodule", "x", ""]
        ),
        "label": st.sampled_from(["FINDING", "ANATOMY", "DEVICE"]),
        "negated": st.booleans(),
        "uncertain": st.booleans(),
        "historical": st.booleans(),
        "family": st.booleans(),
        "section": st.sampled_from([None, "findings", "impression", "indication", "comparison"]),
        "hedges": st.lists(st.sampled_from(["likely", "possible", "versus", "may represent"])),
        "text": st.text(max_size=20),
    }
)


@settings(max_examples=200, deadline=None)
@given(st.lists(FLAGS, max_size=12))
def test_always_one_valid_observation_per_label(ents: list[dict[str, Any]]) -> None:
    obs = observations(ents)
    assert [o["finding"] for o in obs] == list(LABELS)
    assert all(o["status"] in STATUSES for o in obs)
    for o in obs:
        if o["status"] == "absent":
            assert o["evidence"] == []
        else:
            assert o["finding"] == NO_FINDING or o["evidence"]
    if any(o["status"] in ("positive", "uncertain") for o in obs[:-1]):
        assert obs[-1]["status"] == "absent"
