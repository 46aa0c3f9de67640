"""The engine with a fake classifier: guard wiring, probabilities, review flag, heatmap, second
reader. (The real models are exercised in tests/tools/test_image.py, marked slow.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from assistant.core.config import Settings
from tools.imaging import registry
from tools.imaging.io import LoadedImage
from tools.imaging.model import Output, softmax
from tools.imaging.pipeline import ImagingEngine, Loaded, overlay, save_heatmap, second_reader

CXR = registry.get("cxr-pneumonia.v1")
BRAIN = registry.get("mri-brain-tumour.v1")


class FakeModel:
    def __init__(self, classes: tuple[str, ...], logits: list[float], features: np.ndarray) -> None:
        self.classes = classes
        self.logits = np.array(logits)
        self.features = features
        self.calls: list[Any] = []

    def prepare(self, image: LoadedImage) -> Any:
        return image

    def run(self, x: Any, cam_class: int | str | None = None) -> Output:
        self.calls.append(cam_class)
        cam = (
            np.linspace(0, 1, 25, dtype=np.float32).reshape(5, 5) if cam_class is not None else None
        )
        return Output(self.logits, self.features, cam)


def _engine(
    settings: Settings, cxr_logits: list[float], features: np.ndarray
) -> tuple[ImagingEngine, FakeModel, FakeModel]:
    eng = ImagingEngine(settings, cxr_model=CXR.key)
    cxr = FakeModel(CXR.classes, cxr_logits, features)
    brain = FakeModel(BRAIN.classes, [3.0, 0.0, 0.0, 0.0], features)
    eng._models = {CXR.key: Loaded(CXR, cxr, "d"), BRAIN.key: Loaded(BRAIN, brain, "d")}
    e = np.eye(4)
    eng._centroids = {"cxr": e[0], "brain-mri": e[1]}
    return eng, cxr, brain


def _smooth(size: int = 256) -> LoadedImage:
    yy, xx = np.mgrid[0:size, 0:size] / size
    return LoadedImage(
        pixels=(120 + 80 * np.sin(6 * xx) * np.cos(4 * yy)).astype(np.float32), source="png"
    )


def test_in_scope_cxr_gives_label_probabilities_and_heatmap(settings: Settings) -> None:
    eng, cxr, _ = _engine(settings, [0.0, 3.0], np.array([1.0, 0.1, 0, 0]))
    res = eng.classify(_smooth(), heatmap=True, name="film.png")
    assert res["in_distribution"] is True and res["label"] == "PNEUMONIA"
    assert res["probabilities"]["PNEUMONIA"] == pytest.approx(
        float(softmax(np.array([0.0, 3.0]))[1]), abs=1e-4
    )
    assert res["model"] == "cxr-pneumonia.v1@xception-pneumonia-0.3.0"
    assert res["calibrated"] is False and res["needs_review"] is False
    path = Path(res["heatmap"])
    assert path.parent == settings.data_dir / "heatmaps" and path.is_file()
    assert Image.open(path).format == "PNG"
    assert cxr.calls == ["top"]


def test_low_confidence_sets_needs_review(settings: Settings) -> None:
    eng, _, _ = _engine(settings, [0.0, 0.4], np.array([1.0, 0, 0, 0]))
    res = eng.classify(_smooth(), heatmap=False)
    assert res["needs_review"] is True and "below" in res["review_reasons"][0]
    assert res["heatmap"] is None


def test_out_of_scope_by_features_has_no_label(settings: Settings) -> None:
    eng, _, _ = _engine(settings, [0.0, 5.0], np.array([0, 0, 1.0, 0]))
    res = eng.classify(_smooth(), heatmap=True)
    assert res["in_distribution"] is False and res["label"] is None and res["probabilities"] == {}
    assert "does not resemble" in res["reason"] and res["heatmap"] is None


def test_routes_to_brain_model(settings: Settings) -> None:
    eng, _, brain = _engine(settings, [0.0, 5.0], np.array([0.1, 1.0, 0, 0]))
    res = eng.classify(_smooth(), heatmap=False)
    assert res["model"].startswith("mri-brain-tumour.v1") and res["label"] == "glioma"
    assert brain.calls == [None]


def test_dicom_ct_rejected_before_any_model(settings: Settings) -> None:
    eng, cxr, _ = _engine(settings, [0.0, 5.0], np.array([1.0, 0, 0, 0]))
    img = _smooth()
    img.source, img.modality = "dicom", "CT"
    res = eng.classify(img)
    assert res["in_distribution"] is False and "CT" in res["reason"] and cxr.calls == []


def test_explicit_heatmap_path(settings: Settings, tmp_path: Path) -> None:
    eng, _, _ = _engine(settings, [3.0, 0.0], np.array([1.0, 0, 0, 0]))
    out = tmp_path / "sub" / "h.png"
    res = eng.classify(_smooth(), heatmap=True, heatmap_path=out)
    assert res["heatmap"] == str(out) and out.is_file()


def test_overlay_shape_and_save(tmp_path: Path) -> None:
    img = LoadedImage(pixels=np.zeros((1000, 500), np.float32), source="png")
    cam = np.eye(5, dtype=np.float32)
    arr = overlay(img, cam)
    assert arr.shape == (512, 256, 3) and arr.dtype == np.uint8
    assert save_heatmap(img, cam, tmp_path / "x.png", caption="t").is_file()


def _ent(text: str, **flags: bool) -> dict[str, Any]:
    return {"text": text, "label": "FINDING", **flags}


@pytest.mark.parametrize(
    ("findings", "label", "disagree", "phrase"),
    [
        ([_ent("consolidation", negated=True)], "PNEUMONIA", True, "report says no consolidation"),
        ([_ent("right lower lobe consolidation")], "NORMAL", True, "report describes"),
        ([_ent("pneumonia")], "PNEUMONIA", False, "Agrees"),
        ([_ent("consolidation", negated=True)], "NORMAL", False, "Agrees"),
        ([_ent("possible pneumonia", uncertain=True)], "NORMAL", False, "uncertain"),
        ([_ent("pleural effusion")], "PNEUMONIA", False, "do not mention"),
    ],
)
def test_second_reader(
    findings: list[dict[str, Any]], label: str, disagree: bool, phrase: str
) -> None:
    line, flag = second_reader(CXR, label, 0.91, findings)
    assert flag is disagree and phrase in (line or "")
    assert f"{label} 0.91" in (line or "")


def test_second_reader_without_findings_says_nothing() -> None:
    assert second_reader(CXR, "NORMAL", 0.9, []) == (None, False)


def test_discrepancy_sets_needs_review(settings: Settings) -> None:
    eng, _, _ = _engine(settings, [0.0, 4.0], np.array([1.0, 0, 0, 0]))
    res = eng.classify(_smooth(), heatmap=False, findings=[_ent("consolidation", negated=True)])
    assert res["needs_review"] is True and "consider review" in res["comparison"]


def test_draft_region_and_quality_in_the_result(settings: Settings) -> None:
    eng, cxr, _ = _engine(settings, [0.0, 3.0], np.array([1.0, 0, 0, 0]))
    res = eng.classify(_smooth(), heatmap=False, draft=True, name="film.png")
    assert res["heatmap"] is None and cxr.calls == ["top"]  # the map is made for the draft
    assert res["quality"]["width"] == 256 and res["region"] is not None
    draft = res["draft"]
    assert draft["text"].startswith("MACHINE DRAFT") and "0.95" in draft["text"]
    assert "[machine draft] Findings: Appearances suggestive of pneumonia" in draft["text"]
    # the fake map is hottest at the bottom right of the image = the patient's LEFT lower zone
    assert res["region"]["side"] in ("left", "bilateral")
    plain = eng.classify(_smooth(), heatmap=False)
    assert "draft" not in plain and plain["region"] is None


def test_normal_label_maps_the_finding_class_only_when_it_is_plausible(settings: Settings) -> None:
    eng, cxr, _ = _engine(settings, [1.0, 0.2], np.array([1.0, 0, 0, 0]))  # p(pneumonia) 0.31
    res = eng.classify(_smooth(), heatmap=False, draft=True)
    assert res["label"] == "NORMAL" and cxr.calls == ["top", 1]  # second pass: PNEUMONIA's map
    eng, cxr, _ = _engine(settings, [3.0, 0.0], np.array([1.0, 0, 0, 0]))  # p 0.05
    res = eng.classify(_smooth(), heatmap=False, draft=True)
    assert cxr.calls == ["top"] and res["region"] is None
    assert "no pneumonia pattern identified" in res["draft"]["text"].lower()


def _png(img: LoadedImage) -> bytes:
    import io

    buf = io.BytesIO()
    Image.fromarray(np.clip(img.pixels, 0, 255).astype(np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def test_what_do_you_see_turn_answers_with_the_draft(settings: Settings) -> None:
    """REPL, `ask` and Slack all call Assistant.respond: the reply carries the draft."""
    from assistant.core.embeddings import HashingEmbedder
    from assistant.core.llm import ScriptedLLM
    from assistant.service import Assistant, Attachment
    from tools.image import RESOURCE_KEY

    bot = Assistant(settings, llm=ScriptedLLM(default="LLM TEXT"), embedder=HashingEmbedder())
    try:
        eng, _, _ = _engine(settings, [0.0, 3.0], np.array([1.0, 0, 0, 0]))
        bot.resources.put(RESOURCE_KEY, eng)
        bot.respond("c-img", "Findings: No consolidation. Impression: normal chest.")
        turn = bot.respond("c-img", "What do you see?", [Attachment("film.png", _png(_smooth()))])
        assert [t.name for t in turn.tools] == ["classify_image"]  # no "I don't know" answer
        assert "MACHINE DRAFT" in turn.reply and "LLM TEXT" not in turn.reply
        draft_lines = [ln for ln in turn.reply.splitlines() if ln.startswith("[machine draft]")]
        assert len(draft_lines) >= 5
        assert any("Comparison with the report: Discrepancy" in ln for ln in draft_lines)
        assert turn.safety.needs_review  # the report disagrees
        again = bot.respond("c-img", "what do you see?")  # no new image: the last one, again
        assert [t.name for t in again.tools] == ["classify_image"]
        assert "MACHINE DRAFT" in again.reply and again.tools[0].result["draft"]  # type: ignore[index]
    finally:
        bot.close()
