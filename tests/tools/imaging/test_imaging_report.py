"""The machine draft report: built from the structured result only, every sentence marked, no
finding the model did not output, zones and sides by the frontal-film convention."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tools.imaging import registry
from tools.imaging.io import LoadedImage
from tools.imaging.pipeline import second_reader
from tools.imaging.report import HEADER, MARK, draft, hedge, quality, region, sentences, technique

# Chest X-ray findings a draft could wrongly name (CheXpert's 14 observations and common
# synonyms; Irvin et al., AAAI 2019). Only the model's own finding may appear in model lines.
FINDINGS = (
    "pneumonia", "consolidation", "opacity", "opacities", "infiltrate", "effusion",
    "pneumothorax", "cardiomegaly", "enlarged cardiomediastinum", "edema", "oedema",
    "atelectasis", "lesion", "nodule", "mass", "fracture", "pleural thickening", "emphysema",
    "fibrosis", "hernia", "support device", "tube", "catheter", "collapse",
)  # fmt: skip
WORD = re.compile(r"\b(" + "|".join(re.escape(f) for f in FINDINGS) + r")\b", re.I)
CXR = registry.get("cxr-pneumonia.v1")


def _result(p: float, **over: Any) -> dict[str, Any]:
    res: dict[str, Any] = {
        "label": "PNEUMONIA" if p >= 0.5 else "NORMAL",
        "probabilities": {"NORMAL": round(1 - p, 4), "PNEUMONIA": round(p, 4)},
        "model": "cxr-pneumonia.vX@test",
        "in_distribution": True,
        "calibrated": True,
        "needs_review": False,
        "comparison": None,
        "image": {"format": "png", "width": 900, "height": 800},
        "quality": {"issues": []},
        "region": None,
    }
    res.update(over)
    return res


def _cam(rows: slice, cols: slice, size: int = 8) -> np.ndarray:
    cam = np.zeros((size, size), np.float32)
    cam[rows, cols] = 1.0
    return cam


def test_region_uses_the_patients_side_and_zones() -> None:
    # hot in the image's LEFT lower part = the patient's RIGHT lower zone on a frontal film
    reg = region(_cam(slice(6, 8), slice(1, 3)))
    assert reg is not None and reg["focal"] and reg["side"] == "right" and reg["zones"] == ["lower"]
    reg = region(_cam(slice(0, 2), slice(5, 7)))
    assert reg is not None and reg["side"] == "left" and reg["zones"] == ["upper"]
    both = region(_cam(slice(3, 5), slice(0, 8)))
    assert both is not None and not both["focal"] and both["side"] == "bilateral"
    assert region(np.ones((8, 8), np.float32))["focal"] is False  # type: ignore[index]
    assert region(None) is None and region(np.zeros((4, 4), np.float32)) is None


def test_quality_flags_small_flat_and_clipped_images() -> None:
    rng = np.random.default_rng(0)
    good = LoadedImage(pixels=rng.uniform(20, 235, (600, 500)).astype(np.float32), source="png")
    assert quality(good)["issues"] == []
    flat = LoadedImage(pixels=np.full((200, 200), 120, np.float32) + rng.normal(0, 3, (200, 200)).astype(np.float32), source="png")  # fmt: skip
    issues = " ".join(quality(flat)["issues"])
    assert "low resolution" in issues and "low contrast" in issues
    dark = LoadedImage(pixels=np.zeros((400, 400), np.float32), source="png")
    assert any("clipped" in i for i in quality(dark)["issues"])


def test_technique_from_dicom_tags_or_says_it_is_unknown() -> None:
    text = technique({"format": "dicom", "modality": "CR", "view": "PA", "body_part": "CHEST", "width": 10, "height": 10})  # fmt: skip
    assert "computed radiography" in text and "posteroanterior (PA)" in text and "DICOM" in text
    assert "not recorded" in technique({"format": "jpeg", "width": 224, "height": 224})


def test_hedging_follows_the_probability_bands() -> None:
    assert hedge(0.95, "pneumonia").startswith("appearances suggestive of")
    assert hedge(0.75, "pneumonia") == "possible pneumonia"
    assert hedge(0.5, "pneumonia") == "indeterminate for pneumonia"
    assert hedge(0.2, "pneumonia") == "pneumonia unlikely"
    assert hedge(0.02, "pneumonia").startswith("no pneumonia")


def test_draft_text_lines_and_refusals() -> None:
    reg = region(_cam(slice(6, 8), slice(1, 3)))
    d = draft(_result(0.93, region=reg, needs_review=True))
    assert d is not None
    assert d["text"].splitlines()[0] == HEADER
    assert "right lower zone" in d["text"] and "0.93" in d["text"]
    assert "clinician review is flagged" in d["text"]
    assert {ln["section"] for ln in d["lines"]} >= {"technique", "findings", "impression"}
    assert draft(_result(0.9, in_distribution=False, probabilities={})) is None
    low = draft(_result(0.04, region=reg))
    assert low is not None and "zone" not in low["text"]  # no region for an unlikely finding


REPORT_FINDINGS = st.lists(
    st.fixed_dictionaries(
        {
            "text": st.sampled_from(
                ["consolidation", "pleural effusion", "opacity", "pneumonia", "pneumothorax"]
            ),
            "negated": st.booleans(),
            "uncertain": st.booleans(),
        }
    ),
    max_size=3,
)


@hsettings(max_examples=150, deadline=None)
@given(
    st.floats(0.0, 1.0),
    st.sampled_from([None, "focal", "bilateral", "diffuse"]),
    st.booleans(),
    st.sampled_from(["png", "jpeg", "dicom"]),
    REPORT_FINDINGS,
    st.lists(st.sampled_from(["low resolution (100x100 pixels)", "low contrast"]), max_size=2),
)
def test_draft_names_no_finding_the_model_did_not_output(
    p: float,
    cam_kind: str | None,
    review: bool,
    fmt: str,
    findings: list[dict[str, Any]],
    issues: list[str],
) -> None:
    cams = {
        "focal": _cam(slice(5, 8), slice(5, 7)),
        "bilateral": _cam(slice(2, 6), slice(0, 8)),
        "diffuse": np.ones((8, 8), np.float32),
    }
    reg = region(cams[cam_kind]) if cam_kind else None
    label = "PNEUMONIA" if p >= 0.5 else "NORMAL"
    comparison, _ = second_reader(CXR, label, max(p, 1 - p), findings)
    image = {"format": fmt, "width": 512, "height": 512}
    if fmt == "dicom":
        image.update(modality="DX", view="AP")
    result = _result(
        p,
        region=reg,
        needs_review=review,
        comparison=comparison,
        image=image,
        quality={"issues": issues},
    )
    d = draft(result)
    assert d is not None
    lines = d["text"].splitlines()
    assert lines[0] == HEADER
    assert all(line.startswith(MARK + " ") for line in lines[1:])  # every sentence is marked
    assert len(sentences(d["text"])) >= len(lines) - 1
    report_terms = {str(f["text"]).lower() for f in findings}
    for ln in d["lines"]:
        named = {m.lower() for m in WORD.findall(ln["text"])}
        if ln["source"] == "report":  # the second reader quotes the report's own findings
            assert all(any(n in t for t in report_terms) or n == "pneumonia" for n in named), ln
        else:  # everything else may only name the model's finding
            assert named <= {"pneumonia"}, ln
    if p <= 0.30:
        assert "zone" not in d["text"]
