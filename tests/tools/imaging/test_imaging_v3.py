"""cxr-pneumonia.v3, trained for robustness to acquisition shift: its registry entry matches its
checkpoint (temperature and review threshold fitted on plain + shifted validation, the input
normalisation the network applies), and the older versions stay selectable."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tools.imaging import registry, shift
from tools.imaging.model import TorchClassifier
from tools.imaging.nets import Ensemble, ResNet

V3 = registry.get("cxr-pneumonia.v3")


def test_registry_entry_matches_the_shipped_checkpoint() -> None:
    path = registry.weights_path(V3)  # sha256-checked
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    meta, result = ckpt["meta"], ckpt["result"]
    assert tuple(meta["classes"]) == V3.classes and int(meta["input_size"]) == V3.input_size
    assert meta["temperature"] == pytest.approx(V3.temperature)
    assert meta["review_below"] == pytest.approx(V3.review_below)
    assert V3.preprocessing == registry.preprocessing_of(meta)
    cal = result["calibration"]
    assert cal["n"] == V3.calibration_n == 522 * (len(shift.PERTURBATIONS) + 1)
    assert cal["temperature"] == pytest.approx(V3.temperature)
    assert result["n_val"] == len(result["val_names"]) == 522
    assert V3.bundled and not V3.samples and path.stat().st_size < 10_000_000
    # the network that classify builds applies the checkpoint's input normalisation
    clf = TorchClassifier(path)
    nets = list(clf.net.members) if isinstance(clf.net, Ensemble) else [clf.net]
    for net in nets:
        assert isinstance(net, ResNet)
        assert net.norm.mode == meta.get("input_norm", "none")
    logits = np.asarray(result["val_logits"])
    assert logits.shape == (522, 2) and np.isfinite(logits).all()


def test_every_chest_version_stays_selectable() -> None:
    for key in ("cxr-pneumonia.v1", "cxr-pneumonia.v2", "cxr-pneumonia.v3"):
        assert registry.for_domain("cxr", key).key == key
    assert registry.DEFAULTS["cxr"] in registry.REGISTRY
