"""A machine draft in radiology style, built only from structured results.

Inputs are what the pipeline measured: DICOM tags (technique, view), pixel statistics (quality),
the chest model's calibrated probability (finding, hedged), the Grad-CAM map (region, when it
is focal) and the second reader's comparison with the case's report. No language model writes
or edits the text: every sentence comes from a template below and is filled with those values,
so it cannot say more than the structured result holds. Every sentence is marked as a machine
draft for a clinician to review.

Conventions (fixed rules, not tuned on any test set):
- Hedging bands on the calibrated probability of the positive class: >= 0.90 "suggestive of",
  >= 0.70 "possible", > 0.30 "indeterminate for", > 0.10 "unlikely", else "no ... identified".
- Zones: the image is split into halves (sides) and thirds of its height (upper/mid/lower):
  an approximation of lung zones, not a segmentation. Frontal films are displayed with the
  patient's right on the image's left, so the image's left half is the patient's RIGHT.
- Focal: the hot part of the map (>= half its maximum) covers at most ``FOCAL_MAX_AREA`` of the
  image and at least ``FOCAL_SIDE_SHARE`` of it lies on one side.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from tools.imaging.io import LoadedImage

MARK = "[machine draft]"
HEADER = (
    "MACHINE DRAFT from the image model, for a clinician to review. Not a radiology report "
    "and not a diagnosis."
)
FOCAL_MAX_AREA = 0.30
FOCAL_SIDE_SHARE = 0.75
ZONE_SHARE = 0.25  # a zone is named when it holds at least this share of the hot area
ZONES = ("upper", "mid", "lower")
# What each chest model's positive class is called in the draft (the only finding it names).
FINDING_NAMES = {"PNEUMONIA": "pneumonia", "NORMAL": "pneumonia"}
MODALITY_WORDS = {
    "CR": "computed radiography (CR)",
    "DX": "digital radiography (DX)",
    "DR": "digital radiography (DR)",
    "RG": "radiographic film (RG)",
}
VIEW_WORDS = {"PA": "posteroanterior (PA)", "AP": "anteroposterior (AP)"}


# -- structured measurements ---------------------------------------------------------------------
def quality(image: LoadedImage) -> dict[str, Any]:
    """Pixel statistics a reader would glance at: size, dynamic range, clipping, brightness.
    Central 80 % only for clipping/brightness (borders and collimation are often black)."""
    gray = np.clip(image.gray(), 0, 255)
    h, w = gray.shape
    centre = gray[h // 10 : h - h // 10, w // 10 : w - w // 10]
    p1, p99 = (float(v) for v in np.percentile(gray, [1, 99]))
    clipped = float(np.mean((centre <= 1) | (centre >= 254)))
    mean = float(centre.mean())
    issues = []
    if min(h, w) < 256:
        issues.append(f"low resolution ({w}x{h} pixels)")
    if p99 - p1 < 80:
        issues.append(f"low contrast (1st-99th percentile range {p99 - p1:.0f} of 255)")
    if clipped > 0.2:
        issues.append(f"{clipped:.0%} of the central image is clipped to black or white")
    if mean < 40 or mean > 215:
        issues.append(f"the central image is very {'dark' if mean < 40 else 'bright'}")
    return {
        "width": w,
        "height": h,
        "dynamic_range": round(p99 - p1, 1),
        "clipped_fraction": round(clipped, 4),
        "central_mean": round(mean, 1),
        "issues": issues,
    }


def region(cam: np.ndarray | None) -> dict[str, Any] | None:
    """Where the Grad-CAM map points, in image halves x thirds; ``focal`` per the module rules.
    ``side`` is the PATIENT's side (image left = patient right on a frontal film)."""
    if cam is None or cam.size == 0 or float(np.max(cam)) <= 0:
        return None
    from PIL import Image

    up = np.asarray(
        Image.fromarray(np.clip(cam, 0, 1).astype(np.float32)).resize(
            (60, 60), Image.Resampling.BILINEAR
        )
    )
    hot = up >= 0.5 * float(up.max())
    area = float(hot.mean())
    total = float(hot.sum())
    image_left = float(hot[:, :30].sum()) / total
    side_share = max(image_left, 1 - image_left)
    side = "right" if image_left >= 0.5 else "left"  # image left half = patient's right
    cols = slice(0, 30) if side == "right" else slice(30, 60)
    zone_mass = [float(hot[i * 20 : (i + 1) * 20, cols].sum()) for i in range(3)]
    side_total = sum(zone_mass) or 1.0
    zones = [ZONES[i] for i in range(3) if zone_mass[i] / side_total >= ZONE_SHARE]
    focal = area <= FOCAL_MAX_AREA and side_share >= FOCAL_SIDE_SHARE
    return {
        "focal": focal,
        "side": side if focal else ("bilateral" if side_share < FOCAL_SIDE_SHARE else side),
        "zones": zones if focal else [],
        "hot_area": round(area, 3),
        "side_share": round(side_share, 3),
    }


