"""Shift-robustness on validation: score checkpoints on their validation images as they are
("plain") and under fixed acquisition-like perturbations that training never applies exactly
("shifted"); refit a checkpoint's temperature and review threshold on both.

A model that is perfect on validation images drawn like its training images can still fail on
another hospital's films (other exposure, windowing, framing, sharpness). The perturbations are
a validation-only proxy for that shift, used to choose between candidate recipes without
touching any test set:

- ``gamma0.5`` / ``gamma2``: a brighter / darker film (power law on [0, 1]);
- ``zoom-out``: the image shrunk to 80 % of the side, centred on black (a wider field of view);
- ``blur``: a Gaussian blur with sigma = 2 % of the side;
- ``low-contrast``: contrast 0.6 and brightness +0.2 (on [-1, 1]).

``python -m tools.imaging.shift --data DIR CKPT...`` prints one JSON line per checkpoint
(``--out FILE`` keeps them as one JSON list, ``--doc CARD`` writes the selection table into a
model card between ``<!-- generated:eval-image-selection -->`` markers); ``--refit OUT`` (one
checkpoint) writes a copy whose temperature and review threshold are fitted on plain + shifted
validation pooled.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from assistant.core.errors import UserError
from tools.imaging.data import Split, load_dataset
from tools.imaging.nets import load_checkpoint, scale
from tools.imaging.train import auc_of_logits, gaussian_blur, review_threshold


def _gamma(g: float) -> Callable[[torch.Tensor], torch.Tensor]:
    return lambda x: (((x + 1) / 2).clamp(0, 1) ** g) * 2 - 1


def _zoom_out(x: torch.Tensor, keep: float = 0.8) -> torch.Tensor:
    n = x.shape[0]
    theta = torch.zeros(n, 2, 3, dtype=x.dtype)
    theta[:, 0, 0] = theta[:, 1, 1] = 1 / keep
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    # zeros padding on x + 1, so the border is black (-1)
    return F.grid_sample(x + 1, grid, padding_mode="zeros", align_corners=False) - 1


def _blur(x: torch.Tensor) -> torch.Tensor:
    return gaussian_blur(x, 0.02 * x.shape[-1])


def _low_contrast(x: torch.Tensor) -> torch.Tensor:
    return (x * 0.6 + 0.2).clamp(-1, 1)


PERTURBATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "gamma0.5": _gamma(0.5),
    "gamma2": _gamma(2.0),
    "zoom-out": _zoom_out,
    "blur": _blur,
    "low-contrast": _low_contrast,
}


def logits_under(
    net: nn.Module, split: Split, perturb: Callable[[torch.Tensor], torch.Tensor] | None = None
) -> np.ndarray:
    """Logits of ``net`` on ``split`` (optionally perturbed), in batches of 128."""
    net.eval()
    outs = []
    with torch.no_grad():
        for i in range(0, len(split.y), 128):
            x = scale(split.x[i : i + 128])
            outs.append(net(perturb(x) if perturb else x))
    return torch.cat(outs).numpy().astype(np.float64)


def _scores(logits: np.ndarray, y: np.ndarray, temperature: float) -> dict[str, float]:
    from tools.imaging import metrics

    return {
        "n": len(y),
        "accuracy": round(float((logits.argmax(1) == y).mean()), 4),
        "auc": round(auc_of_logits(logits, y), 4),
        "nll": round(metrics.nll(logits, y, temperature), 4),
        "ece": round(metrics.ece(metrics.softmax_rows(logits, temperature), y, 10), 4),
    }


def validation_split(path: Path, data: Path, cache: Path | None = None) -> Split:
    """The checkpoint's own validation images (same split options), checked by name."""
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    meta, result = ckpt["meta"], ckpt["result"]
    cfg = meta.get("config", {})
    ds = load_dataset(
        data,
        int(meta["input_size"]),
        int(meta.get("channels", 1)),
        int(cfg.get("val_seed", 0)),
        float(cfg.get("val_frac", 0.1)),
        group_pattern=cfg.get("group_pattern"),
        cache=cache,
    )
    if [Path(n).name for n in ds.val.names] != list(result["val_names"]):
        raise UserError(f"{data}: its validation split is not the one {path} was validated on")
    return ds.val


def evaluate(path: Path, data: Path, cache: Path | None = None) -> dict[str, Any]:
    """Plain and shifted validation scores of one checkpoint (the temperature: its own)."""
    net, meta = load_checkpoint(path)
    val = validation_split(path, data, cache)
    y = val.y.numpy()
    t = float(meta.get("temperature", 1.0))
    plain = logits_under(net, val)
    shifted = {name: logits_under(net, val, fn) for name, fn in PERTURBATIONS.items()}
    pooled = np.concatenate(list(shifted.values()))
    y_pooled = np.tile(y, len(shifted))
    return {
        "checkpoint": path.name,
        "temperature": t,
        "plain": _scores(plain, y, t),
        "shifted": _scores(pooled, y_pooled, t),
        "per_perturbation": {k: _scores(v, y, t) for k, v in shifted.items()},
        "plain_and_shifted_auc": round(
            auc_of_logits(np.concatenate([plain, pooled]), np.tile(y, len(shifted) + 1)), 4
        ),
        "_logits": (plain, pooled, y),
    }


