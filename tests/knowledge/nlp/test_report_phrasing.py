"""Phrasings of real chest X-ray reports (the OpenI collection) through the real ConText and
section rules, with a tiny lexicon: coordination, XXXX masks, stray headings, hedges, stability
words. Each case is a pattern seen in dev reports, not a report copied from them."""

from __future__ import annotations

from typing import Any

import pytest
from spacy.language import Language

from knowledge.nlp.observations import observations, status_map
from knowledge.nlp.pipeline import analyse, entities
from tests.fakes.nlp import build_test_pipeline

TERMS = [
    ("pleural effusion", "FINDING", "pleural effusion"),
    ("effusion", "FINDING", "pleural effusion"),
    ("effusions", "FINDING", "pleural effusion"),
    ("pneumothorax", "FINDING", "pneumothorax"),
    ("pneumonia", "FINDING", "pneumonia"),
    ("consolidation", "FINDING", "consolidation"),
    ("atelectasis", "FINDING", "atelectasis"),
    ("infiltrate", "FINDING", "infiltrate"),
    ("pulmonary edema", "FINDING", "pulmonary edema"),
    ("edema", "FINDING", "pulmonary edema"),
    ("scarring", "FINDING", "scarring"),
    ("granuloma", "FINDING", "granuloma"),
    ("nodule", "FINDING", "nodule"),
    ("heart", "ANATOMY", "heart"),
    ("heart size", "ANATOMY", "heart"),
    ("cardiomegaly", "FINDING", "cardiomegaly"),
]


@pytest.fixture(scope="module")
def nlp() -> Language:
    return build_test_pipeline(TERMS)


def statuses(nlp: Language, text: str) -> dict[str, str]:
    return status_map(observations(entities(nlp(text))))


def by_text(nlp: Language, text: str) -> dict[str, dict[str, Any]]:
    return {e["text"]: e for e in entities(nlp(text))}


def test_negation_spreads_over_a_coordinated_list(nlp: Language) -> None:
    st = statuses(nlp, "FINDINGS: No focal consolidation, pleural effusion, or pneumothorax.")
    assert st["Consolidation"] == st["Effusion"] == st["Pneumothorax"] == "negative"
    st = statuses(nlp, "FINDINGS: There is no visible pleural effusion or pneumothorax.")
    assert st["Effusion"] == st["Pneumothorax"] == "negative"


def test_negation_stops_at_the_sentence_and_at_but(nlp: Language) -> None:
    st = statuses(nlp, "FINDINGS: No pneumothorax. Right and left effusions.")
    assert st["Pneumothorax"] == "negative" and st["Effusion"] == "positive"
    st = statuses(nlp, "FINDINGS: No pneumothorax but there is a small effusion.")
    assert st["Pneumothorax"] == "negative" and st["Effusion"] == "positive"


def test_xxxx_masks_do_not_break_predicates_or_negation(nlp: Language) -> None:
    st = statuses(nlp, "FINDINGS: The heart XXXX is slightly large. No XXXX infiltrate.")
    assert st["Cardiomegaly"] == "positive" and st["Infiltration"] == "negative"
    st = statuses(nlp, "FINDINGS: Heart size XXXX borderline enlarged.")
    assert st["Cardiomegaly"] == "positive"


def test_hedges(nlp: Language) -> None:
    st = statuses(nlp, "IMPRESSION: Left basilar opacity may represent pneumonia.")
    assert st["Pneumonia"] == "uncertain"
    st = statuses(nlp, "IMPRESSION: Cannot exclude a small effusion.")
    assert st["Effusion"] == "uncertain"
    st = statuses(nlp, "IMPRESSION: Bibasilar opacities, likely atelectasis.")
    assert st["Atelectasis"] == "positive"  # "likely" reads as probable (NegBio/CheXpert)
    ents = by_text(nlp, "IMPRESSION: Bibasilar opacities, likely atelectasis.")
    assert ents["atelectasis"]["uncertain"] and ents["atelectasis"]["hedges"] == ["likely"]
    # a bare differential counts; a hedged one does not, for every alternative
    st = statuses(nlp, "IMPRESSION: Minimal basilar atelectasis versus infiltrate.")
    assert st["Atelectasis"] == st["Infiltration"] == "positive"
    st = statuses(nlp, "IMPRESSION: Opacity may represent atelectasis versus edema or pneumonia.")
    assert st["Atelectasis"] == st["Edema"] == st["Pneumonia"] == "uncertain"
    st = statuses(nlp, "IMPRESSION: Consider CT to exclude pneumonia.")
    assert st["Pneumonia"] == "uncertain"  # hypothetical, not negated
    st = statuses(nlp, "IMPRESSION: Pulmonary edema difficult to entirely exclude.")
    assert st["Edema"] == "uncertain"


def test_stability_words_keep_a_finding_present(nlp: Language) -> None:
    ents = by_text(nlp, "FINDINGS: Stable right pleural effusion. Unchanged cardiomegaly.")
    assert not ents["pleural effusion"]["negated"] and ents["pleural effusion"]["change"] == (
        "unchanged"
    )
    assert not ents["cardiomegaly"]["negated"]
    st = statuses(nlp, "FINDINGS: The effusion has resolved. Pneumothorax is not seen.")
    assert st["Effusion"] == st["Pneumothorax"] == "negative"


def test_within_normal_limits_negates_backwards_only_nearby(nlp: Language) -> None:
    st = statuses(nlp, "FINDINGS: Heart size and pulmonary edema appear within limits of normal.")
    assert st["Edema"] == "negative"


def test_a_stray_heading_does_not_swallow_the_findings(nlp: Language) -> None:
    text = "FINDINGS: Chest  Comparison: none. There is a small effusion.\n\nIMPRESSION: Effusion."
    ents = [e for e in entities(nlp(text)) if e["label"] == "FINDING"]
    assert [e["section"] for e in ents] == [None, "impression"]
    assert statuses(nlp, text)["Effusion"] == "positive"


def test_request_text_is_not_an_observation(nlp: Language) -> None:
    text = "INDICATION: Cough, rule out pneumonia.\n\nFINDINGS: Lungs are clear."
    assert statuses(nlp, text)["Pneumonia"] == "absent"


def test_granuloma_and_scarring_are_not_the_14(nlp: Language) -> None:
    st = statuses(nlp, "FINDINGS: Calcified granuloma. Apical scarring.")
    assert st["Nodule"] == "absent" and st["Fibrosis"] == "absent" and st["No Finding"] == "absent"


def test_analyse_returns_observations(nlp: Language) -> None:
    out = analyse(nlp, "FINDINGS: No pneumonia.")
    pneumonia = next(o for o in out["observations"] if o["finding"] == "Pneumonia")
    assert pneumonia["status"] == "negative" and pneumonia["evidence"][0]["text"] == "pneumonia"
