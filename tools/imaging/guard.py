"""The out-of-scope guard: decide which model (if any) an image is for, or say why none is.

Three layers, cheapest first; the first that objects gives the reason:

1. DICOM tags (when present): Modality routes (CR/DX -> chest X-ray, MR -> brain MRI; CT, US,
   NM, OT, ... -> no model), BodyPartExamined must match (an extremity CR is not a chest film),
   ViewPosition must be frontal for the chest model (lateral -> out of scope).
2. Pixel content: blank images, colour photographs/illustrations, pixel noise.
3. Feature similarity: cosine similarity of the image's Xception feature vector (global-average
   pooled last feature map, the same frozen ImageNet base in both packaged models) to the
   centroid of each domain's reference images (the packaged samples). Below ``MIN_SIMILARITY``
   for every domain -> out of scope; otherwise the nearest domain.

What it cannot do (measured in docs/EVALUATION.md): PNG/JPEG exports of other cross-sectional
images (abdominal MR, CT) resemble the brain MRI references, so without DICOM tags they can
reach the brain model; a lateral chest film without a ViewPosition tag is not recognised.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tools.imaging.io import LoadedImage

# Cosine similarity to a domain centroid needed to accept an image for that domain. Chosen on
# the development images listed in docs/IMAGING.md: packaged CXR samples (leave-one-out
# 0.67–0.88), the adult chest CR RG1 (0.59) vs. every out-of-scope image (<= 0.50 to the CXR
# centroid). The brain threshold is the same; see the module docstring for its weakness.
MIN_SIMILARITY = {"cxr": 0.55, "brain-mri": 0.55}
MIN_SIDE_FOR_MODEL = 128  # below this a 150x150 model input is an upscaled thumbnail
COLOUR_LIMIT = 12.0  # mean |R-G|+|G-B| (0–255 scale) above which an image is a colour picture
NOISE_CORR_LIMIT = 0.5  # neighbouring-pixel correlation below this looks like noise
BLANK_STD = 2.0

DOMAIN_NAMES = {"cxr": "frontal chest X-rays", "brain-mri": "axial brain MRI slices"}
DICOM_MODALITY_DOMAIN = {"CR": "cxr", "DX": "cxr", "DR": "cxr", "RG": "cxr", "MR": "brain-mri"}
DOMAIN_BODY_PARTS = {"cxr": ("CHEST", "THORAX", "LUNG"), "brain-mri": ("HEAD", "BRAIN", "SKULL")}
FRONTAL_VIEWS = ("PA", "AP", "APS", "PAS", "")
MODALITY_NAMES = {
    "CT": "a CT image",
    "US": "an ultrasound image",
    "NM": "a nuclear medicine image",
    "PT": "a PET image",
    "MG": "a mammogram",
    "XA": "an angiography image",
    "OT": "a secondary-capture image",
    "SEG": "a segmentation object",
    "RTDOSE": "a radiotherapy dose map",
}


@dataclass
class Verdict:
    in_distribution: bool
    domain: str | None
    reason: str | None = None
    check: str = ""  # which layer decided: dicom, content, features
    similarity: dict[str, float] = field(default_factory=dict)


def check_tags(image: LoadedImage) -> Verdict | None:
    """Layer 1. Returns a rejection, or a domain restriction (in_distribution True, check
    'dicom'), or None when the image carries no DICOM tags."""
    if image.source != "dicom":
        return None
    modality = image.modality or ""
    domain = DICOM_MODALITY_DOMAIN.get(modality)
    if domain is None:
        what = MODALITY_NAMES.get(modality, f"a DICOM image of modality {modality or 'unknown'}")
        return Verdict(
            False,
            None,
            f"this is {what}; no model here was made for it (only "
            "frontal chest X-rays and axial brain MRI)",
            "dicom",
        )
    part = image.body_part or ""
    if part and part not in DOMAIN_BODY_PARTS[domain]:
        return Verdict(
            False,
            None,
            f"this is {modality} of the {part.lower()}; the model for "
            f"{modality} is made for {DOMAIN_NAMES[domain]}",
            "dicom",
        )
    if domain == "cxr" and (image.view or "") not in FRONTAL_VIEWS:
        return Verdict(
            False,
            None,
            f"this chest film is a {image.view} view; the chest model is "
            "made for frontal (PA/AP) views only",
            "dicom",
        )
    return Verdict(True, domain, None, "dicom")


def check_content(image: LoadedImage) -> Verdict | None:
    """Layer 2: blank, colour, noise, thumbnail. None when nothing objects."""
    if min(image.height, image.width) < MIN_SIDE_FOR_MODEL:
        return Verdict(
            False,
            None,
            f"the image is only {image.width}x{image.height} pixels; "
            f"the models need at least {MIN_SIDE_FOR_MODEL} pixels on each side",
            "content",
        )
    gray = _small_gray(image)
    if float(gray.std()) < BLANK_STD:
        return Verdict(False, None, "the image is blank (a single flat value)", "content")
    if image.is_color:
        px = image.pixels
        colour = float(np.mean(np.abs(px[..., 0] - px[..., 1]) + np.abs(px[..., 1] - px[..., 2])))
        if colour > COLOUR_LIMIT:
            return Verdict(
                False,
                None,
                "it is a colour picture (a photograph, illustration or "
                "colour Doppler); radiographs and MRI slices are grayscale",
                "content",
            )
    corr = neighbour_correlation(gray)
    if corr < NOISE_CORR_LIMIT:
        return Verdict(
            False,
            None,
            f"it looks like noise, not anatomy (neighbouring pixels correlate {corr:.2f})",
            "content",
        )
    return None


def check_features(
    features: np.ndarray, centroids: dict[str, np.ndarray], allowed: str | None = None
) -> Verdict:
    """Layer 3: nearest domain centroid by cosine similarity, if it clears its threshold."""
    v = features / (np.linalg.norm(features) + 1e-12)
    sims = {d: float(v @ c) for d, c in centroids.items()}
    candidates = [allowed] if allowed else list(sims)
    best = max(candidates, key=lambda d: sims[d])
    rounded = {d: round(s, 3) for d, s in sims.items()}
    if sims[best] < MIN_SIMILARITY[best]:
        what = " or ".join(DOMAIN_NAMES[d] for d in candidates)
        return Verdict(
            False,
            None,
            f"it does not resemble the {what} the models were made for "
            f"(similarity {sims[best]:.2f}, needs {MIN_SIMILARITY[best]:.2f})",
            "features",
            rounded,
        )
    return Verdict(True, best, None, "features", rounded)


def centroid(features: np.ndarray) -> np.ndarray:
    """Unit-length mean of unit-length feature rows."""
    f = features / (np.linalg.norm(features, axis=1, keepdims=True) + 1e-12)
    c = f.mean(axis=0)
    return np.asarray(c / (np.linalg.norm(c) + 1e-12))


def neighbour_correlation(gray: np.ndarray) -> float:
    """Mean correlation of horizontally and vertically adjacent pixels (anatomy ~0.9, noise ~0)."""
    g = gray.astype(np.float64)
    vals = []
    for a, b in ((g[:, :-1], g[:, 1:]), (g[:-1, :], g[1:, :])):
        a0, b0 = a - a.mean(), b - b.mean()
        den = float(np.sqrt((a0 * a0).sum() * (b0 * b0).sum()))
        vals.append(float((a0 * b0).sum()) / den if den > 0 else 1.0)
    return float(np.mean(vals))


def _small_gray(image: LoadedImage, side: int = 256) -> np.ndarray:
    from PIL import Image

    gray = np.clip(image.gray(), 0, 255).astype(np.uint8)
    h, w = gray.shape
    scale = side / max(h, w)
    if scale >= 1:
        return gray.astype(np.float32)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(gray).resize(size, Image.Resampling.BOX), dtype=np.float32)