def refit(path: Path, data: Path, out: Path, cache: Path | None = None) -> dict[str, Any]:
    """A copy of ``path`` whose temperature and review threshold are fitted on plain + shifted
    validation pooled (the plain validation logits stay stored for audit)."""
    from tools.imaging import metrics

    scores = evaluate(path, data, cache)
    plain, pooled, y = scores.pop("_logits")
    logits = np.concatenate([plain, pooled])
    labels = np.tile(y, len(PERTURBATIONS) + 1)
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    cfg = ckpt["meta"].get("config", {})
    t = metrics.fit_temperature(logits, labels)
    review = review_threshold(logits, labels, t, float(cfg.get("review_target", 0.99)))
    calibration = {
        "fitted_on": f"{len(y)} validation images, plain and under {len(PERTURBATIONS)} "
        f"perturbations ({', '.join(PERTURBATIONS)}): {len(labels)} logits",
        "temperature": round(t, 4),
        "review_below": review,
        "n": len(labels),
        "ece_plain": round(metrics.ece(metrics.softmax_rows(plain, t), y, 10), 4),
        "ece_shifted": round(
            metrics.ece(metrics.softmax_rows(pooled, t), np.tile(y, len(PERTURBATIONS)), 10), 4
        ),
    }
    ckpt["meta"].update(temperature=calibration["temperature"], review_below=review)
    ckpt["result"].update(
        temperature=calibration["temperature"],
        review_below=review,
        calibration=calibration,
        shift_validation={k: v for k, v in scores.items() if k != "temperature"},
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(ckpt, out)
    return calibration


def _recipe(cfg: dict[str, Any]) -> str:
    parts = [
        f"{cfg.get('size')} px",
        f"norm {cfg.get('input_norm', 'none')}",
        f"crop {cfg.get('crop')}",
        f"±{cfg.get('rotate', 10.0):g}°",
        str(cfg.get("photometric", "light")),
        f"LS {cfg.get('label_smoothing', 0.0):g}",
        f"patience {cfg.get('patience')}",
    ]
    seeds = cfg.get("seeds") or [0]
    parts.append(f"seed{'s' if len(seeds) > 1 else ''} {','.join(str(x) for x in seeds)}")
    return ", ".join(parts)


def render_markdown(rows: list[dict[str, Any]]) -> str:
    """The selection table: plain and shifted validation per checkpoint."""
    lines = [
        "Validation only (522 images; shifted: the same images under "
        f"{len(PERTURBATIONS)} perturbations, {', '.join(PERTURBATIONS)}; NLL and ECE with each "
        "checkpoint's own temperature, fitted on plain validation).",
        "",
        "| checkpoint | recipe | best epoch | plain AUC | plain acc. | plain NLL | shifted AUC "
        "| shifted acc. | shifted NLL | shifted ECE | worst perturbation (AUC) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        p, sh = r["plain"], r["shifted"]
        worst = min(r["per_perturbation"].items(), key=lambda kv: kv[1]["auc"])
        lines.append(
            f"| {r['checkpoint']} | {r.get('recipe', '')} | {r.get('best_epochs', '')} "
            f"| {p['auc']:.4f} | {p['accuracy']:.3f} | {p['nll']:.3f} | **{sh['auc']:.4f}** "
            f"| {sh['accuracy']:.3f} | {sh['nll']:.3f} | {sh['ece']:.3f} "
            f"| {worst[0]} ({worst[1]['auc']:.4f}) |"
        )
    return "\n".join(lines)


def describe(path: Path) -> dict[str, Any]:
    """A checkpoint's recipe and best epochs, for the selection table."""
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    cfg = dict(ckpt["meta"].get("config", {}))
    cfg.setdefault("input_norm", ckpt["meta"].get("input_norm", "none"))
    epochs = [str(m.get("best_epoch")) for m in ckpt["result"].get("members", [])]
    return {"recipe": _recipe(cfg), "best_epochs": "/".join(epochs)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.imaging.shift", description=__doc__)
    parser.add_argument("checkpoints", nargs="+", type=Path)
    parser.add_argument("--data", type=Path, required=True, help="the training ImageFolder")
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--refit", type=Path, default=None, help="write a refitted copy here")
    parser.add_argument("--out", type=Path, default=None, help="write the scores (JSON list)")
    parser.add_argument("--doc", type=Path, default=None, help="model card for the table")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    try:
        if args.refit:
            if len(args.checkpoints) != 1:
                raise UserError("--refit takes exactly one checkpoint")
            print(json.dumps(refit(args.checkpoints[0], args.data, args.refit, args.cache)))
            return 0
        rows = []
        for p in args.checkpoints:
            scores = evaluate(p, args.data, args.cache)
            scores.pop("_logits")
            scores.update(describe(p))
            print(json.dumps(scores), flush=True)
            rows.append(scores)
        if args.out:
            args.out.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
        if args.doc:
            from tools.imaging.render import write_between

            if not write_between(args.doc, "eval-image-selection", render_markdown(rows)):
                raise UserError(f"{args.doc} has no <!-- generated:eval-image-selection --> block")
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