def technique(image: dict[str, Any]) -> str:
    """One sentence from the DICOM tags, or what the file says when there are none."""
    fmt = str(image.get("format") or "image").upper()
    size = f"{image.get('width')}x{image.get('height')} pixels"
    if image.get("format") == "dicom":
        parts = ["Chest radiograph"]
        modality = image.get("modality")
        if modality:
            parts.append(MODALITY_WORDS.get(modality, f"modality {modality}"))
        view = image.get("view")
        parts.append(f"{VIEW_WORDS.get(view, view)} view" if view else "view not recorded")
        body = image.get("body_part")
        if body:
            parts.append(f"body part {str(body).lower()}")
        return f"Technique: {', '.join(parts)} (from the DICOM tags); {size}."
    return (
        f"Technique: {fmt} image, {size}; projection and technique are not recorded (no DICOM "
        "tags); the model assumes a frontal chest film."
    )


def hedge(p: float, finding: str) -> str:
    """Radiology hedging for a calibrated probability of ``finding``."""
    if p >= 0.90:
        return f"appearances suggestive of {finding}"
    if p >= 0.70:
        return f"possible {finding}"
    if p > 0.30:
        return f"indeterminate for {finding}"
    if p > 0.10:
        return f"{finding} unlikely"
    return f"no {finding} pattern identified by the model"


def _where(reg: dict[str, Any] | None) -> str:
    if not reg or not reg.get("focal"):
        return ""
    zones = reg["zones"]
    named = " and ".join([", ".join(zones[:-1]), zones[-1]] if len(zones) > 1 else zones)
    return f"{reg['side']} {named} zone{'s' if len(zones) > 1 else ''}"


# -- the draft -----------------------------------------------------------------------------------
def draft(result: dict[str, Any], positive: str = "PNEUMONIA") -> dict[str, Any] | None:
    """The draft for an in-scope chest result (None otherwise): ``lines`` (section, text,
    source) and ``text`` (the header, then one marked sentence per line)."""
    if not result.get("in_distribution") or positive not in result.get("probabilities", {}):
        return None
    finding = FINDING_NAMES.get(positive, positive.lower())
    p = float(result["probabilities"][positive])
    cal = "calibrated" if result.get("calibrated") else "uncalibrated"
    lines: list[dict[str, str]] = []

    def add(section: str, text: str, source: str) -> None:
        lines.append({"section": section, "text": text, "source": source})

    image = result.get("image") or {}
    add("technique", technique(image), "dicom" if image.get("format") == "dicom" else "file")
    q = result.get("quality") or {}
    if q:
        add(
            "quality",
            "Quality (automated, from pixel statistics): "
            + ("; ".join(q["issues"]) if q["issues"] else "no problem detected")
            + "; rotation, inspiration and penetration are not assessed.",
            "pixels",
        )
    wording = hedge(p, finding)
    add(
        "findings",
        f"Findings: {wording[0].upper()}{wording[1:]} "
        f"(model probability of {finding} {p:.2f}, {cal}).",
        "model",
    )
    reg = result.get("region")
    where = _where(reg)
    if p > 0.30 and where:
        add(
            "findings",
            f"The model's evidence (Grad-CAM) is concentrated in the {where} "
            "(approximate zones; image left = patient's right).",
            "model",
        )
    elif p > 0.30 and reg:
        add("findings", "The model's evidence (Grad-CAM) is not focal.", "model")
    impression = wording if not (p > 0.30 and where) else f"{wording}, {where}"
    tail = (
        "; clinician review is flagged" if result.get("needs_review") else "; correlate clinically"
    )
    add("impression", f"Impression: {impression[0].upper()}{impression[1:]}{tail}.", "model")
    comparison = result.get("comparison")
    add(
        "comparison",
        f"Comparison with the report: {comparison}"
        if comparison
        else "Comparison with the report: this case has no report findings to compare with.",
        "report" if comparison else "fixed",
    )
    add(
        "scope",
        f"Scope: {result.get('model')} only separates a {finding} pattern from normal on frontal "
        "pediatric chest films; it does not assess any other finding.",
        "fixed",
    )
    text = "\n".join([HEADER, *(f"{MARK} {ln['text']}" for ln in lines)])
    return {"lines": lines, "text": text, "finding": finding, "probability": round(p, 4)}


_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def sentences(text: str) -> list[str]:
    """The draft's sentences (the header excluded), for checks that each one is marked."""
    out = []
    for line in text.splitlines()[1:]:
        out += [s for s in _SENTENCE.split(line.strip()) if s]
    return out
