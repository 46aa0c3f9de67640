"""``clinassist eval AREA``: metrics on the shipped evaluation sets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from assistant.cli.app import _state, app
from assistant.core.errors import UserError


@app.command("eval")
def eval_cmd(
    ctx: typer.Context,
    area: Annotated[
        str, typer.Argument(help="image, ner, kb, safety, routing, triage, phi or all")
    ] = "all",
    out: Annotated[Path, typer.Option("--out", help="folder for metrics and plots")] = Path(
        "eval-out"
    ),
    vignettes: Annotated[
        Path | None,
        typer.Option("--vignettes", help="triage only: another vignette file (same format)"),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option("--data", help="image: your labelled set (ImageFolder dir, CSV or .npz)"),
    ] = None,
    model: Annotated[
        list[str] | None, typer.Option("--model", help="image: model id(s) to compare")
    ] = None,
    split: Annotated[
        str | None,
        typer.Option(
            "--split",
            help="image --data: split (default test); kb: dev, test or all (default test); "
            "triage --vignettes: its split file",
        ),
    ] = None,
    docs: Annotated[
        bool, typer.Option("--docs", help="then write the tables into the docs' generated blocks")
    ] = False,
    docs_only: Annotated[
        bool,
        typer.Option("--docs-only", help="only render the JSON already in --out into the docs"),
    ] = False,
    docs_dir: Annotated[Path, typer.Option("--docs-dir", help="the docs folder")] = Path("docs"),
    set_file: Annotated[
        Path | None,
        typer.Option(
            "--set",
            help="phi only: score every item of this PHI set file, or of a shipped dev set by name (phi_blind, phi_blind2, phi_blind3, phi_blind4, phi_blind5, phi_blind6, phi_blind7); no split",
        ),
    ] = None,
    misses: Annotated[
        bool, typer.Option("--misses", help="kb only: then list the hybrid misses (rank != 1)")
    ] = False,
) -> None:
    """Metrics on the shipped evaluation sets (image: also on your own labelled images)."""
    from assistant.core import evaldocs
    from assistant.evals import runner as evaluation

    if vignettes is not None or (split is not None and area == "triage"):
        if area != "triage" or vignettes is None:
            raise UserError(
                "--vignettes FILE (and --split) work with `clinassist eval triage` only"
            )
        from assistant.evals.triage import evaluate_file

        split_file = Path(split) if split is not None else None
        evaluate_file(_state(ctx).settings, out, vignettes, split_file, echo=typer.echo)
        raise typer.Exit(0)
    options: dict[str, Any] = {}
    if misses and area != "kb":
        raise UserError("--misses lists retrieval misses: use `clinassist eval kb --misses`")
    if area == "kb" and split is not None:
        options = {"split": _kb_split(split, docs or docs_only)}
    elif data is not None or model or split:
        if area != "image":
            raise UserError("--data, --model and --split apply to `clinassist eval image` only")
        options = {"data": data, "models": list(model or []) or None, "split": split}
    code = 0
    params: dict[str, Any] = {}
    if set_file is not None:
        if area != "phi":
            raise UserError("--set scores a PHI set: use `clinassist eval phi --set FILE`")
        if docs or docs_only:
            raise UserError("--set prints its tables; the docs keep the shipped sets' tables")
        params["set_file"] = set_file
        out = out / "phi-set"  # the shipped sets' phi.json stays as it is
    if not docs_only:
        code = evaluation.run(
            _state(ctx).settings, area, out, echo=typer.echo, options={**options, **params}
        )
    if docs or docs_only:
        if area != "all" and area not in evaluation.AREAS:
            raise UserError(f"unknown eval area {area!r}: use {', '.join(evaluation.AREAS)} or all")
        areas = list(evaluation.AREAS) if area == "all" else [area]
        evaldocs.write_docs(areas, out, docs_dir, entries=evaluation.AREAS, echo=typer.echo)
    if misses and not docs_only and code == 0:
        _echo_misses(out / "kb.json")
    raise typer.Exit(code)


def _kb_split(split: str, docs: bool) -> str:
    from knowledge.kb.evaluate import SPLITS

    if split not in SPLITS:
        raise UserError(f"--split {split!r}: use one of {', '.join(SPLITS)} with `eval kb`")
    if docs and split != "test":
        raise UserError("the docs hold the test split's tables: drop --docs or --split")
    return split


def _echo_misses(path: Path) -> None:
    """The hybrid retriever's misses of the run just written (the tuning loop, dev split)."""
    metrics = json.loads(path.read_text(encoding="utf-8"))
    for m in metrics["hybrid"]["misses"]:
        typer.echo(f"  {m['id']} rank {m['rank']:2d}  {m['question']}  top: {m['top']}")
