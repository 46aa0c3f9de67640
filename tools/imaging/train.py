"""Train our own image classifier in plain torch (no torchvision): ``clinassist train image``.

Data: an ImageFolder tree, a CSV of ``path,label[,split][,group]`` or a MedMNIST ``.npz`` (see
:mod:`tools.imaging.data`). Without a ``val`` split, a fixed, stratified (optionally
patient-grouped) part of train is held out with ``--val-seed``, independent of the training
seeds, so every run is selected and calibrated on the same images.

Augmentation (random resized crop, ±10° rotation, brightness/contrast jitter; no horizontal
flip: it would swap the heart's side), inverse-frequency class weights, AdamW with a cosine
schedule, the checkpoint with the lowest validation loss, a temperature fitted on validation,
a fixed seed. ``--seeds 0,1,2`` trains one member per seed and saves their average (an
ensemble) as one checkpoint. Test images are never used here unless ``--report-test`` is given
(final models are measured by ``clinassist eval image``).
"""

from __future__ import annotations

import math
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from assistant.core.errors import UserError
from tools.imaging.data import Dataset, Split, load_dataset
from tools.imaging.nets import (
    INPUT_NORMS,
    Ensemble,
    ResNet,
    build,
    load_checkpoint,
    scale,
    state_for_save,
    to_tensor,
)

__all__ = [
    "Config",
    "augment",
    "build",
    "load_checkpoint",
    "load_dataset",
    "run",
    "to_tensor",
    "train",
]


@dataclass
class Config:
    size: int = 28
    epochs: int = 30
    batch: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-4
    width: int = 64
    blocks: tuple[int, ...] = (2, 2, 2, 2)
    dropout: float = 0.0
    patience: int = 5
    seeds: tuple[int, ...] = (0,)
    channels: int = 1
    crop: float = 0.85  # random resized crop keeps 85–100 % of the side
    schedule: str = "cosine"  # cosine (one warm-up epoch) | constant
    val_frac: float = 0.1
    val_seed: int = 0
    group_pattern: str | None = None
    cache: Path | None = None
    report_test: bool = False
    class_names: tuple[str, ...] = ()
    review_target: float = 0.99  # accuracy wanted among validation results NOT flagged for review
    half: bool = False  # store the weights as float16 (half the file; loaded as float32)
    input_norm: str = "none"  # none | zscore | histeq: per-image standardisation in the network
    rotate: float = 10.0  # random rotation, ± degrees
    photometric: str = "light"  # light (±10 % brightness/contrast) | strong (+ gamma, blur, noise)
    label_smoothing: float = 0.0
    stem: str = "auto"  # auto (small 3x3 stem up to 64 px) | small | large (7x7/2 + max-pool)

    @property
    def small_input(self) -> bool:
        return self.stem == "small" or (self.stem == "auto" and self.size <= 64)


