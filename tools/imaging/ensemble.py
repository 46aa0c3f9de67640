"""Several trained seeds of one configuration -> one ensemble checkpoint
(``clinassist train ensemble``): the same file ``clinassist train image --seeds`` writes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from assistant.core.errors import UserError
from tools.imaging.nets import Ensemble, build, state_for_save
from tools.imaging.train import auc_of_logits, review_threshold


def _arch(meta: dict[str, Any], key: str) -> Any:
    """A checkpoint's architecture field; checkpoints from before ``input_norm`` had none."""
    return meta.get(key, "none" if key == "input_norm" else None)


def combine(
    paths: list[Path], out: Path, echo: Callable[[str], None] = print, *, half: bool = False
) -> dict[str, Any]:
    """Members trained separately (same data, architecture and validation split, different
    seeds) -> one ensemble checkpoint, its temperature and review threshold refitted on the
    members' stored validation logits (the ensemble's logits are their mean). The same as
    training them together with ``--seeds``."""
    from tools.imaging import metrics

    if len(paths) < 2:
        raise UserError("an ensemble needs at least two checkpoints")
    ckpts = []
    for p in paths:
        try:
            ckpts.append(torch.load(p, map_location="cpu", weights_only=True))
        except (OSError, RuntimeError, EOFError) as exc:
            raise UserError(f"{p} is not a checkpoint written by `clinassist train image`") from exc
    keys = (
        "classes",
        "input_size",
        "channels",
        "width",
        "blocks",
        "dropout",
        "small_input",
        "input_norm",
    )
    first = ckpts[0]
    for p, c in zip(paths[1:], ckpts[1:], strict=True):
        if c["meta"].get("members") or first["meta"].get("members"):
            raise UserError(f"{p}: combine single models, not ensembles")
        if any(_arch(c["meta"], k) != _arch(first["meta"], k) for k in keys):
            raise UserError(f"{p} has another architecture or input than {paths[0]}")
        if c["result"]["val_names"] != first["result"]["val_names"]:
            raise UserError(f"{p} was validated on other images than {paths[0]}")
    nets: list[nn.Module] = []
    for c in ckpts:
        net = build(c["meta"])
        net.load_state_dict(c["state_dict"])
        nets.append(net)
    model = Ensemble(nets)
    val_logits = np.mean([np.asarray(c["result"]["val_logits"]) for c in ckpts], axis=0)
    yv = np.asarray(first["result"]["val_labels"])
    cfg = dict(first["meta"].get("config", {}))
    temperature = metrics.fit_temperature(val_logits, yv)
    review_below = review_threshold(val_logits, yv, temperature, cfg.get("review_target", 0.99))
    members = [m for c in ckpts for m in c["result"]["members"]]
    seeds = [int(m["seed"]) for m in members]
    pred = val_logits.argmax(axis=1)
    result = dict(first["result"])
    result.update(
        members=members,
        temperature=round(temperature, 4),
        review_below=review_below,
        val={
            "loss": round(metrics.nll(val_logits, yv), 4),
            "accuracy": round(float((pred == yv).mean()), 4),
            "auc": round(auc_of_logits(val_logits, yv), 4),
            "nll_after_temperature": round(metrics.nll(val_logits, yv, temperature), 4),
            "ece_before": round(metrics.ece(metrics.softmax_rows(val_logits), yv, 10), 4),
            "ece_after": round(
                metrics.ece(metrics.softmax_rows(val_logits, temperature), yv, 10), 4
            ),
        },
        val_logits=np.asarray(val_logits, dtype=np.float64).tolist(),
        train_seconds=round(sum(float(c["result"].get("train_seconds", 0)) for c in ckpts), 1),
    )
    result.pop("test", None)
    meta = dict(first["meta"])
    cfg["seeds"] = seeds
    meta.update(
        members=len(nets),
        temperature=result["temperature"],
        review_below=review_below,
        seeds=seeds,
        seed=seeds[0],
        config=cfg,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"meta": meta, "state_dict": state_for_save(model, half), "result": result}, out)
    echo(
        f"saved {out}: {len(nets)} members (seeds {seeds}), val accuracy "
        f"{result['val']['accuracy']:.4f}, AUC {result['val']['auc']:.4f}, temperature "
        f"{result['temperature']}, review below {review_below}"
    )
    result["checkpoint"] = str(out)
    return result
