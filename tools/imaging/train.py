"""Train our own image classifier in plain torch (no torchvision).

Data: an ImageFolder tree (``DIR/<class>/*.png|jpg|dcm``), a CSV (``path,label`` columns,
paths relative to the CSV), or a MedMNIST ``.npz`` (``train_images``, ``train_labels``,
``val_images``, ... as downloaded from medmnist.com / zenodo by the user).

    python -m tools.imaging.train --data pneumoniamnist.npz --out var/models/pmnist.pt \\
        --size 28 --epochs 30 --seed 0

Augmentation (random resized crop 85–100%, ±10° rotation, brightness/contrast jitter; no
horizontal flip: it would swap the heart's side), inverse-frequency class weights, early stopping
on validation loss, temperature fitted on the validation split, a tqdm progress bar, a fixed
seed. The checkpoint holds everything needed to load it (:func:`load_checkpoint`,
``tools.imaging.model.TorchClassifier``) and its held-out test metrics when a test split exists.
"""

from __future__ import annotations

import argparse
import csv
import math
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from assistant.errors import UserError

IMAGE_EXT = {".png", ".jpg", ".jpeg", ".dcm", ".dicom"}


# -- model ------------------------------------------------------------------------------------
class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short: nn.Module = nn.Identity()
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(y)) + self.short(x))


