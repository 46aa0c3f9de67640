"""``clinassist eval image --data DIR|CSV|NPZ [--model ID ...]``: chest models side by side on a
labelled set the user brings (validate before you trust), with the same metrics and plots for
each model and a paired comparison on the same images.

Sets: an ImageFolder (``DIR/<class>/*``, or its ``test/`` split when ``DIR/test`` exists), a
CSV of ``path,label[,split]`` (its ``test`` rows when it has any), or a MedMNIST ``.npz`` (its
``test`` split). Class names must match the model's (any case), or be ``0..k-1`` (MedMNIST),
mapped in the model's class order.

Per model: accuracy, sensitivity, specificity, PPV, NPV (Wilson 95 % CIs), ROC AUC (stratified
bootstrap 95 % CI), calibration before/after the registry's temperature (ECE with 10 bins, NLL,
Brier), the review flag's rate and the accuracy with and without it, and the out-of-scope
guard's acceptance of the set. Pairs: AUC and accuracy differences with paired bootstrap CIs
and an exact McNemar test, each model against the first one listed. Scores come from each
model directly (the guard is reported, not
applied), so every model sees every image.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from assistant.core.errors import ToolUnavailableError, UserError
from assistant.core.types import Echo
from tools.imaging import guard, metrics, registry
from tools.imaging.io import LoadedImage

ECE_BINS = 10


@dataclass
class EvalImage:
    name: str
    label: int  # index into the set's classes
    load: Callable[[], LoadedImage]


def load_set(data: Path, split: str | None = None) -> tuple[list[str], list[EvalImage], str]:
    """(classes, images, description) of a labelled set; UserError for what it cannot read."""
    from tools.imaging.data import list_items

    if not data.exists():
        raise UserError(f"--data {data} does not exist: give an ImageFolder, a CSV or a .npz")
    if data.suffix.lower() == ".npz":
        return _npz_set(data, split or "test")
    classes, parts = list_items(data)
    chosen = split or ("test" if "test" in parts else "all")
    if chosen not in parts:
        raise UserError(f"{data} has no {chosen!r} split (it has {', '.join(sorted(parts))})")
    images = [EvalImage(it.path.name, it.label, _file_loader(it.path)) for it in parts[chosen]]
    if not images:
        raise UserError(f"{data}: no images in the {chosen!r} split")
    return classes, images, f"{data.name} ({chosen} split)" if chosen != "all" else data.name


def _file_loader(path: Path) -> Callable[[], LoadedImage]:
    def load() -> LoadedImage:
        from tools.imaging.io import load_image

        return load_image(path.read_bytes(), path.name)

    return load


def _npz_set(path: Path, split: str) -> tuple[list[str], list[EvalImage], str]:
    try:
        with np.load(path) as npz:
            if f"{split}_images" not in npz.files:
                raise UserError(f"{path} has no {split}_images (a MedMNIST .npz has test_images)")
            imgs = np.asarray(npz[f"{split}_images"])
            labels = np.asarray(npz[f"{split}_labels"]).reshape(-1).astype(int)
    except (OSError, ValueError, KeyError) as exc:
        raise UserError(f"cannot read {path} as a MedMNIST .npz ({exc})") from exc
    classes = [str(i) for i in range(int(labels.max()) + 1)]

    def loader(i: int) -> Callable[[], LoadedImage]:
        return lambda: LoadedImage(pixels=imgs[i].astype(np.float32), source="array")

    items = [EvalImage(f"{split}[{i}]", int(labels[i]), loader(i)) for i in range(len(labels))]
    return classes, items, f"{path.name} ({split} split, {imgs.shape[1]}x{imgs.shape[2]} px)"


def label_map(set_classes: list[str], model_classes: tuple[str, ...]) -> list[int]:
    """Model class index of each set class (same names in any case, or 0..k-1 by order)."""
    lower = [c.lower() for c in model_classes]
    if all(c.lower() in lower for c in set_classes):
        return [lower.index(c.lower()) for c in set_classes]
    if [c for c in set_classes] == [str(i) for i in range(len(set_classes))] and len(
        set_classes
    ) <= len(model_classes):
        return list(range(len(set_classes)))
    raise UserError(
        f"the set's classes {set_classes} do not match the model's {list(model_classes)}: name "
        "the class folders (or CSV labels) like the model's classes"
    )


def _published() -> list[dict[str, Any]]:
    text = resources.files("tools.imaging").joinpath("published.yaml").read_text(encoding="utf-8")
    return list(yaml.safe_load(text))


# -- metrics -------------------------------------------------------------------------------------
def _ci(k: int, n: int) -> list[float]:
    return [round(v, 3) for v in metrics.wilson(k, n)]


def model_metrics(
    entry: registry.ClassifierEntry, logits: np.ndarray, y: np.ndarray
) -> dict[str, Any]:
    """Everything for one model on one set (``y`` in the model's class indices)."""
    probs_raw = metrics.softmax_rows(logits)
    probs = metrics.softmax_rows(logits, entry.temperature)
    pred = probs.argmax(axis=1)
    n, k = len(y), int((pred == y).sum())
    classes = list(entry.classes)
    confusion = np.zeros((len(classes), len(classes)), dtype=int)
    for t, p in zip(y, pred, strict=True):
        confusion[t, p] += 1
    m: dict[str, Any] = {
        "model": entry.label,
        "n": n,
        "per_class_n": {c: int((y == i).sum()) for i, c in enumerate(classes)},
        "accuracy": round(k / n, 4),
        "accuracy_ci95": _ci(k, n),
        "confusion": confusion.tolist(),
    }
    if entry.positive:
        pos = classes.index(entry.positive)
        yb = (y == pos).astype(int)
        score = probs[:, pos]
        pb = pred == pos
        tp, tn = int((pb & (yb == 1)).sum()), int((~pb & (yb == 0)).sum())
        fp, fn = int((pb & (yb == 0)).sum()), int((~pb & (yb == 1)).sum())
        auc = metrics.auc_fast(yb, score)
        m.update(
            sensitivity=round(tp / max(1, tp + fn), 4),
            sensitivity_ci95=_ci(tp, tp + fn),
            specificity=round(tn / max(1, tn + fp), 4),
            specificity_ci95=_ci(tn, tn + fp),
            ppv=round(tp / max(1, tp + fp), 4),
            ppv_ci95=_ci(tp, tp + fp),
            npv=round(tn / max(1, tn + fn), 4),
            npv_ci95=_ci(tn, tn + fn),
            auc=round(auc, 4),
            auc_ci95=[round(v, 3) for v in metrics.bootstrap_auc(yb, score)],
        )
    conf = probs.max(axis=1)
    flagged = conf < entry.review_below
    m["calibration"] = {
        "temperature": entry.temperature,
        "fitted_on": entry.calibration or "not fitted (T = 1)",
        "calibrated": entry.calibration_n > 0,
        "uncalibrated": {
            "ece": round(metrics.ece(probs_raw, y, ECE_BINS), 4),
            "nll": round(metrics.nll(logits, y), 4),
            "brier": round(metrics.brier(probs_raw, y), 4),
        },
        "calibrated_result": {
            "ece": round(metrics.ece(probs, y, ECE_BINS), 4),
            "nll": round(metrics.nll(logits, y, entry.temperature), 4),
            "brier": round(metrics.brier(probs, y), 4),
        },
        "bins": metrics.reliability_bins(probs, y, ECE_BINS),
    }
    ok = pred == y
    m["review"] = {
        "review_below": entry.review_below,
        "flagged": int(flagged.sum()),
        "flagged_rate": round(float(flagged.mean()), 4),
        "accuracy_unflagged": round(float(ok[~flagged].mean()), 4) if (~flagged).any() else None,
        "accuracy_flagged": round(float(ok[flagged].mean()), 4) if flagged.any() else None,
    }
    return m


def compare(
    y_pos: np.ndarray, a: dict[str, np.ndarray], b: dict[str, np.ndarray]
) -> dict[str, Any]:
    """Paired differences (b - a) on the same images."""
    d_auc = metrics.paired_bootstrap(y_pos, a["score"], b["score"], "auc")
    d_acc = metrics.paired_bootstrap(
        y_pos, a["correct"].astype(float), b["correct"].astype(float), "accuracy"
    )
    return {
        "auc_diff": round(d_auc["diff"], 4),
        "auc_diff_ci95": [round(v, 4) for v in d_auc["ci95"]],
        "auc_p_bootstrap": round(d_auc["p_bootstrap"], 4),
        "accuracy_diff": round(d_acc["diff"], 4),
        "accuracy_diff_ci95": [round(v, 4) for v in d_acc["ci95"]],
        "mcnemar": metrics.mcnemar_exact(a["correct"], b["correct"]),
    }


# -- the run -------------------------------------------------------------------------------------
def evaluate_set(
    engine: Any,
    data: Path,
    out_dir: Path,
    echo: Echo,
    models: list[str] | None = None,
    split: str | None = None,
) -> dict[str, Any]:
    """Score every model on every image of the set; metrics, comparison, plots."""
    classes, images, described = load_set(data, split)
    loaded = resolve_models(engine, models, echo)
    if not loaded:
        raise ToolUnavailableError("none of the models is available: fetch them first")
    entries = {k: lm.entry for k, lm in loaded.items()}
    if len({e.domain for e in entries.values()}) > 1:
        raise UserError("compare models of one kind (domain) at a time")
    maps = {k: label_map(classes, e.classes) for k, e in entries.items()}
    echo(f"image set: {described}: {len(images)} images, classes {classes}")
    logits: dict[str, list[np.ndarray]] = {k: [] for k in loaded}
    ms: dict[str, float] = dict.fromkeys(loaded, 0.0)
    guard_rows: list[dict[str, Any]] = []
    cents = engine.centroids() if registry.GUARD_MODEL in loaded else None
    start = time.perf_counter()
    for i, item in enumerate(images):
        try:
            img = item.load()
        except Exception as exc:  # one unreadable file stops the run with a clear line
            msg = getattr(exc, "message", str(exc))
            raise UserError(f"{item.name}: {msg}") from exc
        for key, lm in loaded.items():
            t = time.perf_counter()
            out = lm.model.run(lm.model.prepare(img))
            ms[key] += (time.perf_counter() - t) * 1000
            logits[key].append(out.logits)
            if cents is not None and key == registry.GUARD_MODEL:
                guard_rows.append(_guard_row(img, out.features, cents))
        if (i + 1) % 100 == 0:
            echo(f"  {i + 1}/{len(images)} images ({time.perf_counter() - start:.0f} s)")
    y_set = np.array([it.label for it in images])
    result: dict[str, Any] = {
        "set": {"data": described, "n": len(images), "classes": classes},
        "models": {},
        "published": _published(),
    }
    curves: dict[str, list[tuple[float, float]]] = {}
    marks: dict[str, tuple[float, float]] = {}
    paired: dict[str, dict[str, np.ndarray]] = {}
    for key in loaded:
        entry = entries[key]
        y = np.array([maps[key][v] for v in y_set])
        lg = np.stack(logits[key])
        m = model_metrics(entry, lg, y)
        m["ms_per_image_in_eval"] = round(ms[key] / len(images), 1)
        result["models"][key] = m
        _plots(out_dir, entry, lg, y, m)
        if entry.positive:
            pos = entry.classes.index(entry.positive)
            score = metrics.softmax_rows(lg, entry.temperature)[:, pos]
            curves[f"{key} (AUC {m['auc']:.3f})"] = metrics.roc_points((y == pos), score)
            marks[f"{key} (AUC {m['auc']:.3f})"] = (1 - m["specificity"], m["sensitivity"])
            paired[key] = {
                "y": (y == pos).astype(int),
                "score": score,
                "correct": lg.argmax(axis=1) == y,
            }
        _echo_model(echo, key, m)
    if curves:
        metrics.plot_roc(out_dir / "image_roc.png", curves, f"ROC on {described}", marks)
    keys_p = list(paired)
    result["comparisons"] = {}
    pairs = [(a, b) for i, a in enumerate(keys_p) for b in keys_p[i + 1 :]]
    for a, b in pairs:  # every later model against every earlier one (the first: the baseline)
        c = compare(paired[a]["y"], paired[a], paired[b])
        result["comparisons"][f"{b} - {a}"] = c
        echo(
            f"  {b} - {a}: AUC {c['auc_diff']:+.4f} (95% CI {c['auc_diff_ci95'][0]:+.3f} to "
            f"{c['auc_diff_ci95'][1]:+.3f}), accuracy {c['accuracy_diff']:+.4f} (McNemar p "
            f"{c['mcnemar']['p']:.2g})"
        )
    if guard_rows:
        acc = sum(r["accepted"] for r in guard_rows)
        result["guard"] = {
            "accepted": acc,
            "n": len(guard_rows),
            "accepted_ci95": _ci(acc, len(guard_rows)),
            "reasons": _top_reasons(guard_rows),
        }
        echo(f"  guard: accepts {acc}/{len(guard_rows)} images of this set as chest X-rays")
    _write_predictions(out_dir / "image_set_predictions.csv", images, classes, logits)
    result["seconds"] = round(time.perf_counter() - start, 1)
    return result


def resolve_models(engine: Any, models: list[str] | None, echo: Echo) -> dict[str, Any]:
    """Registry keys (default: every chest model) or checkpoint files (``.pt``) -> loaded
    models; registry models that are not fetched are skipped with a line saying so."""
    from tools.imaging.model import TorchClassifier
    from tools.imaging.pipeline import Loaded

    keys = models or [k for k, e in registry.REGISTRY.items() if e.domain == "cxr"]
    out: dict[str, Any] = {}
    for key in keys:
        if key.endswith(".pt"):
            path = Path(key)
            if not path.is_file():
                raise UserError(f"--model {key}: no such checkpoint file")
            entry = registry.from_checkpoint(path)
            out[entry.key] = Loaded(entry, TorchClassifier(path), "")
            continue
        if key not in registry.REGISTRY:
            raise UserError(
                f"unknown image model {key!r}: use {', '.join(registry.REGISTRY)} or a .pt file"
            )
        try:
            out[key] = engine.model(key)
        except ToolUnavailableError as exc:
            echo(f"  {key}: skipped ({exc.message})")
    return out


def _guard_row(
    img: LoadedImage, features: np.ndarray, cents: dict[str, np.ndarray]
) -> dict[str, Any]:
    verdict = guard.check_tags(img)
    if verdict is not None and not verdict.in_distribution:
        return {"accepted": False, "reason": "dicom"}
    content = guard.check_content(img)
    if content is not None:
        return {"accepted": False, "reason": (content.reason or "content").split(";")[0][:60]}
    fv = guard.check_features(features, cents, verdict.domain if verdict else None)
    ok = fv.in_distribution and fv.domain == "cxr"
    return {"accepted": ok, "reason": None if ok else f"features -> {fv.domain or 'none'}"}


def _top_reasons(rows: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in rows:
        if not r["accepted"]:
            key = "image too small" if "pixels" in str(r["reason"]) else str(r["reason"])
            out[key] = out.get(key, 0) + 1
    return out


def _plots(
    out_dir: Path, entry: registry.ClassifierEntry, lg: np.ndarray, y: np.ndarray, m: dict[str, Any]
) -> None:
    n = len(y)
    metrics.plot_confusion(
        out_dir / f"image_{entry.key}_confusion.png",
        np.array(m["confusion"]),
        list(entry.classes),
        f"{entry.key} (n={n}, accuracy {m['accuracy']:.3f})",
    )
    series = {"uncalibrated": metrics.softmax_rows(lg)}
    if entry.calibration_n:
        series[f"temperature {entry.temperature:g}"] = metrics.softmax_rows(lg, entry.temperature)
    metrics.plot_reliability(
        out_dir / f"image_{entry.key}_reliability.png",
        series,
        y,
        f"{entry.key} reliability (n={n})",
        bins=ECE_BINS,
    )


def _echo_model(echo: Echo, key: str, m: dict[str, Any]) -> None:
    line = (
        f"  {key}: accuracy {m['accuracy']:.4f} ({m['accuracy_ci95'][0]:.3f}–"
        f"{m['accuracy_ci95'][1]:.3f})"
    )
    if "auc" in m:
        line += (
            f", AUC {m['auc']:.4f} ({m['auc_ci95'][0]:.3f}–{m['auc_ci95'][1]:.3f}), sensitivity "
            f"{m['sensitivity']:.3f}, specificity {m['specificity']:.3f}"
        )
    cal = m["calibration"]
    line += (
        f", ECE {cal['uncalibrated']['ece']:.3f} -> {cal['calibrated_result']['ece']:.3f}"
        f" (T={cal['temperature']})"
    )
    echo(line)


def _write_predictions(
    path: Path, images: list[EvalImage], classes: list[str], logits: dict[str, list[np.ndarray]]
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["image", "label", *[f"{k}:logits" for k in logits]])
        for i, item in enumerate(images):
            w.writerow(
                [
                    item.name,
                    classes[item.label],
                    *[json.dumps([round(float(v), 4) for v in logits[k][i]]) for k in logits],
                ]
            )
