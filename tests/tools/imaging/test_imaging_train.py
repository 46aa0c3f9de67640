"""Our plain-torch training on small generated data: ImageFolder, CSV and MedMNIST-style .npz."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from assistant.core.errors import UserError
from tools.imaging.io import LoadedImage
from tools.imaging.model import TorchClassifier
from tools.imaging.train import Config, augment, load_dataset, run, train

SIZE = 24


def _pattern(label: int, rng: np.random.Generator) -> np.ndarray:
    """Class 0: a bright disc; class 1: a bright horizontal bar (plus noise)."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    img = rng.normal(60, 10, (SIZE, SIZE))
    cy, cx = rng.integers(8, 16, 2)
    if label == 0:
        img[(yy - cy) ** 2 + (xx - cx) ** 2 < 20] = 220
    else:
        img[cy - 2 : cy + 2, 3:-3] = 220
    return np.clip(img, 0, 255).astype(np.uint8)


def _folder(root: Path, n: int = 24) -> Path:
    rng = np.random.default_rng(0)
    for label, name in enumerate(["disc", "bar"]):
        (root / name).mkdir(parents=True)
        for i in range(n):
            Image.fromarray(_pattern(label, rng)).save(root / name / f"{i}.png")
    return root


def test_imagefolder_training_learns_and_checkpoint_loads(tmp_path: Path) -> None:
    data = _folder(tmp_path / "data", n=16)
    out = tmp_path / "m.pt"
    res = train(
        data,
        out,
        size=SIZE,
        epochs=12,
        batch=8,
        width=8,
        patience=12,
        lr=3e-3,
        seed=0,
        progress=False,
        echo=lambda _m: None,
    )
    assert res["classes"] == ["bar", "disc"] and out.is_file()
    best = max(h["val_acc"] for h in res["history"])
    assert res["n_val"] >= 2 and best >= 0.75  # the best epoch's weights are the ones saved
    clf = TorchClassifier(out)
    img = LoadedImage(pixels=_pattern(0, np.random.default_rng(5)).astype(np.float32), source="png")
    o = clf.run(clf.prepare(img), cam_class="top")
    assert o.logits.shape == (2,) and o.cam is not None and o.cam.max() <= 1.0
    assert clf.classes[int(np.argmax(o.logits))] == "disc"


