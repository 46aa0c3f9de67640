from __future__ import annotations

import pytest
from spacy.language import Language

from knowledge.nlp.pipeline import analyse, config_from_dict, entities, looks_english, summary


def ents_by_text(nlp: Language, text: str) -> dict[str, dict]:
    return {e["text"]: e for e in entities(nlp(text))}


def test_contract_fields_and_offsets(tiny_nlp: Language) -> None:
    text = "FINDINGS: No pneumothorax. Small left pleural effusion."
    ents = entities(tiny_nlp(text))
    assert [e["text"] for e in ents] == ["pneumothorax", "pleural effusion"]
    for e in ents:
        assert text[e["start"] : e["end"]] == e["text"]
        assert set(e) >= {
            "text",
            "label",
            "start",
            "end",
            "negated",
            "uncertain",
            "historical",
            "family",
            "section",
            "normalized",
            "code",
        }
    ptx, eff = ents
    assert ptx["negated"] and not eff["negated"]
    assert eff["laterality"] == "left" and eff["severity"] == "small"
    assert ptx["section"] == eff["section"] == "findings"


def test_negation_does_not_cross_sentences(tiny_nlp: Language) -> None:
    e = ents_by_text(tiny_nlp, "No pneumothorax.\nThere is a pleural effusion.")
    assert e["pneumothorax"]["negated"] and not e["pleural effusion"]["negated"]


def test_uncertainty_hypothetical_and_history(tiny_nlp: Language) -> None:
    e = ents_by_text(
        tiny_nlp,
        "INDICATION: History of lung cancer. Evaluate for pneumonia.\nIMPRESSION: Atelectasis, possibly consolidation.",
    )
    assert e["lung cancer"]["historical"] and not e["lung cancer"]["negated"]
    assert e["pneumonia"]["uncertain"] and e["pneumonia"]["section"] == "indication"
    assert e["consolidation"]["uncertain"] and not e["Atelectasis"]["uncertain"]
    assert e["Atelectasis"]["section"] == "impression"


def test_resolved_and_removed_are_negated(tiny_nlp: Language) -> None:
    e = ents_by_text(
        tiny_nlp, "The pleural effusion has resolved. The chest tube has been removed."
    )
    assert e["pleural effusion"]["negated"] and e["chest tube"]["negated"]


def test_family_history(tiny_nlp: Language) -> None:
    e = ents_by_text(tiny_nlp, "Family history of lung cancer.")
    assert e["lung cancer"]["family"]


def test_term_wrapped_over_a_line_break(tiny_nlp: Language) -> None:
    text = "transfer for shock and respiratory\n failure. // interval change?"
    ent = [x for x in entities(tiny_nlp(text)) if x["normalized"] == "respiratory failure"]
    assert len(ent) == 1 and ent[0]["text"] == "respiratory\n failure"


def test_predicate_finding_and_measurement(tiny_nlp: Language) -> None:
    ents = entities(tiny_nlp("The heart is moderately enlarged. A 1.2 x 0.8 cm effusion."))
    assert ents[0]["label"] == "FINDING" and ents[0]["text"] == "heart is moderately enlarged"
    assert ents[0]["normalized"] == "cardiomegaly"
    meas = [e for e in ents if e["label"] == "MEASUREMENT"]
    assert [m["text"] for m in meas] == ["1.2 x 0.8 cm"]
    eff = next(e for e in ents if e["normalized"] == "pleural effusion")
    assert eff["size"] == "1.2 x 0.8 cm"


def test_defined_abbreviation_takes_long_form_concept(tiny_nlp: Language) -> None:
    ents = entities(tiny_nlp("Small pleural effusion (PE) on the left. The PE is unchanged."))
    short = [e for e in ents if e["text"] == "PE"]
    assert short and all(
        e["normalized"] == "pleural effusion" and e["label"] == "FINDING" for e in short
    )
    assert all(e.get("expanded") == "pleural effusion" for e in short)


def test_summary_groups() -> None:
    ents = [
        {
            "label": "FINDING",
            "normalized": "pleural effusion",
            "negated": False,
            "uncertain": False,
            "historical": False,
            "family": False,
            "severity": "small",
            "laterality": "left",
        },
        {
            "label": "FINDING",
            "normalized": "pneumothorax",
            "negated": True,
            "uncertain": False,
            "historical": False,
            "family": False,
        },
        {
            "label": "FINDING",
            "normalized": "pneumonia",
            "negated": False,
            "uncertain": True,
            "historical": False,
            "family": False,
        },
        {
            "label": "DEVICE",
            "normalized": "chest tube",
            "negated": False,
            "uncertain": False,
            "historical": False,
            "family": False,
        },
    ]
    assert (
        summary(ents)
        == "Positive: small left pleural effusion / Negated: pneumothorax / Uncertain: pneumonia / Devices: chest tube"
    )
    assert summary([]) == "Positive: none / Negated: none / Uncertain: none"


def test_analyse_flags_review(tiny_nlp: Language) -> None:
    ok = analyse(tiny_nlp, "FINDINGS: No pneumothorax. Small left pleural effusion.")
    assert ok["needs_review"] is False and ok["summary"].startswith(
        "Positive: small left pleural effusion"
    )
    foreign = analyse(
        tiny_nlp, "Der Patient hat keine Beschwerden und wurde entlassen heute morgen."
    )
    assert foreign["needs_review"] is True
    assert "the text does not look like an English report" in foreign["review_reasons"]
    unsure = analyse(tiny_nlp, "Findings may represent pneumonia.")
    assert (
        unsure["needs_review"]
        and "some findings are stated with uncertainty" in unsure["review_reasons"]
    )


def test_looks_english() -> None:
    assert looks_english("There is no pleural effusion and the lungs are clear.")
    assert not looks_english("Пациент без жалоб, выписан домой.")
    assert not looks_english("12345 ---- ####")


def test_config_rejects_unknown_keys() -> None:
    with pytest.raises(ValueError, match="valid keys"):
        config_from_dict({"sentencer": "rules"})
    assert config_from_dict(
        {"sentencizer": "pyrush", "lexicon_sources": ["radiology"]}
    ).lexicon_sources == ("radiology",)
