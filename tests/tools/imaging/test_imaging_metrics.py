from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tools.imaging import metrics


def test_auc_known_values() -> None:
    assert metrics.auc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert metrics.auc([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1]) == 0.0
    assert metrics.auc([0, 1], [0.5, 0.5]) == 0.5
    assert np.isnan(metrics.auc([1, 1], [0.2, 0.3]))


def test_wilson_interval() -> None:
    lo, hi = metrics.wilson(13, 16)
    assert lo < 13 / 16 < hi and 0.5 < lo < 0.6 and 0.9 < hi < 0.96
    assert metrics.wilson(0, 0) == (0.0, 1.0)


def test_fit_temperature_recovers_overconfidence() -> None:
    rng = np.random.default_rng(0)
    true_logits = rng.normal(0, 1.5, size=(3000, 2))
    p = metrics.softmax_rows(true_logits)
    y = (rng.random(3000) < p[:, 1]).astype(int)
    t = metrics.fit_temperature(true_logits * 3.0, y)  # logits 3x too confident
    assert t == pytest.approx(3.0, rel=0.15)
    assert metrics.nll(true_logits * 3.0, y, t) < metrics.nll(true_logits * 3.0, y)


def test_ece_and_brier() -> None:
    probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.2, 0.8]])
    y = np.array([0, 1, 1])
    assert 0 < metrics.ece(probs, y) < 1
    assert metrics.brier(np.array([[1.0, 0.0]]), np.array([0])) == 0.0


def test_plots_write_pngs(tmp_path: Path) -> None:
    y, s = [0, 1, 0, 1], [0.2, 0.7, 0.4, 0.9]
    for p in (
        metrics.plot_roc(tmp_path / "roc.png", metrics.roc_points(y, s), "roc"),
        metrics.plot_confusion(tmp_path / "cm.png", np.array([[3, 1], [0, 4]]), ["A", "B"], "cm"),
        metrics.plot_reliability(
            tmp_path / "rel.png", np.array([[0.7, 0.3], [0.2, 0.8]]), np.array([0, 1]), "rel"
        ),
    ):
        assert Image.open(p).format == "PNG"