def test_same_seed_same_weights(tmp_path: Path) -> None:
    data = _folder(tmp_path / "data", n=8)
    kw = dict(size=SIZE, epochs=1, batch=8, width=4, seed=3, progress=False, echo=lambda _m: None)
    train(data, tmp_path / "a.pt", **kw)  # type: ignore[arg-type]
    train(data, tmp_path / "b.pt", **kw)  # type: ignore[arg-type]
    a = torch.load(tmp_path / "a.pt", weights_only=True)["state_dict"]
    b = torch.load(tmp_path / "b.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_medmnist_npz_and_csv(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)

    def split(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = np.arange(n) % 2
        return np.stack([_pattern(int(v), rng) for v in y]), y.reshape(-1, 1)

    arrays = {}
    for name, n in (("train", 20), ("val", 6), ("test", 6)):
        arrays[f"{name}_images"], arrays[f"{name}_labels"] = split(n)
    npz = tmp_path / "pneumoniamnist.npz"
    np.savez(npz, **arrays)
    ds = load_dataset(npz, SIZE)
    assert (
        ds.classes == ["0", "1"] and ds.train.x.shape == (20, 1, SIZE, SIZE) and ds.test is not None
    )
    res = train(
        npz,
        tmp_path / "n.pt",
        size=SIZE,
        epochs=2,
        batch=10,
        width=4,
        progress=False,
        echo=lambda _m: None,
        report_test=True,
    )
    assert res["test"]["n"] == 6 and 0.0 <= res["test"]["auc"] <= 1.0

    _folder(tmp_path / "imgs", n=4)
    rows = ["path,label,split"] + [
        f"imgs/{c}/{i}.png,{c},{'test' if i == 0 else ''}"
        for c in ("disc", "bar")
        for i in range(4)
    ]
    (tmp_path / "list.csv").write_text("\n".join(rows))
    ds = load_dataset(tmp_path / "list.csv", SIZE)
    assert ds.test is not None and len(ds.test.y) == 2 and len(ds.train.y) + len(ds.val.y) == 6


def test_bad_data_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError):
        load_dataset(tmp_path / "missing", SIZE)
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    with pytest.raises(UserError, match="'path' and 'label'"):
        load_dataset(tmp_path / "x.csv", SIZE)
    with pytest.raises(UserError):
        run(tmp_path / "missing", tmp_path / "o.pt", Config())
    with pytest.raises(UserError, match="--schedule"):
        run(tmp_path / "missing", tmp_path / "o.pt", Config(schedule="linear"))


def test_augment_keeps_range_and_shape() -> None:
    x = torch.rand(4, 1, SIZE, SIZE) * 2 - 1
    y = augment(x, torch.Generator().manual_seed(0))
    assert y.shape == x.shape and float(y.min()) >= -1 and float(y.max()) <= 1


def test_val_split_is_fixed_grouped_and_independent_of_the_training_seed(tmp_path: Path) -> None:
    from tools.imaging.data import Item, group_function, split_holdout

    group = group_function(r"^(person\d+)")
    items = [
        Item(Path(f"person{p}_img{i}.png"), p % 2, group(Path(f"person{p}_img{i}.png")))
        for p in range(40)
        for i in range(1 + p % 3)
    ]
    train_a, val_a = split_holdout(items, 0.2, seed=0)
    _, val_b = split_holdout(items, 0.2, seed=0)
    assert [i.path for i in val_a] == [i.path for i in val_b]  # same seed, same split
    assert {i.group for i in train_a}.isdisjoint({i.group for i in val_a})  # no patient in both
    assert {i.label for i in val_a} == {0, 1} and len(train_a) + len(val_a) == len(items)
    assert group(Path("other.png")) == "other.png"  # no match: the file is its own group
    with pytest.raises(UserError, match="regular expression"):
        group_function("(")


def test_cache_is_reused_and_ensemble_checkpoint_loads(tmp_path: Path) -> None:
    data = _folder(tmp_path / "data", n=8)
    cache = tmp_path / "cache"
    out = tmp_path / "ens.pt"
    res = train(
        data, out, size=SIZE, epochs=1, batch=8, width=4, seeds=(0, 1), cache=cache,
        progress=False, echo=lambda _m: None,
    )  # fmt: skip
    assert len(res["members"]) == 2 and list(cache.glob("images-*.npy"))
    assert 0.5 <= res["review_below"] <= 0.99 and len(res["val_logits"]) == res["n_val"]
    clf = TorchClassifier(out)
    img = LoadedImage(pixels=_pattern(1, np.random.default_rng(2)).astype(np.float32), source="png")
    o = clf.run(clf.prepare(img), cam_class="top")
    assert o.logits.shape == (2,) and o.cam is not None and float(o.cam.max()) == 1.0
    stamp = next(cache.glob("images-*.npy")).stat().st_mtime_ns
    load_dataset(data, SIZE, cache=cache)
    assert next(cache.glob("images-*.npy")).stat().st_mtime_ns == stamp  # read, not rewritten


def test_review_threshold_is_the_lowest_that_meets_the_target() -> None:
    from tools.imaging.train import review_threshold

    # confident and right, then a band of unconfident mistakes
    logits = np.array([[0.0, 5.0]] * 95 + [[0.0, 0.3]] * 5)
    y = np.array([1] * 95 + [0] * 5)
    thr = review_threshold(logits, y, 1.0, target=0.99)
    assert 0.58 <= thr <= 0.99  # above the mistakes' confidence (0.574)
    assert review_threshold(logits[:95], y[:95], 1.0) == 0.5  # nothing to flag


def test_bad_layout_is_one_clear_user_error(tmp_path: Path) -> None:
    (tmp_path / "flat").mkdir()
    Image.fromarray(np.zeros((20, 20), np.uint8)).save(tmp_path / "flat" / "a.png")
    with pytest.raises(UserError, match="one folder per class"):
        load_dataset(tmp_path / "flat", SIZE)
    bad = _folder(tmp_path / "bad", n=3)
    (bad / "disc" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    with pytest.raises(UserError, match=r"broken\.png"):
        load_dataset(bad, SIZE)


def test_ensemble_of_separate_seeds_equals_training_them_together(tmp_path: Path) -> None:
    from tools.imaging.ensemble import combine

    data = _folder(tmp_path / "data", n=6)
    kw = dict(size=SIZE, epochs=1, batch=8, width=4, progress=False, echo=lambda _m: None)
    together = train(data, tmp_path / "ens.pt", seeds=(0, 1), **kw)  # type: ignore[arg-type]
    train(data, tmp_path / "s0.pt", seed=0, **kw)  # type: ignore[arg-type]
    train(data, tmp_path / "s1.pt", seed=1, **kw)  # type: ignore[arg-type]
    combined = combine([tmp_path / "s0.pt", tmp_path / "s1.pt"], tmp_path / "c.pt", lambda _m: None)
    a = torch.load(tmp_path / "ens.pt", weights_only=True)
    b = torch.load(tmp_path / "c.pt", weights_only=True)
    assert a["state_dict"].keys() == b["state_dict"].keys()
    assert all(torch.equal(a["state_dict"][k], b["state_dict"][k]) for k in a["state_dict"])
    # the same validation logits (up to float rounding): the same calibrated fit (a 1-epoch
    # toy has a flat likelihood in T, so compare the fit's NLL, not T itself)
    assert np.allclose(together["val_logits"], combined["val_logits"], atol=1e-5)
    assert together["val"]["nll_after_temperature"] == pytest.approx(
        combined["val"]["nll_after_temperature"], abs=1e-3
    )
    with pytest.raises(UserError, match="at least two"):
        combine([tmp_path / "s0.pt"], tmp_path / "x.pt")
    combine([tmp_path / "s0.pt", tmp_path / "s1.pt"], tmp_path / "h.pt", lambda _m: None, half=True)
    h = torch.load(tmp_path / "h.pt", weights_only=True)["state_dict"]
    assert h["members.0.fc.weight"].dtype == torch.float16
    assert (tmp_path / "h.pt").stat().st_size < 0.7 * (tmp_path / "c.pt").stat().st_size
    img = LoadedImage(pixels=_pattern(0, np.random.default_rng(4)).astype(np.float32), source="png")
    full, small = TorchClassifier(tmp_path / "c.pt"), TorchClassifier(tmp_path / "h.pt")
    assert np.allclose(
        full.run(full.prepare(img)).logits, small.run(small.prepare(img)).logits, atol=0.05
    )
