"""The second reader on report observations (with the old findings path as fallback)."""

from __future__ import annotations

from typing import Any

import pytest

from knowledge.nlp.observations import LABELS
from tools.imaging import registry
from tools.imaging.pipeline import second_reader

CXR = registry.get("cxr-pneumonia.v1")
BRAIN = registry.get("mri-brain-tumour.v1")


def obs(**statuses: str) -> list[dict[str, Any]]:
    """Observations for all labels; the named ones get a status and one quoted mention."""
    out = []
    for name in LABELS:
        status = statuses.get(name.replace(" ", "_"), "absent")
        evidence = [] if status == "absent" else [{"text": name.lower(), "status": status}]
        out.append({"finding": name, "status": status, "evidence": evidence})
    return out


@pytest.mark.parametrize(
    ("observations", "label", "disagree", "phrase"),
    [
        (obs(Pneumonia="negative"), "PNEUMONIA", True, "report says no pneumonia"),
        (obs(Consolidation="positive"), "NORMAL", True, "report describes consolidation"),
        (obs(Pneumonia="positive"), "PNEUMONIA", False, "Agrees with the report (pneumonia)"),
        (obs(Pneumonia="negative"), "NORMAL", False, "Agrees with the report (no pneumonia)"),
        (obs(Pneumonia="uncertain"), "NORMAL", False, "uncertain about pneumonia"),
        (obs(Pneumonia="uncertain", Consolidation="negative"), "PNEUMONIA", False, "uncertain"),
        (obs(No_Finding="positive"), "PNEUMONIA", True, "describes no abnormal finding"),
        (obs(Effusion="positive"), "PNEUMONIA", False, "does not mention"),
        (obs(Effusion="positive"), "NORMAL", False, "does not mention"),
    ],
)
def test_second_reader_on_observations(
    observations: list[dict[str, Any]], label: str, disagree: bool, phrase: str
) -> None:
    line, flag = second_reader(CXR, label, 0.91, [], observations)
    assert flag is disagree and phrase in (line or ""), line
    assert f"{label} 0.91" in (line or "")


def test_observations_win_over_raw_findings() -> None:
    # the entity list alone would read "pneumonia" as present; the observation says negative
    findings = [{"text": "pneumonia", "label": "FINDING", "negated": False}]
    line, flag = second_reader(CXR, "PNEUMONIA", 0.9, findings, obs(Pneumonia="negative"))
    assert flag and "says no pneumonia" in (line or "")


def test_fallbacks_keep_the_old_behaviour() -> None:
    findings = [{"text": "consolidation", "label": "FINDING", "negated": True}]
    assert second_reader(CXR, "PNEUMONIA", 0.9, findings)[1] is True  # positional, no obs
    assert second_reader(CXR, "NORMAL", 0.9, []) == (None, False)
    # a model without an observation mapping uses the findings
    line, flag = second_reader(BRAIN, "glioma", 0.8, [], obs(Mass="positive"))
    assert (line, flag) == (None, False)