# -- training ---------------------------------------------------------------------------------
def augment(
    x: torch.Tensor,
    gen: torch.Generator,
    crop: float = 0.85,
    rotate: float = 10.0,
    photometric: str = "light",
) -> torch.Tensor:
    """Random resized crop (``crop``–100 % of the side, anywhere in the image), rotation
    ±``rotate``°, then photometric jitter, on a float batch in [-1, 1].

    ``light``: brightness and contrast ±10 %. ``strong`` (for robustness to other scanners and
    exposures): gamma 0.67–1.5 (log-uniform), contrast 0.7–1.3, brightness ±0.15, a Gaussian
    blur (sigma 0.3–1.5 px) on 30 % of images and Gaussian noise (sd up to 0.05) on 30 %."""
    n = x.shape[0]
    angle = (torch.rand(n, generator=gen) * 2 - 1) * rotate * math.pi / 180
    s = torch.rand(n, generator=gen) * (1 - crop) + crop
    shift = (torch.rand(n, 2, generator=gen) * 2 - 1) * (1 - s[:, None])
    cos, sin = torch.cos(angle) * s, torch.sin(angle) * s
    theta = torch.stack(
        [torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, padding_mode="border", align_corners=False)
    if photometric == "strong":
        return _strong_photometric(out, gen)
    contrast = torch.rand(n, 1, 1, 1, generator=gen) * 0.2 + 0.9
    bright = torch.rand(n, 1, 1, 1, generator=gen) * 0.2 - 0.1
    return (out * contrast + bright).clamp(-1, 1)


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of a (N, C, H, W) batch (reflect padding)."""
    radius = max(1, math.ceil(3 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=x.dtype)
    k = torch.exp(-(t**2) / (2 * sigma**2))
    k = k / k.sum()
    c = x.shape[1]
    y = F.pad(x, (radius, radius, radius, radius), mode="reflect")
    y = F.conv2d(y, k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    return F.conv2d(y, k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)


def _strong_photometric(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    n = x.shape[0]
    u = (x + 1) / 2  # [0, 1]
    gamma = torch.exp((torch.rand(n, 1, 1, 1, generator=gen) * 2 - 1) * math.log(1.5))
    u = u.clamp(1e-4, 1) ** gamma
    contrast = torch.rand(n, 1, 1, 1, generator=gen) * 0.6 + 0.7
    bright = (torch.rand(n, 1, 1, 1, generator=gen) * 2 - 1) * 0.075  # ±0.15 on [-1, 1]
    mean = u.mean(dim=(1, 2, 3), keepdim=True)
    u = (u - mean) * contrast + mean + bright
    blur = torch.rand(n, generator=gen) < 0.3
    sigmas = torch.rand(n, generator=gen) * 1.2 + 0.3
    for i in torch.nonzero(blur).flatten().tolist():
        u[i : i + 1] = gaussian_blur(u[i : i + 1], float(sigmas[i]))
    noisy = (torch.rand(n, 1, 1, 1, generator=gen) < 0.3).to(u.dtype)
    sd = torch.rand(n, 1, 1, 1, generator=gen) * 0.025  # up to 0.05 on [-1, 1]
    u = u + noisy * sd * torch.randn(u.shape, generator=gen)
    return (u * 2 - 1).clamp(-1, 1)


def evaluate_split(
    net: nn.Module, split: Split, batch: int = 256
) -> tuple[float, float, np.ndarray]:
    """(loss, accuracy, logits) on a split, no augmentation."""
    net.eval()
    outs = []
    with torch.no_grad():
        for i in range(0, len(split.y), batch):
            outs.append(net(scale(split.x[i : i + batch])))
    logits = torch.cat(outs) if outs else torch.zeros(0, 1)
    loss = float(F.cross_entropy(logits, split.y)) if len(split.y) else float("nan")
    acc = float((logits.argmax(1) == split.y).float().mean()) if len(split.y) else float("nan")
    return loss, acc, logits.numpy()


def review_threshold(
    logits: np.ndarray, y: np.ndarray, temperature: float, target: float = 0.99
) -> float:
    """The lowest top-class probability (0.50–0.99, step 0.01) at which the validation results
    at or above it are at least ``target`` accurate: results below it get needs_review."""
    from tools.imaging import metrics

    probs = metrics.softmax_rows(logits, temperature)
    conf, correct = probs.max(axis=1), probs.argmax(axis=1) == y
    for thr in np.round(np.arange(0.50, 0.995, 0.01), 2):
        keep = conf >= thr
        if keep.any() and float(correct[keep].mean()) >= target:
            return float(thr)
    return 0.99


def auc_of_logits(logits: np.ndarray, y: np.ndarray) -> float:
    from tools.imaging import metrics

    if logits.shape[1] != 2:
        return float("nan")
    return metrics.auc(y, logits[:, 1] - logits[:, 0])


def _fit_one(
    ds: Dataset, cfg: Config, seed: int, echo: Callable[[str], None], progress: bool
) -> tuple[ResNet, dict[str, Any]]:
    """One member: train with ``seed``, keep the epoch with the lowest validation loss."""
    from tqdm import tqdm

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    n_classes = len(ds.classes)
    counts = torch.bincount(ds.train.y, minlength=n_classes).float()
    weights = counts.sum() / (n_classes * counts.clamp(min=1))
    net = ResNet(
        n_classes,
        cfg.channels,
        cfg.width,
        cfg.small_input,
        cfg.blocks,
        cfg.dropout,
        cfg.input_norm,
    )
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = max(1, math.ceil(len(ds.train.y) / cfg.batch))
    total = steps_per_epoch * cfg.epochs

    def lr_at(step: int) -> float:
        if cfg.schedule != "cosine":
            return 1.0
        warm = steps_per_epoch
        if step < warm:
            return (step + 1) / warm
        return 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    gen = torch.Generator().manual_seed(seed)
    best: dict[str, Any] = {"loss": float("inf"), "epoch": -1, "state": None}
    history = []
    start = time.perf_counter()
    for epoch in range(cfg.epochs):
        net.train()
        order = torch.randperm(len(ds.train.y), generator=gen)
        bar = tqdm(
            range(0, len(order), cfg.batch),
            desc=f"seed {seed} epoch {epoch + 1}/{cfg.epochs}",
            disable=not progress,
            leave=False,
            file=sys.stderr,
        )
        for i in bar:
            idx = order[i : i + cfg.batch]
            if len(idx) < 2:
                continue
            x = augment(scale(ds.train.x[idx]), gen, cfg.crop, cfg.rotate, cfg.photometric)
            loss = F.cross_entropy(
                net(x), ds.train.y[idx], weight=weights, label_smoothing=cfg.label_smoothing
            )
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            bar.set_postfix(loss=f"{loss.item():.3f}")
        val_loss, val_acc, logits = evaluate_split(net, ds.val)
        val_auc = auc_of_logits(logits, ds.val.y.numpy())
        history.append(
            {
                "epoch": epoch + 1,
                "val_loss": round(val_loss, 4),
                "val_acc": round(val_acc, 4),
                "val_auc": round(val_auc, 4),
                "seconds": round(time.perf_counter() - start, 1),
            }
        )
        echo(
            f"seed {seed} epoch {epoch + 1}: val_loss {val_loss:.4f} val_acc {val_acc:.4f} "
            f"val_auc {val_auc:.4f} ({time.perf_counter() - start:.0f} s)"
        )
        if val_loss < best["loss"] - 1e-4:
            best = {
                "loss": val_loss,
                "epoch": epoch + 1,
                "state": {k: v.clone() for k, v in net.state_dict().items()},
            }
        elif epoch + 1 - best["epoch"] >= cfg.patience:
            echo(
                f"early stop: no val improvement for {cfg.patience} epochs "
                f"(best epoch {best['epoch']})"
            )
            break
    if best["state"] is not None:
        net.load_state_dict(best["state"])
    _, val_acc, logits = evaluate_split(net, ds.val)
    member = {
        "seed": seed,
        "best_epoch": best["epoch"],
        "val_loss": round(best["loss"], 4),
        "val_acc": round(val_acc, 4),
        "val_auc": round(auc_of_logits(logits, ds.val.y.numpy()), 4),
        "history": history,
    }
    return net, member


def train(
    data: Path,
    out: Path,
    cfg: Config | None = None,
    *,
    progress: bool = True,
    echo: Callable[[str], None] = print,
    **overrides: Any,
) -> dict[str, Any]:
    """Train (one member per seed), fit a temperature on validation, save ``out``.

    Keyword overrides set :class:`Config` fields (``train(data, out, size=64, seed=1)``;
    ``seed`` is short for ``seeds=(seed,)``)."""
    from tools.imaging import metrics

    cfg = cfg or Config()
    if "seed" in overrides:
        overrides["seeds"] = (int(overrides.pop("seed")),)
    unknown = set(overrides) - set(Config.__dataclass_fields__)
    if unknown:
        raise TypeError(f"unknown training options: {sorted(unknown)}")
    for k, v in overrides.items():
        setattr(cfg, k, v)
    if cfg.schedule not in ("cosine", "constant"):
        raise UserError(f"unknown schedule {cfg.schedule!r}: use cosine or constant")
    t0 = time.perf_counter()
    ds = load_dataset(
        data,
        cfg.size,
        cfg.channels,
        cfg.val_seed,
        cfg.val_frac,
        group_pattern=cfg.group_pattern,
        cache=cfg.cache,
    )
    if cfg.class_names:
        if len(cfg.class_names) != len(ds.classes):
            raise UserError(
                f"--classes lists {len(cfg.class_names)} names for {len(ds.classes)} classes"
            )
        ds.classes = list(cfg.class_names)
    echo(
        f"data: {ds.source}: {len(ds.train.y)} train, {len(ds.val.y)} val ({ds.val_note}), "
        f"classes {ds.classes}, {cfg.size} px ({time.perf_counter() - t0:.0f} s)"
    )
    nets: list[nn.Module] = []
    members: list[dict[str, Any]] = []
    for seed in cfg.seeds:
        net, member = _fit_one(ds, cfg, seed, echo, progress)
        nets.append(net)
        members.append(member)
    model: nn.Module = nets[0] if len(nets) == 1 else Ensemble(nets)
    val_loss, val_acc, val_logits = evaluate_split(model, ds.val)
    yv = ds.val.y.numpy()
    temperature = metrics.fit_temperature(val_logits, yv) if len(yv) else 1.0
    review_below = review_threshold(val_logits, yv, temperature, cfg.review_target)
    result: dict[str, Any] = {
        "classes": ds.classes,
        "members": members,
        "best_epoch": members[0]["best_epoch"],
        "history": members[0]["history"],
        "temperature": round(temperature, 4),
        "review_below": review_below,
        "n_train": len(ds.train.y),
        "n_val": len(ds.val.y),
        "val_split": ds.val_note,
        "val": {
            "loss": round(val_loss, 4),
            "accuracy": round(val_acc, 4),
            "auc": round(auc_of_logits(val_logits, yv), 4),
            "nll_after_temperature": round(metrics.nll(val_logits, yv, temperature), 4),
            "ece_before": round(metrics.ece(metrics.softmax_rows(val_logits), yv, 10), 4),
            "ece_after": round(
                metrics.ece(metrics.softmax_rows(val_logits, temperature), yv, 10), 4
            ),
        },
        "train_seconds": round(time.perf_counter() - t0, 1),
    }
    if cfg.report_test and ds.test is not None and len(ds.test.y):
        _, test_acc, logits = evaluate_split(model, ds.test)
        y = ds.test.y.numpy()
        result["test"] = {"n": len(y), "accuracy": round(test_acc, 4)}
        if len(ds.classes) == 2:
            score = metrics.softmax_rows(logits, temperature)[:, 1]
            result["test"]["auc"] = round(metrics.auc(y, score), 4)
    meta = {
        "classes": ds.classes,
        "input_size": cfg.size,
        "channels": cfg.channels,
        "width": cfg.width,
        "blocks": list(cfg.blocks),
        "dropout": cfg.dropout,
        "small_input": cfg.small_input,
        "input_norm": cfg.input_norm,
        "members": len(nets) if len(nets) > 1 else 0,
        "temperature": result["temperature"],
        "review_below": review_below,
        "source": Path(ds.source).name,
        "seeds": list(cfg.seeds),
        "seed": cfg.seeds[0],
        "config": {
            k: (list(v) if isinstance(v, tuple) else str(v) if isinstance(v, Path) else v)
            for k, v in vars(cfg).items()
            if k != "cache"
        },
    }
    # the exact validation images, so temperature and thresholds can be refitted and audited
    result["val_names"] = [Path(n).name for n in ds.val.names]
    result["val_labels"] = yv.tolist()
    result["val_logits"] = np.asarray(val_logits, dtype=np.float64).tolist()
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"meta": meta, "state_dict": state_for_save(model, cfg.half), "result": result}, out)
    result["checkpoint"] = str(out)
    echo(
        f"saved {out}: val accuracy {result['val']['accuracy']:.4f}, AUC {result['val']['auc']:.4f}, "
        f"temperature {result['temperature']} ({result['train_seconds']:.0f} s)"
    )
    return result


def ints(text: str, option: str) -> tuple[int, ...]:
    """``"2,2,2,2"`` -> ``(2, 2, 2, 2)``; anything else is a user error naming ``option``."""
    try:
        return tuple(int(v) for v in text.replace(" ", "").split(",") if v)
    except ValueError as exc:
        raise UserError(f"{option}: expected comma-separated integers, got {text!r}") from exc


def check(cfg: Config) -> None:
    """The bounds a run needs (the CLI's options enforce them too), as user errors."""
    for name, value, low in (
        ("--size", cfg.size, 8),
        ("--epochs", cfg.epochs, 1),
        ("--batch", cfg.batch, 2),
        ("--width", cfg.width, 2),
        ("--patience", cfg.patience, 1),
    ):
        if value < low:
            raise UserError(f"{name} must be at least {low}, got {value}")
    if not 0 < cfg.val_frac < 1 or not 0 < cfg.crop <= 1:
        raise UserError("--val-frac must be in (0, 1) and --crop in (0, 1]")
    if cfg.schedule not in ("cosine", "constant"):
        raise UserError(f"--schedule {cfg.schedule!r}: use cosine or constant")
    if cfg.photometric not in ("light", "strong"):
        raise UserError(f"--photometric {cfg.photometric!r}: use light or strong")
    if cfg.stem not in ("auto", "small", "large"):
        raise UserError(f"--stem {cfg.stem!r}: use auto, small or large")
    if cfg.input_norm not in INPUT_NORMS:
        raise UserError(f"--input-norm {cfg.input_norm!r}: use one of {', '.join(INPUT_NORMS)}")
    if not 0 <= cfg.label_smoothing < 1 or not 0 <= cfg.rotate <= 180:
        raise UserError("--label-smoothing must be in [0, 1) and --rotate in [0, 180]")
    if not cfg.blocks or not cfg.seeds:
        raise UserError("--blocks and --seeds need at least one integer each")


def run(
    data: Path,
    out: Path,
    cfg: Config,
    *,
    threads: int = 0,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """``clinassist train image``: check ``cfg``, train, print the result without its long
    lists (raises UserError on bad input)."""
    check(cfg)
    if threads:
        torch.set_num_threads(threads)
    result = train(data, out, cfg, progress=sys.stderr.isatty(), echo=echo)
    shown = {
        k: v
        for k, v in result.items()
        if k not in ("history", "val_names", "val_logits", "val_labels")
    }
    shown["members"] = [{k: v for k, v in m.items() if k != "history"} for m in result["members"]]
    echo(str(shown))
    return result
