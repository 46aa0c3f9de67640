"""Small, dependency-free metrics and plots (PIL) for the image evaluation."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval for a proportion k/n."""
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (max(0.0, centre - half), min(1.0, centre + half))


def auc(y: Sequence[int] | Any, score: Sequence[float] | Any) -> float:
    """ROC AUC by the Mann-Whitney statistic (ties count half). NaN if one class is absent."""
    yv, s = np.asarray(y), np.asarray(score, dtype=np.float64)
    pos, neg = s[yv == 1], s[yv == 0]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    diff = pos[:, None] - neg[None, :]
    return float(((diff > 0).sum() + 0.5 * (diff == 0).sum()) / (len(pos) * len(neg)))


def bootstrap_auc(
    y: Sequence[int] | Any, score: Sequence[float] | Any, n_boot: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap 95% CI of the AUC (stratified resampling)."""
    rng = np.random.default_rng(seed)
    yv, s = np.asarray(y), np.asarray(score, dtype=np.float64)
    pos, neg = np.where(yv == 1)[0], np.where(yv == 0)[0]
    if len(pos) == 0 or len(neg) == 0:
        return (float("nan"), float("nan"))
    vals = []
    for _ in range(n_boot):
        idx = np.concatenate([rng.choice(pos, len(pos)), rng.choice(neg, len(neg))])
        vals.append(auc(yv[idx], s[idx]))
    lo, hi = np.percentile(vals, [2.5, 97.5])
    return (float(lo), float(hi))


def roc_points(y: Sequence[int] | Any, score: Sequence[float] | Any) -> list[tuple[float, float]]:
    yv, s = np.asarray(y), np.asarray(score, dtype=np.float64)
    pts = [(0.0, 0.0)]
    n_pos, n_neg = max(1, int((yv == 1).sum())), max(1, int((yv == 0).sum()))
    for t in sorted(set(s.tolist()), reverse=True):
        pred = s >= t
        pts.append(
            (float((pred & (yv == 0)).sum() / n_neg), float((pred & (yv == 1)).sum() / n_pos))
        )
    pts.append((1.0, 1.0))
    return pts


def softmax_rows(logits: np.ndarray, t: float = 1.0) -> np.ndarray:
    z = logits / t
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def nll(logits: np.ndarray, y: np.ndarray, t: float = 1.0) -> float:
    p = softmax_rows(logits, t)[np.arange(len(y)), y]
    return float(-np.mean(np.log(np.clip(p, 1e-12, 1.0))))


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """Temperature minimising the NLL (log-spaced grid 0.05–20, then a finer local grid)."""
    grid = np.exp(np.linspace(np.log(0.05), np.log(20.0), 400))
    best = min(grid, key=lambda t: nll(logits, y, float(t)))
    fine = np.linspace(best * 0.95, best * 1.05, 41)
    return float(min(fine, key=lambda t: nll(logits, y, float(t))))


def ece(probs: np.ndarray, y: np.ndarray, bins: int = 5) -> float:
    """Expected calibration error of the top-class confidence (equal-width bins)."""
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == y
    total = 0.0
    edges = np.linspace(0, 1, bins + 1)
    for lo, hi in itertools.pairwise(edges):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            total += float(m.mean()) * abs(float(correct[m].mean()) - float(conf[m].mean()))
    return total


def brier(probs: np.ndarray, y: np.ndarray) -> float:
    onehot = np.eye(probs.shape[1])[y]
    return float(np.mean(np.sum((probs - onehot) ** 2, axis=1)))


# -- plots (PIL only: matplotlib is not part of the stack) -------------------------------------
def _canvas(title: str, size: int = 360) -> tuple[Any, Any, int, int]:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(img)
    draw.text((10, 6), title, fill="black")
    return img, draw, 40, size - 40


def plot_roc(path: Path, pts: list[tuple[float, float]], title: str) -> Path:
    img, draw, lo, hi = _canvas(title)
    span = hi - lo
    draw.rectangle((lo, lo, hi, hi), outline="black")
    draw.line((lo, hi, hi, lo), fill=(180, 180, 180))
    xy = [(lo + x * span, hi - y * span) for x, y in pts]
    draw.line(xy, fill=(200, 30, 30), width=2)
    draw.text((lo, hi + 8), "false positive rate ->", fill="black")
    draw.text((4, lo - 14), "TPR", fill="black")
    img.save(path)
    return path


def plot_confusion(path: Path, matrix: np.ndarray, classes: Sequence[str], title: str) -> Path:
    img, draw, lo, hi = _canvas(title, size=80 + 70 * len(classes))
    cell = (hi - lo) // len(classes)
    top = max(1, int(matrix.max()))
    for i in range(len(classes)):
        for j in range(len(classes)):
            v = int(matrix[i, j])
            shade = 255 - int(200 * v / top)
            box = (lo + j * cell, lo + i * cell, lo + (j + 1) * cell, lo + (i + 1) * cell)
            draw.rectangle(box, fill=(shade, shade, 255), outline="black")
            draw.text((box[0] + cell // 2 - 4, box[1] + cell // 2 - 6), str(v), fill="black")
        draw.text((2, lo + i * cell + cell // 2), classes[i][:6], fill="black")
        draw.text((lo + i * cell + 4, lo - 14), classes[i][:9], fill="black")
    draw.text((lo, hi + 8), "rows: true, columns: predicted", fill="black")
    img.save(path)
    return path


def plot_reliability(
    path: Path, probs: np.ndarray, y: np.ndarray, title: str, bins: int = 5
) -> Path:
    img, draw, lo, hi = _canvas(title)
    span = hi - lo
    draw.rectangle((lo, lo, hi, hi), outline="black")
    draw.line((lo, hi, hi, lo), fill=(180, 180, 180))
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == y
    edges = np.linspace(0, 1, bins + 1)
    width = span / bins
    for k, (a, b) in enumerate(itertools.pairwise(edges)):
        m = (conf > a) & (conf <= b)
        if not m.any():
            continue
        acc = float(correct[m].mean())
        x0 = lo + k * width
        draw.rectangle(
            (x0 + 2, hi - acc * span, x0 + width - 2, hi), fill=(90, 140, 220), outline="black"
        )
        draw.text((x0 + 4, hi - acc * span - 12), f"n={int(m.sum())}", fill="black")
    draw.text((lo, hi + 8), "confidence -> (bars: accuracy)", fill="black")
    img.save(path)
    return path
