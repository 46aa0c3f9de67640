"""Image -> guard -> model -> calibrated probabilities -> Grad-CAM PNG -> second-reader note.

:class:`ImagingEngine` holds the loaded models and the guard's reference centroids; build it
once per process (``tools.image`` keeps it in ``ctx.resources``).
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.core.config import Settings
from tools.imaging import guard, registry
from tools.imaging import report as draft_report
from tools.imaging.io import LoadedImage
from tools.imaging.model import Classifier, Output, PackagedXception, TorchClassifier, softmax

GUARD_VERSION = "guard.v1"


@dataclass
class Loaded:
    entry: registry.ClassifierEntry
    model: Classifier
    digest: str


class ImagingEngine:
    """The registry's models, loaded lazily (each once), plus the guard's references."""

    def __init__(
        self, settings: Settings, resources: Any = None, cxr_model: str | None = None
    ) -> None:
        self.settings = settings
        self.resources = resources  # tools.base.Resources: models live there as "image.<key>"
        # The chest model to use instead of the registry default (a registry key), if any.
        self.cxr_model = cxr_model
        self._models: dict[str, Loaded] = {}
        self._lock = threading.Lock()
        self._centroids: dict[str, np.ndarray] | None = None

    # -- models -----------------------------------------------------------------------------
    def model(self, key: str) -> Loaded:
        """A registry entry's model, loaded on first use (``image.<key>`` in the resources)."""
        if self.resources is not None:
            loaded: Loaded = self.resources.get(f"image.{key}", lambda: self._load(key))
            return loaded
        with self._lock:
            if key not in self._models:
                self._models[key] = self._load(key)
            return self._models[key]

    def _load(self, key: str) -> Loaded:
        entry = registry.get(key)
        if entry.bundled:
            clf = TorchClassifier(registry.weights_path(entry))
            if clf.classes != entry.classes:
                from assistant.core.errors import ModelError

                raise ModelError(f"{entry.key}: checkpoint classes {clf.classes} != registry")
            return Loaded(entry, clf, entry.sha256)
        folder = registry.model_dir(self.settings, entry)
        model = PackagedXception(folder / "model.keras", entry.classes, entry.input_size)
        return Loaded(entry, model, model.base_digest())

    def router(self) -> Loaded:
        """The model whose features the guard uses (the packaged Xception's ImageNet base)."""
        return self.model(registry.GUARD_MODEL)

    def entry_for(self, domain: str, model: str | None = None) -> registry.ClassifierEntry:
        """The model an in-scope image of ``domain`` goes to: ``model`` if it is for that
        domain, else this engine's chest override, else the registry default."""
        if model and registry.get(model).domain == domain:
            return registry.get(model)
        return registry.for_domain(domain, self.cxr_model if domain == "cxr" else None)

    # -- guard references ---------------------------------------------------------------------
    def centroids(self) -> dict[str, np.ndarray]:
        if self._centroids is None:
            self._centroids = {d: guard.centroid(f) for d, f in self.reference_features().items()}
        return self._centroids

    def reference_features(self) -> dict[str, np.ndarray]:
        """Router features of every packaged sample, per domain; cached on disk by model digest."""
        router = self.router()
        cache = self._reference_cache(router)
        if cache.is_file():
            with np.load(cache) as data:
                return {str(k): np.asarray(data[k]) for k in data.files}
        from tools.imaging.io import load_image

        out: dict[str, np.ndarray] = {}
        for entry in registry.REGISTRY.values():
            if entry.bundled or entry.domain in out:  # the packaged samples are the references
                continue
            feats = []
            for path, _label in registry.samples(self.settings, entry):
                img = load_image(path.read_bytes(), path.name)
                feats.append(router.model.run(router.model.prepare(img)).features)
            out[entry.domain] = np.stack(feats)
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_name(f"{cache.stem}.{os.getpid()}.tmp.npz")
            np.savez(tmp, **out)
            tmp.replace(cache)
        except OSError:  # a read-only cache only costs recomputation next time
            pass
        return out

    def _reference_cache(self, router: Loaded) -> Path:
        """Beside the fetched model (shared by every data dir) when writable, else data_dir."""
        name = f"{GUARD_VERSION}-{router.digest[:16]}.npz"
        folder = registry.model_dir(self.settings, router.entry)
        if os.access(folder, os.W_OK):
            return folder / name
        return self.settings.data_dir / "imaging" / name

    # -- one image ----------------------------------------------------------------------------
    def classify(
        self,
        image: LoadedImage,
        *,
        heatmap: bool = True,
        heatmap_path: Path | None = None,
        name: str = "image",
        findings: list[dict[str, Any]] | None = None,
        centroids: dict[str, np.ndarray] | None = None,
        model: str | None = None,
        draft: bool = False,
        observations: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """The tool's result dict (see tools/image.py). ``model``: a registry key to use for
        its domain; ``draft``: add the machine draft report (chest X-rays)."""
        base: dict[str, Any] = {
            "label": None,
            "probabilities": {},
            "model": None,
            "in_distribution": False,
            "heatmap": None,
            "needs_review": False,
            "calibrated": False,
            "reason": None,
            "comparison": None,
            "image": image.describe(),
        }
        verdict = guard.check_tags(image)
        allowed = verdict.domain if verdict and verdict.in_distribution else None
        if verdict is not None and not verdict.in_distribution:
            return _reject(base, verdict)
        content = guard.check_content(image)
        if content is not None:
            return _reject(base, content)
        router = self.router()
        want_cam = heatmap or draft
        # Grad-CAM in the guard's pass only when the guard's model will also give the label.
        router_cam = want_cam and self.entry_for("cxr", model).key == router.entry.key
        out = router.model.run(router.model.prepare(image), "top" if router_cam else None)
        feat_verdict = guard.check_features(out.features, centroids or self.centroids(), allowed)
        base["guard"] = {"check": feat_verdict.check, "similarity": feat_verdict.similarity}
        if not feat_verdict.in_distribution:
            return _reject(base, feat_verdict)
        entry = self.entry_for(feat_verdict.domain or "", model)
        loaded = self.model(entry.key)
        if loaded is not router or (want_cam and out.cam is None):
            out = loaded.model.run(
                loaded.model.prepare(image), cam_class="top" if want_cam else None
            )
        result = self._result(
            base, loaded, image, out, heatmap, heatmap_path, name, findings, observations
        )
        if entry.domain == "cxr" and entry.positive:
            result["quality"] = draft_report.quality(image)
            pos = entry.classes.index(entry.positive)
            cam = None
            if want_cam and result["probabilities"][entry.positive] > 0.30:
                # the map of the finding's class (a second pass when the label is the other one)
                same = int(np.argmax(out.logits)) == pos and out.cam is not None
                cam = out.cam if same else loaded.model.run(loaded.model.prepare(image), pos).cam
            result["region"] = draft_report.region(cam)
            if draft:
                result["draft"] = draft_report.draft(result, entry.positive)
        return result

    def _result(
        self,
        base: dict[str, Any],
        loaded: Loaded,
        image: LoadedImage,
        out: Output,
        heatmap: bool,
        heatmap_path: Path | None,
        name: str,
        findings: list[dict[str, Any]] | None,
        observations: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        entry = loaded.entry
        probs = softmax(out.logits, entry.temperature)
        top = int(np.argmax(probs))
        label = entry.classes[top]
        result = dict(base)
        result.update(
            label=label,
            probabilities={
                c: round(float(p), 4) for c, p in zip(entry.classes, probs, strict=True)
            },
            model=entry.label,
            in_distribution=True,
            calibrated=entry.calibration_n > 0,
            calibration={
                "method": "temperature",
                "temperature": entry.temperature,
                "n": entry.calibration_n,
            }
            if entry.calibration_n
            else None,
            logits=[round(float(v), 4) for v in out.logits],
        )
        review: list[str] = []
        if float(probs[top]) < entry.review_below:
            review.append(f"confidence {float(probs[top]):.2f} is below {entry.review_below:.2f}")
        comparison, disagree = second_reader(
            entry, label, float(probs[top]), findings or [], observations
        )
        result["comparison"] = comparison
        if disagree:
            review.append("the image model and the report disagree")
        result["needs_review"] = bool(review)
        result["review_reasons"] = review
        if heatmap and out.cam is not None:
            path = heatmap_path or default_heatmap_path(self.settings, image, entry.key, name)
            save_heatmap(
                image, out.cam, path, caption=f"{entry.key}: {label} {float(probs[top]):.2f}"
            )
            result["heatmap"] = str(path)
        return result


def _reject(base: dict[str, Any], verdict: guard.Verdict) -> dict[str, Any]:
    result = dict(base)
    result.update(in_distribution=False, reason=verdict.reason, label=None, probabilities={})
    result["guard"] = {"check": verdict.check, "similarity": verdict.similarity}
    return result


# -- heatmaps -------------------------------------------------------------------------------
def default_heatmap_path(settings: Settings, image: LoadedImage, key: str, name: str) -> Path:
    digest = hashlib.sha256(np.ascontiguousarray(image.pixels).tobytes()).hexdigest()[:12]
    stem = (
        "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in Path(name).stem)[:40] or "image"
    )
    return settings.data_dir / "heatmaps" / f"{stem}-{digest}-{key}.png"


def _jet(v: np.ndarray) -> np.ndarray:
    """(H, W) in [0, 1] -> (H, W, 3) uint8, the classic jet colour map."""
    r = np.clip(1.5 - np.abs(4 * v - 3), 0, 1)
    g = np.clip(1.5 - np.abs(4 * v - 2), 0, 1)
    b = np.clip(1.5 - np.abs(4 * v - 1), 0, 1)
    return (np.stack([r, g, b], axis=-1) * 255).astype(np.uint8)


def overlay(image: LoadedImage, cam: np.ndarray, max_side: int = 512) -> np.ndarray:
    """The Grad-CAM map (bilinear-upsampled) over the grayscale image, 40% opacity."""
    from PIL import Image

    gray = Image.fromarray(np.clip(image.gray(), 0, 255).astype(np.uint8))
    scale = min(1.0, max_side / max(gray.size))
    size = (max(1, round(gray.size[0] * scale)), max(1, round(gray.size[1] * scale)))
    base = np.asarray(gray.resize(size, Image.Resampling.BILINEAR).convert("RGB"), dtype=np.float32)
    cam_img = Image.fromarray((np.clip(cam, 0, 1) * 255).astype(np.uint8)).resize(
        size, Image.Resampling.BILINEAR
    )
    heat = _jet(np.asarray(cam_img, dtype=np.float32) / 255.0).astype(np.float32)
    alpha = 0.4 * (np.asarray(cam_img, dtype=np.float32)[..., None] / 255.0) + 0.15
    return np.asarray(np.clip(base * (1 - alpha) + heat * alpha, 0, 255).astype(np.uint8))


def save_heatmap(image: LoadedImage, cam: np.ndarray, path: Path, caption: str = "") -> Path:
    from PIL import Image, ImageDraw

    pic = Image.fromarray(overlay(image, cam))
    if caption:
        draw = ImageDraw.Draw(pic)
        text = f"{caption} (Grad-CAM; decision support, not a diagnosis)"
        draw.rectangle((0, 0, pic.size[0], 14), fill=(0, 0, 0))
        draw.text((3, 1), text, fill=(255, 255, 255))
    path.parent.mkdir(parents=True, exist_ok=True)
    pic.save(path, format="PNG")
    return path


# -- second reader ----------------------------------------------------------------------------
TERMS = {
    "cxr-pneumonia": (
        "pneumonia",
        "consolidation",
        "infiltrate",
        "airspace",
        "air space",
        "opacit",
    ),
    "mri-brain-tumour": (
        "tumour",
        "tumor",
        "mass",
        "glioma",
        "meningioma",
        "pituitary",
        "adenoma",
        "neoplasm",
        "lesion",
    ),
}
NORMAL_LABELS = {"NORMAL", "notumor"}


# Report observations (knowledge/nlp/observations.py) that bear on each image model's label.
OBSERVATION_TERMS: dict[str, tuple[str, ...]] = {
    "cxr-pneumonia": ("Pneumonia", "Consolidation", "Infiltration"),
}


def second_reader(
    entry: registry.ClassifierEntry,
    label: str,
    prob: float,
    findings: list[dict[str, Any]],
    observations: list[dict[str, Any]] | None = None,
) -> tuple[str | None, bool]:
    """Compare the image label with the report. Returns (one line, disagreement).

    Uses the report's observations (positive / negative / uncertain / absent per finding) when
    the case has them and the model has a mapping in :data:`OBSERVATION_TERMS`; otherwise the
    report's raw findings (entities) matched by :data:`TERMS`."""
    names = OBSERVATION_TERMS.get(entry.name)
    if observations and names:
        return _compare_observations(names, label, prob, observations)
    return _compare_findings(entry, label, prob, findings)


def _compare_observations(
    names: tuple[str, ...], label: str, prob: float, observations: list[dict[str, Any]]
) -> tuple[str | None, bool]:
    from assistant.policy import messages

    shown = f"{label} {prob:.2f}"
    abnormal = label not in NORMAL_LABELS
    status = {str(o.get("finding")): o for o in observations}
    said = [status[n] for n in names if status.get(n, {}).get("status", "absent") != "absent"]
    what = " or ".join(n.lower() for n in names)

    def evidence(obs: list[dict[str, Any]]) -> str:
        texts = [str(e.get("text")) for o in obs for e in o.get("evidence", [])[:1]]
        return "; ".join(dict.fromkeys(t for t in texts if t)) or "no quote"

    positive = [o for o in said if o.get("status") == "positive"]
    uncertain = [o for o in said if o.get("status") == "uncertain"]
    negative = [o for o in said if o.get("status") == "negative"]
    if not said:
        normal = status.get("No Finding", {}).get("status") == "positive"
        if abnormal and normal:
            return messages.SECOND_READER_REPORT_NORMAL.format(shown=shown), True
        return messages.SECOND_READER_NOT_MENTIONED.format(what=what, shown=shown), False
    if positive and not abnormal:
        first = str(positive[0]["finding"]).lower()
        return (
            messages.SECOND_READER_REPORT_POSITIVE.format(
                what=first, evidence=evidence(positive), shown=shown
            ),
            True,
        )
    if not positive and not uncertain and abnormal:
        first = str(negative[0]["finding"]).lower()
        return (
            messages.SECOND_READER_REPORT_NEGATIVE.format(
                what=first, evidence=evidence(negative), shown=shown
            ),
            True,
        )
    if uncertain and not positive:
        first = str(uncertain[0]["finding"]).lower()
        return (
            messages.SECOND_READER_REPORT_UNCERTAIN.format(
                what=first, evidence=evidence(uncertain), shown=shown
            ),
            False,
        )
    agreed = (
        ", ".join(str(o["finding"]).lower() for o in positive)
        if positive
        else f"no {str(negative[0]['finding']).lower()}"
    )
    return messages.SECOND_READER_AGREES.format(what=agreed, shown=shown), False


def _compare_findings(
    entry: registry.ClassifierEntry, label: str, prob: float, findings: list[dict[str, Any]]
) -> tuple[str | None, bool]:
    terms = TERMS.get(entry.name, ())
    relevant = [f for f in findings if any(t in str(f.get("text", "")).lower() for t in terms)]
    if not findings:
        return None, False
    shown = f"{label} {prob:.2f}"
    if not relevant:
        return (
            f"The report findings do not mention {terms[0]} or related terms; the image model gives {shown}.",
            False,
        )
    present = [
        f for f in relevant if not (f.get("negated") or f.get("historical") or f.get("family"))
    ]
    certain = [f for f in present if not f.get("uncertain")]
    abnormal = label not in NORMAL_LABELS
    if certain and not abnormal:
        return (
            f"Discrepancy: the report describes {certain[0].get('text')}; the image model gives {shown} — consider review.",
            True,
        )
    if not present and abnormal:
        negated = relevant[0].get("text")
        return (
            f"Discrepancy: the report says no {negated}; the image model gives {shown} — consider review.",
            True,
        )
    if present and not certain:
        return (
            f"The report is uncertain about {present[0].get('text')}; the image model gives {shown}.",
            False,
        )
    what = present[0].get("text") if present else f"no {relevant[0].get('text')}"
    return (f"Agrees with the report ({what}); the image model gives {shown}.", False)
