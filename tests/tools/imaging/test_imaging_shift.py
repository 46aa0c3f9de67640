"""Robustness options of `train image`: per-image input normalisation inside the network (so
`classify` applies it too), strong augmentation, label smoothing, and the shifted-validation
check that selects between recipes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from assistant.core.errors import UserError
from tests.tools.imaging.test_imaging_train import _folder
from tools.imaging import shift
from tools.imaging.io import LoadedImage
from tools.imaging.model import TorchClassifier
from tools.imaging.nets import ResNet, Standardize, build, load_checkpoint
from tools.imaging.train import Config, augment, check, train

SIZE = 24


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    gain=st.floats(0.3, 3.0),
    offset=st.floats(-0.5, 0.5),
    gamma=st.floats(0.4, 2.5),
)
@example(seed=5844, gain=0.3046875, offset=0.0, gamma=1.0)  # a small gain: the epsilon shows
def test_standardisation_removes_intensity_changes(
    seed: int, gain: float, offset: float, gamma: float
) -> None:
    x = torch.rand(2, 1, 16, 16, generator=torch.Generator().manual_seed(seed)) * 1.6 - 0.8
    z = Standardize("zscore")
    # z-score divides by (std + 1e-3): a gain g moves that epsilon to 1e-3 / g, a relative change
    # of under 1 % for these images (std about 0.46) and gains down to 0.3
    assert torch.allclose(z(x), z(x * gain + offset), rtol=2e-2, atol=1e-3)
    h = Standardize("histeq")
    out = h(x)
    assert out.shape == x.shape and out.min() >= -1 and out.max() <= 1
    # a monotone change (gamma) keeps each pixel's rank: equal up to the 256-bin quantisation
    changed = (((x + 1) / 2) ** gamma) * 2 - 1
    assert (h(changed) - out).abs().mean() < 0.05
    assert torch.equal(Standardize("none")(x), x)


def test_unknown_normalisation_is_a_user_error() -> None:
    with pytest.raises(UserError, match="histeq"):
        Standardize("clahe")
    with pytest.raises(UserError, match="--input-norm"):
        check(Config(input_norm="clahe"))
    with pytest.raises(UserError, match="--photometric"):
        check(Config(photometric="extreme"))
    with pytest.raises(UserError, match="--stem"):
        check(Config(stem="huge"))


def test_strong_augmentation_keeps_range_and_is_seeded() -> None:
    x = torch.rand(8, 1, 32, 32) * 2 - 1
    a = augment(x, torch.Generator().manual_seed(1), 0.7, 15, "strong")
    b = augment(x, torch.Generator().manual_seed(1), 0.7, 15, "strong")
    assert a.shape == x.shape and a.min() >= -1 and a.max() <= 1
    assert torch.equal(a, b) and not torch.equal(a, x)


def test_perturbations_keep_shape_and_range() -> None:
    x = torch.rand(4, 1, 32, 32) * 2 - 1
    for name, fn in shift.PERTURBATIONS.items():
        y = fn(x)
        assert y.shape == x.shape, name
        assert y.min() >= -1 - 1e-5 and y.max() <= 1 + 1e-5, name
        assert not torch.allclose(y, x), name
    # zoom-out frames the image in black
    assert torch.allclose(shift.PERTURBATIONS["zoom-out"](x)[..., 0, 0], torch.tensor(-1.0))


def test_the_normalisation_option_round_trips_to_classify(tmp_path: Path) -> None:
    """Trained with --input-norm histeq: the checkpoint says so, the rebuilt network applies it,
    and `classify`'s TorchClassifier gives the same logits as the network itself."""
    data = _folder(tmp_path / "data", n=12)
    out = tmp_path / "m.pt"
    res = train(
        data,
        out,
        size=SIZE,
        epochs=2,
        batch=8,
        width=4,
        seed=0,
        input_norm="histeq",
        photometric="strong",
        crop=0.7,
        rotate=15.0,
        label_smoothing=0.1,
        stem="large",
        progress=False,
        echo=lambda _m: None,
    )
    net, meta = load_checkpoint(out)
    assert meta["input_norm"] == "histeq" and meta["small_input"] is False
    assert meta["config"]["photometric"] == "strong" and meta["config"]["label_smoothing"] == 0.1
    assert isinstance(net, ResNet) and isinstance(net.norm, Standardize)
    assert net.norm.mode == "histeq"
    assert build({**meta, "input_norm": "none"}).norm.mode == "none"
    # the stored validation logits are the rebuilt network's on the same images
    val = shift.validation_split(out, data)
    logits = shift.logits_under(net, val)
    assert np.allclose(logits, np.asarray(res["val_logits"]), atol=1e-4)
    clf = TorchClassifier(out)
    image = LoadedImage(pixels=val.x[0, 0].numpy().astype(np.float32), source="png")
    out_clf = clf.run(clf.prepare(image))
    assert np.allclose(np.asarray(out_clf.logits).reshape(-1), logits[0], atol=1e-4)


def test_shifted_validation_and_refit(tmp_path: Path) -> None:
    data = _folder(tmp_path / "data", n=12)
    ckpt = tmp_path / "m.pt"
    train(data, ckpt, size=SIZE, epochs=1, batch=8, width=4, seed=0, progress=False, echo=print)
    scores = shift.evaluate(ckpt, data)
    scores.pop("_logits")
    n_val = scores["plain"]["n"]
    assert scores["shifted"]["n"] == n_val * len(shift.PERTURBATIONS)
    assert set(scores["per_perturbation"]) == set(shift.PERTURBATIONS)
    out = tmp_path / "refit.pt"
    cal = shift.refit(ckpt, data, out)
    _, meta = load_checkpoint(out)
    assert meta["temperature"] == cal["temperature"] > 0
    assert cal["n"] == n_val * (len(shift.PERTURBATIONS) + 1)
    # a folder whose validation split differs is refused
    other = _folder(tmp_path / "other", n=8)
    with pytest.raises(UserError, match="validation split"):
        shift.validation_split(ckpt, other)
    assert shift.main([str(ckpt), "--data", str(other)]) == 2


def test_selection_table_is_written_into_the_card(tmp_path: Path) -> None:
    data = _folder(tmp_path / "data", n=12)
    ckpt = tmp_path / "m.pt"
    train(data, ckpt, size=SIZE, epochs=1, batch=8, width=4, seed=0, input_norm="zscore",
          progress=False, echo=lambda _m: None)  # fmt: skip
    card = tmp_path / "card.md"
    card.write_text(
        "x\n<!-- generated:eval-image-selection -->\nold\n<!-- /generated:eval-image-selection -->\n"
    )
    out = tmp_path / "sel.json"
    assert shift.main([str(ckpt), "--data", str(data), "--out", str(out), "--doc", str(card)]) == 0
    text = card.read_text()
    assert "old" not in text and "| m.pt | 24 px, norm zscore" in text
    assert len(json.loads(out.read_text())) == 1
    assert shift.main([str(ckpt), "--data", str(data), "--doc", str(tmp_path / "x.md")]) == 2