class ResNet(nn.Module):
    """ResNet-18 layout (2-2-2-2 basic blocks) with a configurable width; ``width=64`` is the
    standard ResNet-18 that MedMNIST v2 reports as its baseline. Small inputs (<= 64 px) use a
    3x3 stem without max-pooling, as MedMNIST's 28 px ResNet does."""

    def __init__(
        self, n_classes: int, channels: int = 1, width: int = 64, small_input: bool = True
    ) -> None:
        super().__init__()
        if small_input:
            self.stem: nn.Module = nn.Sequential(
                nn.Conv2d(channels, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU()
            )
        else:
            self.stem = nn.Sequential(
                nn.Conv2d(channels, width, 7, 2, 3, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(),
                nn.MaxPool2d(3, 2, 1),
            )
        widths = [width, width * 2, width * 4, width * 8]
        layers: list[nn.Module] = []
        cin = width
        for i, w in enumerate(widths):
            layers.append(
                nn.Sequential(BasicBlock(cin, w, 1 if i == 0 else 2), BasicBlock(w, w, 1))
            )
            cin = w
        self.stages = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, n_classes)

    def cam_layer(self) -> nn.Module:
        """Grad-CAM hooks the last stage."""
        return self.stages[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stages(self.stem(x))
        return self.fc(x.mean(dim=(2, 3)))


def to_tensor(rgb: np.ndarray, size: int, channels: int = 1) -> torch.Tensor:
    """(H, W[, 3]) uint8 -> (C, size, size) float in [-1, 1] (bilinear resize)."""
    from PIL import Image

    img = Image.fromarray(rgb.astype(np.uint8))
    img = img.convert("L" if channels == 1 else "RGB").resize(
        (size, size), Image.Resampling.BILINEAR
    )
    arr = np.asarray(img, dtype=np.float32) / 127.5 - 1.0
    arr = arr[None] if channels == 1 else arr.transpose(2, 0, 1)
    return torch.from_numpy(np.ascontiguousarray(arr))


def load_checkpoint(path: Path) -> tuple[ResNet, dict[str, Any]]:
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError) as exc:
        raise UserError(
            f"{path} is not a checkpoint written by `tools.imaging.train`: {exc}"
        ) from exc
    meta = dict(ckpt["meta"])
    net = ResNet(
        len(meta["classes"]), int(meta["channels"]), int(meta["width"]), bool(meta["small_input"])
    )
    net.load_state_dict(ckpt["state_dict"])
    net.eval()
    return net, meta


# -- data -------------------------------------------------------------------------------------
@dataclass
class Split:
    x: torch.Tensor  # (N, C, S, S) in [-1, 1]
    y: torch.Tensor  # (N,) int64


@dataclass
class Dataset:
    classes: list[str]
    train: Split
    val: Split
    test: Split | None
    source: str


def _stack(images: list[np.ndarray], labels: list[int], size: int, channels: int) -> Split:
    x = (
        torch.stack([to_tensor(im, size, channels) for im in images])
        if images
        else torch.zeros(0, channels, size, size)
    )
    return Split(x, torch.tensor(labels, dtype=torch.int64))


def _read(path: Path) -> np.ndarray:
    from tools.imaging.io import load_image

    return load_image(path.read_bytes(), path.name).rgb_uint8()


def _split_holdout(
    items: list[tuple[Path, int]], frac: float, seed: int
) -> tuple[list[tuple[Path, int]], list[tuple[Path, int]]]:
    """Stratified split: ``frac`` of each class (at least one) goes to the second list."""
    rng = random.Random(seed)
    first, second = [], []
    for c in sorted({y for _, y in items}):
        group = [it for it in items if it[1] == c]
        rng.shuffle(group)
        k = max(1, round(len(group) * frac)) if len(group) > 1 else 0
        second += group[:k]
        first += group[k:]
    return first, second


def load_dataset(
    data: Path, size: int, channels: int = 1, seed: int = 0, val_frac: float = 0.15
) -> Dataset:
    """ImageFolder dir, CSV or MedMNIST .npz -> tensors. Folders/CSVs without a ``val`` split
    get a stratified validation split; a ``test`` folder or split is kept held out."""
    if not data.exists():
        raise UserError(f"training data {data} does not exist")
    if data.suffix == ".npz":
        try:
            return _load_npz(data, size, channels)
        except UserError:
            raise
        except Exception as exc:  # zipfile/numpy raise many types on damaged files
            raise UserError(
                f"{data} is not a readable .npz file ({type(exc).__name__}): give a MedMNIST "
                ".npz, an ImageFolder directory or a CSV"
            ) from exc
    if data.suffix == ".csv":
        rows = list(csv.DictReader(data.read_text(encoding="utf-8").splitlines()))
        if not rows or not {"path", "label"} <= set(rows[0]):
            raise UserError(f"{data} needs a header with 'path' and 'label' columns")
        classes = sorted({r["label"] for r in rows})
        items = [(data.parent / r["path"], classes.index(r["label"])) for r in rows]
        split_of = {i: r.get("split", "") for i, r in enumerate(rows)}
        test = [it for i, it in enumerate(items) if split_of[i] == "test"]
        val = [it for i, it in enumerate(items) if split_of[i] == "val"]
        train = [it for i, it in enumerate(items) if split_of[i] not in ("test", "val")]
    elif data.is_dir():
        parts = {p.name: p for p in data.iterdir() if p.is_dir()}
        if "train" in parts:
            classes = sorted(p.name for p in parts["train"].iterdir() if p.is_dir())
            train = _folder_items(parts["train"], classes)
            val = _folder_items(parts["val"], classes) if "val" in parts else []
            test = _folder_items(parts["test"], classes) if "test" in parts else []
        else:
            classes = sorted(parts)
            train, val, test = _folder_items(data, classes), [], []
    else:
        raise UserError(f"{data}: give an ImageFolder directory, a .csv or a MedMNIST .npz")
    if len(classes) < 2:
        raise UserError(f"{data}: need at least two classes, found {classes}")
    if not val:
        train, val = _split_holdout(train, val_frac, seed)

    def split(items: list[tuple[Path, int]]) -> Split:
        return _stack([_read(p) for p, _ in items], [y for _, y in items], size, channels)

    return Dataset(classes, split(train), split(val), split(test) if test else None, str(data))


def _folder_items(root: Path, classes: list[str]) -> list[tuple[Path, int]]:
    items = []
    for i, c in enumerate(classes):
        for p in sorted((root / c).rglob("*")):
            if p.suffix.lower() in IMAGE_EXT:
                items.append((p, i))
    return items


def _load_npz(path: Path, size: int, channels: int) -> Dataset:
    with np.load(path) as npz:
        needed = {"train_images", "train_labels", "val_images", "val_labels"}
        if not needed <= set(npz.files):
            raise UserError(f"{path} is not a MedMNIST file (needs {', '.join(sorted(needed))})")

        def split(name: str) -> Split | None:
            if f"{name}_images" not in npz.files:
                return None
            imgs = npz[f"{name}_images"]
            labels = npz[f"{name}_labels"].reshape(-1).astype(int).tolist()
            return _stack([np.asarray(im) for im in imgs], labels, size, channels)

        train, val, test = split("train"), split("val"), split("test")
        n_classes = int(max(int(npz["train_labels"].max()), int(npz["val_labels"].max())) + 1)
    assert train is not None and val is not None
    return Dataset([str(i) for i in range(n_classes)], train, val, test, str(path))


# -- training ---------------------------------------------------------------------------------
def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random resized crop (85–100%), rotation ±10°, brightness/contrast jitter ±10%."""
    n = x.shape[0]
    angle = (torch.rand(n, generator=gen) * 20 - 10) * math.pi / 180
    scale = torch.rand(n, generator=gen) * 0.15 + 0.85
    shift = (torch.rand(n, 2, generator=gen) * 2 - 1) * (1 - scale[:, None])
    cos, sin = torch.cos(angle) * scale, torch.sin(angle) * scale
    theta = torch.stack(
        [torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, padding_mode="border", align_corners=False)
    contrast = torch.rand(n, 1, 1, 1, generator=gen) * 0.2 + 0.9
    bright = torch.rand(n, 1, 1, 1, generator=gen) * 0.2 - 0.1
    return (out * contrast + bright).clamp(-1, 1)


def evaluate_split(
    net: nn.Module, split: Split, batch: int = 256
) -> tuple[float, float, np.ndarray]:
    """(loss, accuracy, logits) on a split, no augmentation."""
    net.eval()
    outs = []
    with torch.no_grad():
        for i in range(0, len(split.y), batch):
            outs.append(net(split.x[i : i + batch]))
    logits = torch.cat(outs) if outs else torch.zeros(0, 1)
    loss = float(F.cross_entropy(logits, split.y)) if len(split.y) else float("nan")
    acc = float((logits.argmax(1) == split.y).float().mean()) if len(split.y) else float("nan")
    return loss, acc, logits.numpy()


def train(
    data: Path,
    out: Path,
    *,
    size: int = 28,
    epochs: int = 30,
    batch: int = 64,
    lr: float = 1e-3,
    width: int = 64,
    patience: int = 5,
    seed: int = 0,
    channels: int = 1,
    progress: bool = True,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train, early-stop on validation loss, fit a temperature on validation, save ``out``."""
    from tqdm import tqdm

    from tools.imaging import metrics

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    ds = load_dataset(data, size, channels, seed)
    n_classes = len(ds.classes)
    counts = torch.bincount(ds.train.y, minlength=n_classes).float()
    weights = counts.sum() / (n_classes * counts.clamp(min=1))
    net = ResNet(n_classes, channels, width, small_input=size <= 64)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    best: dict[str, Any] = {"loss": float("inf"), "epoch": -1, "state": None}
    history = []
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(len(ds.train.y), generator=gen)
        bar = tqdm(
            range(0, len(order), batch),
            desc=f"epoch {epoch + 1}/{epochs}",
            disable=not progress,
            leave=False,
            file=sys.stderr,
        )
        for i in bar:
            idx = order[i : i + batch]
            if len(idx) < 2:
                continue
            loss = F.cross_entropy(
                net(augment(ds.train.x[idx], gen)), ds.train.y[idx], weight=weights
            )
            opt.zero_grad()
            loss.backward()
            opt.step()
            bar.set_postfix(loss=f"{loss.item():.3f}")
        val_loss, val_acc, _ = evaluate_split(net, ds.val)
        history.append(
            {"epoch": epoch + 1, "val_loss": round(val_loss, 4), "val_acc": round(val_acc, 4)}
        )
        echo(f"epoch {epoch + 1}: val_loss {val_loss:.4f} val_acc {val_acc:.4f}")
        if val_loss < best["loss"] - 1e-4:
            best = {
                "loss": val_loss,
                "epoch": epoch + 1,
                "state": {k: v.clone() for k, v in net.state_dict().items()},
            }
        elif epoch + 1 - best["epoch"] >= patience:
            echo(
                f"early stop: no val improvement for {patience} epochs (best epoch {best['epoch']})"
            )
            break
    if best["state"] is not None:
        net.load_state_dict(best["state"])
    _, _, val_logits = evaluate_split(net, ds.val)
    temperature = metrics.fit_temperature(val_logits, ds.val.y.numpy()) if len(ds.val.y) else 1.0
    result: dict[str, Any] = {
        "classes": ds.classes,
        "best_epoch": best["epoch"],
        "history": history,
        "temperature": round(temperature, 4),
        "n_train": len(ds.train.y),
        "n_val": len(ds.val.y),
    }
    if ds.test is not None and len(ds.test.y):
        _, test_acc, logits = evaluate_split(net, ds.test)
        y = ds.test.y.numpy()
        result["test"] = {"n": len(y), "accuracy": round(test_acc, 4)}
        if n_classes == 2:
            score = metrics.softmax_rows(logits, temperature)[:, 1]
            result["test"]["auc"] = round(metrics.auc(y, score), 4)
    meta = {
        "classes": ds.classes,
        "input_size": size,
        "channels": channels,
        "width": width,
        "small_input": size <= 64,
        "temperature": result["temperature"],
        "source": ds.source,
        "seed": seed,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"meta": meta, "state_dict": net.state_dict(), "result": result}, out)
    result["checkpoint"] = str(out)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.imaging.train", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--data", type=Path, required=True, help="ImageFolder dir, CSV or MedMNIST .npz"
    )
    parser.add_argument("--out", type=Path, required=True, help="checkpoint to write (.pt)")
    parser.add_argument("--size", type=int, default=28)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--patience", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    try:
        result = train(
            args.data,
            args.out,
            size=args.size,
            epochs=args.epochs,
            batch=args.batch,
            lr=args.lr,
            width=args.width,
            patience=args.patience,
            seed=args.seed,
            progress=not args.no_progress,
        )
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print({k: v for k, v in result.items() if k != "history"})
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
