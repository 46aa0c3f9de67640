"""Metrics (scikit-learn and scipy where they have them) and plots (PIL) for the image
evaluation."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a proportion k/n (scipy), 95 % at ``z`` = 1.96."""
    if n == 0:
        return (0.0, 1.0)
    from scipy.stats import binomtest, norm

    level = float(2 * norm.cdf(z) - 1)
    ci = binomtest(k, n).proportion_ci(confidence_level=level, method="wilson")
    return (float(ci.low), float(ci.high))


def auc(y: Sequence[int] | Any, score: Sequence[float] | Any) -> float:
    """ROC AUC (scikit-learn; ties count half) of class 1 against class 0. NaN if one class is
    absent."""
    from sklearn.metrics import roc_auc_score

    yv, s = np.asarray(y), np.asarray(score, dtype=np.float64)
    keep = (yv == 0) | (yv == 1)
    if not (yv[keep] == 1).any() or not (yv[keep] == 0).any():
        return float("nan")
    return float(roc_auc_score(yv[keep] == 1, s[keep]))


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
        vals.append(auc_fast(yv[idx], s[idx]))
    lo, hi = np.percentile(vals, [2.5, 97.5])
    return (float(lo), float(hi))


def roc_points(y: Sequence[int] | Any, score: Sequence[float] | Any) -> list[tuple[float, float]]:
    """(false-positive rate, true-positive rate) at every distinct score, from (0, 0) to (1, 1)
    (scikit-learn's ROC curve; a class that is absent counts as rate 0)."""
    import warnings

    from sklearn.exceptions import UndefinedMetricWarning
    from sklearn.metrics import roc_curve

    yv, s = np.asarray(y), np.asarray(score, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        fpr, tpr, _ = roc_curve(yv == 1, s, drop_intermediate=False)
    fpr, tpr = np.nan_to_num(fpr), np.nan_to_num(tpr)
    return [*zip(fpr.tolist(), tpr.tolist(), strict=True), (1.0, 1.0)]


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
    """Multi-class Brier score: the mean over images of the squared distance between the
    probabilities and the one-hot label, summed over classes (scikit-learn, not halved)."""
    from sklearn.metrics import brier_score_loss

    labels = list(range(probs.shape[1]))
    return float(brier_score_loss(y, probs, labels=labels, scale_by_half=False))


def auc_fast(y: Any, score: Any) -> float:
    """:func:`auc` as the Mann-Whitney U of class 1 over class 0 (scipy; ties count half): the
    same number with less overhead per call, for the bootstrap loops. NaN if a class is absent."""
    from scipy.stats import mannwhitneyu

    yv, s = np.asarray(y), np.asarray(score, dtype=np.float64)
    pos, neg = s[yv == 1], s[yv == 0]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    u = mannwhitneyu(pos, neg, method="asymptotic", use_continuity=False).statistic
    return float(u / (len(pos) * len(neg)))


def paired_bootstrap(
    y: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    stat: str = "auc",
    n_boot: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """Difference ``stat(b) - stat(a)`` on the same images: point estimate, 95 % percentile CI
    and a two-sided bootstrap p-value (stratified resampling of images). ``a``/``b`` are scores
    (auc) or 0/1 correctness (accuracy)."""
    rng = np.random.default_rng(seed)
    pos, neg = np.where(y == 1)[0], np.where(y == 0)[0]

    def f(idx: np.ndarray) -> float:
        if stat == "auc":
            return auc_fast(y[idx], b[idx]) - auc_fast(y[idx], a[idx])
        return float(b[idx].mean() - a[idx].mean())

    point = f(np.arange(len(y)))
    vals = np.array(
        [
            f(np.concatenate([rng.choice(pos, len(pos)), rng.choice(neg, len(neg))]))
            for _ in range(n_boot)
        ]
    )
    lo, hi = np.percentile(vals, [2.5, 97.5])
    p = 2 * min(float((vals <= 0).mean()), float((vals >= 0).mean()))
    return {"diff": point, "ci95": [float(lo), float(hi)], "p_bootstrap": min(1.0, p)}


def mcnemar_exact(a_correct: np.ndarray, b_correct: np.ndarray) -> dict[str, float]:
    """Exact McNemar test on paired correctness: discordant pairs and a two-sided p-value."""
    b_only = int(((~a_correct.astype(bool)) & b_correct.astype(bool)).sum())
    a_only = int((a_correct.astype(bool) & ~b_correct.astype(bool)).sum())
    n = a_only + b_only
    k = min(a_only, b_only)
    from scipy.stats import binomtest

    p = min(1.0, float(binomtest(k, n, 0.5).pvalue)) if n else 1.0
    return {"only_first_correct": a_only, "only_second_correct": b_only, "p": p}


# -- plots (matplotlib, Agg backend: no display needed) ------------------------------------------
def _figure(title: str, size: tuple[float, float] = (4.6, 4.2)) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=size, dpi=110)
    ax.set_title(title, fontsize=9)
    return fig, ax


def _save(fig: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
    return path


def plot_roc(
    path: Path,
    pts: list[tuple[float, float]] | dict[str, list[tuple[float, float]]],
    title: str,
    marks: dict[str, tuple[float, float]] | None = None,
) -> Path:
    """ROC curve(s): one list of (FPR, TPR) points, or ``{label: points}`` to overlay models;
    ``marks``: each model's operating point (FPR, TPR) at its decision threshold."""
    curves = pts if isinstance(pts, dict) else {"": pts}
    fig, ax = _figure(title)
    ax.plot([0, 1], [0, 1], color="0.75", lw=1, ls="--")
    for i, (label, points) in enumerate(curves.items()):
        xs, ys = zip(*points, strict=True)
        line = ax.plot(xs, ys, lw=1.8, label=label or None, color=f"C{i}")[0]
        if marks and label in marks:
            ax.plot(*marks[label], "o", color=line.get_color(), ms=5)
    ax.set_xlabel("false positive rate (1 - specificity)")
    ax.set_ylabel("true positive rate (sensitivity)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    if any(curves):
        ax.legend(loc="lower right", fontsize=7)
    return _save(fig, path)


def plot_confusion(path: Path, matrix: np.ndarray, classes: Sequence[str], title: str) -> Path:
    fig, ax = _figure(title, (3.6 + 0.5 * len(classes), 3.2 + 0.5 * len(classes)))
    ax.imshow(matrix, cmap="Blues")
    top = max(1, int(matrix.max()))
    for i in range(len(classes)):
        for j in range(len(classes)):
            v = int(matrix[i, j])
            ax.text(
                j, i, str(v), ha="center", va="center", color="white" if v > top / 2 else "black"
            )
    ax.set_xticks(range(len(classes)), [str(c) for c in classes], fontsize=8)
    ax.set_yticks(range(len(classes)), [str(c) for c in classes], fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    return _save(fig, path)


def reliability_bins(probs: np.ndarray, y: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Top-class confidence bins (equal width): count, mean confidence, accuracy."""
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == y
    out = []
    for lo, hi in itertools.pairwise(np.linspace(0, 1, bins + 1)):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            out.append(
                {
                    "lo": float(lo),
                    "hi": float(hi),
                    "n": int(m.sum()),
                    "confidence": float(conf[m].mean()),
                    "accuracy": float(correct[m].mean()),
                }
            )
    return out


def plot_reliability(
    path: Path,
    probs: np.ndarray | dict[str, np.ndarray],
    y: np.ndarray,
    title: str,
    bins: int = 5,
) -> Path:
    """Reliability diagram of the top-class confidence (accuracy per bin vs confidence, with
    the share of images per bin below); ``{label: probs}`` overlays several curves."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    series = probs if isinstance(probs, dict) else {"": probs}
    fig, (ax, hx) = plt.subplots(
        2, 1, figsize=(4.6, 5.0), dpi=110, gridspec_kw={"height_ratios": [3, 1]}, sharex=True
    )
    ax.set_title(title, fontsize=9)
    ax.plot([0, 1], [0, 1], color="0.75", lw=1, ls="--")
    width = 1.0 / bins / max(1, len(series))
    for i, (label, pr) in enumerate(series.items()):
        rows = reliability_bins(pr, y, bins)
        ece_v = ece(pr, y, bins)
        name = f"{label} (ECE {ece_v:.3f})" if label else f"ECE {ece_v:.3f}"
        ax.plot(
            [r["confidence"] for r in rows],
            [r["accuracy"] for r in rows],
            "o-",
            color=f"C{i}",
            label=name,
            ms=4,
        )
        hx.bar(
            [r["lo"] + i * width for r in rows],
            [r["n"] / len(y) for r in rows],
            width=width,
            align="edge",
            color=f"C{i}",
            alpha=0.7,
        )
    ax.set_ylabel("accuracy")
    k = next(iter(series.values())).shape[1]
    ax.set_xlim(1 / k if k > 1 else 0, 1)  # the top class of k has confidence >= 1/k
    ax.set_ylim(0, 1.02)
    ax.legend(loc="upper left", fontsize=7)
    hx.set_xlabel("top-class confidence")
    hx.set_ylabel("share")
    return _save(fig, path)
