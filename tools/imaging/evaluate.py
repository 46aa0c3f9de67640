"""``clinassist eval image``: classifier metrics on the packaged labelled images, calibration
(temperature scaling, leave-one-out), and the out-of-scope guard's error rates.

What the numbers mean: the packaged images (16 chest X-rays, 17 brain MRI slices) come from
the upstream datasets' validation/test folders, which the packages' training code did not
train on — but we cannot verify how the shipped weights were made, the sets are tiny, and the
CXR images were used by the package author's checkpoint selection only if their ``test``
folder was. Read them as a smoke test with wide confidence intervals, not a clinical validation.
Guard references are the same packaged images, used leave-one-out (an image is never compared
with a centroid that contains it).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from assistant.core.config import Settings
from assistant.core.types import Echo
from tools.imaging import fixtures, guard, metrics, registry
from tools.imaging.io import load_image
from tools.imaging.pipeline import ImagingEngine


def evaluate(
    settings: Settings,
    out_dir: Path,
    echo: Echo,
    *,
    data: Path | None = None,
    models: list[str] | None = None,
    split: str | None = None,
) -> dict[str, Any]:
    """Without ``data``: the packaged sample images and the guard's image sets. With ``data``
    (a labelled set: ImageFolder, CSV or MedMNIST .npz): the chest models (or ``models``) side
    by side on it, with plots (see :mod:`tools.imaging.evalset`)."""
    engine = ImagingEngine(settings)
    out_dir.mkdir(parents=True, exist_ok=True)
    if data is not None:
        from tools.imaging.evalset import evaluate_set

        result = evaluate_set(engine, data, out_dir, echo, models, split)
        result["command"] = "clinassist eval image --data DATA --out DIR"
        return result
    unknown = [k for k in models or [] if k not in registry.REGISTRY]
    if unknown:
        from assistant.core.errors import UserError

        raise UserError(
            f"unknown image model {unknown[0]!r}: use {', '.join(registry.REGISTRY)} "
            "(checkpoint files need --data)"
        )
    # The packaged models on their own samples, routed as packaged (our own chest model was
    # trained on the data these samples come from: it is measured with --data instead).
    engine.cxr_model = registry.GUARD_MODEL
    refs = engine.reference_features()
    results: dict[str, Any] = {"models": {}, "command": "clinassist eval image --out DIR"}
    in_scope_rows: list[dict[str, Any]] = []
    for entry in registry.REGISTRY.values():
        if entry.bundled or (models and entry.key not in models):
            # our own models were trained on the data the packaged samples come from: never
            # score them there (`--data` measures them on held-out sets)
            continue
        rows = _score_samples(engine, entry, refs)
        in_scope_rows += rows
        results["models"][entry.key] = _model_metrics(entry, rows, out_dir, echo)
    results["guard"] = _guard_metrics(engine, refs, in_scope_rows, echo)
    (out_dir / "image_predictions.json").write_text(json.dumps(in_scope_rows, indent=1))
    return results


def _loo_centroids(refs: dict[str, np.ndarray], domain: str, index: int) -> dict[str, np.ndarray]:
    cents = {d: guard.centroid(f) for d, f in refs.items()}
    cents[domain] = guard.centroid(np.delete(refs[domain], index, axis=0))
    return cents


def _score_samples(
    engine: ImagingEngine, entry: registry.ClassifierEntry, refs: dict[str, np.ndarray]
) -> list[dict[str, Any]]:
    rows = []
    for i, (path, label) in enumerate(registry.samples(engine.settings, entry)):
        img = load_image(path.read_bytes(), path.name)
        res = engine.classify(
            img, heatmap=False, name=path.name, centroids=_loo_centroids(refs, entry.domain, i)
        )
        # Scores come from the entry's own model even when the guard routed elsewhere.
        loaded = engine.model(entry.key)
        out = loaded.model.run(loaded.model.prepare(img))
        rows.append(
            {
                "image": path.name,
                "model": entry.key,
                "domain": entry.domain,
                "label": label,
                "logits": [float(v) for v in out.logits],
                "guard_in_distribution": bool(res["in_distribution"]),
                "guard_routed_to": res.get("model"),
                "guard_reason": res.get("reason"),
            }
        )
    return rows


def _model_metrics(
    entry: registry.ClassifierEntry, rows: list[dict[str, Any]], out_dir: Path, echo: Echo
) -> dict[str, Any]:
    classes = list(entry.classes)
    y = np.array([classes.index(r["label"]) for r in rows])
    logits = np.array([r["logits"] for r in rows])
    probs = metrics.softmax_rows(logits)
    pred = probs.argmax(axis=1)
    n, k = len(y), int((pred == y).sum())
    m: dict[str, Any] = {
        "n": n,
        "per_class_n": {c: int((y == i).sum()) for i, c in enumerate(classes)},
        "accuracy": round(k / n, 4),
        "accuracy_ci95": [round(v, 3) for v in metrics.wilson(k, n)],
    }
    confusion = np.zeros((len(classes), len(classes)), dtype=int)
    for t, p in zip(y, pred, strict=True):
        confusion[t, p] += 1
    m["confusion"] = confusion.tolist()
    metrics.plot_confusion(
        out_dir / f"image_{entry.key}_confusion.png", confusion, classes, f"{entry.key} (n={n})"
    )
    if entry.positive:
        pos = classes.index(entry.positive)
        yb = (y == pos).astype(int)
        score = probs[:, pos]
        tp = int(((pred == pos) & (yb == 1)).sum())
        tn = int(((pred != pos) & (yb == 0)).sum())
        n_pos, n_neg = int(yb.sum()), int((1 - yb).sum())
        auc = metrics.auc(yb, score)
        m.update(
            sensitivity=round(tp / max(1, n_pos), 4),
            sensitivity_ci95=[round(v, 3) for v in metrics.wilson(tp, n_pos)],
            specificity=round(tn / max(1, n_neg), 4),
            specificity_ci95=[round(v, 3) for v in metrics.wilson(tn, n_neg)],
            auc=round(auc, 4),
            auc_ci95=[round(v, 3) for v in metrics.bootstrap_auc(yb, score)],
        )
        metrics.plot_roc(
            out_dir / f"image_{entry.key}_roc.png",
            metrics.roc_points(yb, score),
            f"{entry.key} ROC, AUC {auc:.2f} (n={n})",
        )
    else:
        m["per_class_recall"] = {
            c: round(float(confusion[i, i]) / max(1, int(confusion[i].sum())), 3)
            for i, c in enumerate(classes)
        }
    # Temperature scaling: T fitted on all n (what the registry ships), and a leave-one-out
    # estimate of what that buys on an unseen image (T fitted on the other n-1).
    t_all = metrics.fit_temperature(logits, y)
    loo = np.zeros_like(probs)
    for i in range(n):
        keep = np.arange(n) != i
        t_i = metrics.fit_temperature(logits[keep], y[keep])
        loo[i] = metrics.softmax_rows(logits[i : i + 1], t_i)[0]
    m["calibration"] = {
        "temperature_fitted_on_all": round(t_all, 3),
        "uncalibrated": {
            "nll": round(metrics.nll(logits, y), 4),
            "ece": round(metrics.ece(probs, y), 4),
            "brier": round(metrics.brier(probs, y), 4),
        },
        "temperature_loo": {
            "nll": round(float(-np.mean(np.log(np.clip(loo[np.arange(n), y], 1e-12, 1)))), 4),
            "ece": round(metrics.ece(loo, y), 4),
            "brier": round(metrics.brier(loo, y), 4),
        },
        "registry_temperature": entry.temperature,
        "registry_calibration_n": entry.calibration_n,
    }
    metrics.plot_reliability(
        out_dir / f"image_{entry.key}_reliability.png",
        probs,
        y,
        f"{entry.key} uncalibrated (n={n})",
    )
    metrics.plot_reliability(
        out_dir / f"image_{entry.key}_reliability_loo_T.png",
        loo,
        y,
        f"{entry.key} temperature, LOO (n={n})",
    )
    line = f"{entry.key}: n={n} accuracy {m['accuracy']:.3f} (95% CI {m['accuracy_ci95'][0]:.2f}–{m['accuracy_ci95'][1]:.2f})"
    if entry.positive:
        line += (
            f" sensitivity {m['sensitivity']:.3f} specificity {m['specificity']:.3f}"
            f" AUC {m['auc']:.3f} (CI {m['auc_ci95'][0]:.2f}–{m['auc_ci95'][1]:.2f})"
        )
    echo(line)
    cal = m["calibration"]
    echo(
        f"  calibration: T={cal['temperature_fitted_on_all']} NLL {cal['uncalibrated']['nll']} -> "
        f"{cal['temperature_loo']['nll']} (LOO), ECE {cal['uncalibrated']['ece']} -> {cal['temperature_loo']['ece']}"
    )
    return m


def _guard_metrics(
    engine: ImagingEngine, refs: dict[str, np.ndarray], in_rows: list[dict[str, Any]], echo: Echo
) -> dict[str, Any]:
    cents = {d: guard.centroid(f) for d, f in refs.items()}
    items: list[dict[str, Any]] = []
    for r in in_rows:
        want = registry.get(r["model"]).label
        items.append(
            {
                "image": r["image"],
                "group": f"sample-{r['domain']}",
                "in_scope": True,
                "accepted": r["guard_in_distribution"],
                "routed_ok": r["guard_routed_to"] == want,
                "reason": r["guard_reason"],
            }
        )
    start = time.perf_counter()
    for name, data, group in fixtures.in_scope_extra():
        res = engine.classify(load_image(data, name), heatmap=False, name=name, centroids=cents)
        items.append(
            {
                "image": name,
                "group": group,
                "in_scope": True,
                "accepted": res["in_distribution"],
                "routed_ok": res.get("model") == engine.entry_for("cxr").label,
                "reason": res.get("reason"),
            }
        )
    for name, data, group in fixtures.out_of_scope():
        try:
            res = engine.classify(load_image(data, name), heatmap=False, name=name, centroids=cents)
            accepted, reason, routed = (
                bool(res["in_distribution"]),
                res.get("reason"),
                res.get("model"),
            )
        except Exception as exc:  # an undecodable file is rejected with a clear error: not accepted
            accepted, reason, routed = False, f"error: {exc}", None
        items.append(
            {
                "image": name,
                "group": group,
                "in_scope": False,
                "accepted": accepted,
                "routed_to": routed,
                "reason": reason,
            }
        )
    ins = [i for i in items if i["in_scope"]]
    outs = [i for i in items if not i["in_scope"]]
    fr = sum(not i["accepted"] for i in ins)
    fa = sum(i["accepted"] for i in outs)
    by_group: dict[str, dict[str, int]] = {}
    for i in items:
        g = by_group.setdefault(i["group"], {"n": 0, "accepted": 0})
        g["n"] += 1
        g["accepted"] += int(i["accepted"])
    res_all = {
        "n_in_scope": len(ins),
        "n_out_of_scope": len(outs),
        "false_reject_rate": round(fr / max(1, len(ins)), 4),
        "false_reject_ci95": [round(v, 3) for v in metrics.wilson(fr, len(ins))],
        "false_accept_rate": round(fa / max(1, len(outs)), 4),
        "false_accept_ci95": [round(v, 3) for v in metrics.wilson(fa, len(outs))],
        "routing_accuracy_in_scope": round(
            sum(bool(i.get("routed_ok")) for i in ins) / max(1, len(ins)), 4
        ),
        "by_group": by_group,
        "false_accepts": [f"{i['image']} -> {i.get('routed_to')}" for i in outs if i["accepted"]],
        "false_rejects": [f"{i['image']}: {i['reason']}" for i in ins if not i["accepted"]],
        "seconds": round(time.perf_counter() - start, 1),
    }
    echo(
        f"guard: false reject {fr}/{len(ins)} ({res_all['false_reject_rate']:.3f}), "
        f"false accept {fa}/{len(outs)} ({res_all['false_accept_rate']:.3f})"
    )
    for line in res_all["false_accepts"]:
        echo(f"  false accept: {line}")
    for line in res_all["false_rejects"]:
        echo(f"  false reject: {line}")
    return res_all
