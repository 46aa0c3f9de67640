"""The versioned classifier registry: ``name.vN`` -> what the model is, where its weights come
from, how its input is prepared, which images it was made for, and its calibration.

A new version is a new entry (never an edit of an old one): results name the exact version
(``"model": "cxr-pneumonia.v1@xception-pneumonia-0.3.0"``), so a stored case says which model
produced it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.errors import ToolUnavailableError


@dataclass(frozen=True)
class ClassifierEntry:
    name: str
    version: int
    model_id: str  # an id in assistant/data/models.yaml (fetched with `clinassist models fetch`)
    domain: str  # what the out-of-scope guard checks for: "cxr" or "brain-mri"
    description: str
    classes: tuple[str, ...]
    modalities: tuple[str, ...]  # DICOM Modality values this model is for
    body_parts: tuple[str, ...]  # DICOM BodyPartExamined values (when the tag is present)
    views: tuple[str, ...]  # DICOM ViewPosition values accepted (when present); () = any
    input_size: int = 150
    preprocessing: str = "xception"  # nearest resize, x / 127.5 - 1
    positive: str | None = None  # the class used for sensitivity/specificity/AUC
    # Temperature scaling fitted by `clinassist eval image` on the packaged held-out images
    # (see docs/models/): divide the logits by this before the softmax.
    temperature: float = 1.0
    calibration_n: int = 0
    # Below this top-class probability the result carries needs_review: true.
    review_below: float = 0.80
    card: str = ""
    samples: str = "samples"  # folder (inside the fetched model dir) of labelled sample images
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.name}.v{self.version}"

    @property
    def label(self) -> str:
        """``name.vN@weights`` as shown in results."""
        return f"{self.key}@{self.model_id}"


REGISTRY: dict[str, ClassifierEntry] = {
    e.key: e
    for e in (
        ClassifierEntry(
            name="cxr-pneumonia",
            version=1,
            model_id="xception-pneumonia-0.3.0",
            domain="cxr",
            description="Frontal chest X-ray, NORMAL vs PNEUMONIA (Keras Xception, pediatric training data)",
            classes=("NORMAL", "PNEUMONIA"),
            modalities=("CR", "DX", "DR", "RG"),
            body_parts=("CHEST", "THORAX", "LUNG"),
            views=("PA", "AP", "APS", "PAS"),
            positive="PNEUMONIA",
            temperature=1.0,
            calibration_n=0,
            card="docs/models/cxr-pneumonia.v1.md",
        ),
        ClassifierEntry(
            name="mri-brain-tumour",
            version=1,
            model_id="xception-braintumor-0.2.0",
            domain="brain-mri",
            description="Axial brain MRI slice: glioma, meningioma, no tumour, pituitary (Keras Xception)",
            classes=("glioma", "meningioma", "notumor", "pituitary"),
            modalities=("MR",),
            body_parts=("HEAD", "BRAIN", "SKULL"),
            views=(),
            positive=None,
            temperature=1.0,
            calibration_n=0,
            card="docs/models/mri-brain-tumour.v1.md",
        ),
    )
}
DEFAULT = "cxr-pneumonia.v1"


def get(key: str) -> ClassifierEntry:
    if key not in REGISTRY:
        raise ToolUnavailableError(f"unknown image model {key!r}; known: {', '.join(REGISTRY)}")
    return REGISTRY[key]


def for_domain(domain: str) -> ClassifierEntry:
    for entry in REGISTRY.values():
        if entry.domain == domain:
            return entry
    raise ToolUnavailableError(f"no image model for {domain}")


def model_dir(settings: Settings, entry: ClassifierEntry) -> Path:
    """The fetched, checksum-verified folder of an entry, or ToolUnavailableError saying how to
    fetch it."""
    from assistant import models

    specs = models.catalogue()
    spec = specs[entry.model_id]
    path = models.model_path(settings, spec)
    if not models._is_verified(path, spec):
        raise ToolUnavailableError(
            f"the image model {entry.key} is not fetched yet: run `clinassist models fetch "
            f"{entry.model_id}` (or `clinassist models fetch --role image`)"
        )
    return path


def samples(settings: Settings, entry: ClassifierEntry) -> list[tuple[Path, str]]:
    """The packaged labelled sample images (path, label), sorted, from the fetched folder."""
    root = model_dir(settings, entry) / entry.samples
    out: list[tuple[Path, str]] = []
    for label in entry.classes:
        for p in sorted((root / label).glob("*")):
            if p.suffix.lower() in (".jpg", ".jpeg", ".png"):
                out.append((p, label))
    return out
