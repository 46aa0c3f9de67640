"""Report and image commands: ``ner`` and ``classify``."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from assistant.cli.app import JsonOpt, _echo_json, _run_tool, _state, _stdin_text, app
from assistant.core.errors import UserError


@app.command()
def ner(
    ctx: typer.Context,
    files: Annotated[
        list[str],
        typer.Argument(help="report files (txt, md, pdf, DICOM SR) or folders, or - for stdin"),
    ],
    as_json: JsonOpt = False,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="one CSV row per report (CheXpert labeler layout)")
    ] = False,
) -> None:
    """Entities and observations in a report, or in many (one line per report)."""
    from assistant.service import Attachment

    st = _state(ctx)
    if as_json and as_csv:
        raise UserError("choose one of --json and --csv")
    single = len(files) == 1 and (files[0] == "-" or Path(files[0]).expanduser().is_file())
    if not single or as_csv:
        if "-" in files:
            raise UserError("read stdin alone (`clinassist ner -`), not with files")
        from knowledge.nlp import batch
        from tools.ner import pipeline

        code = batch.run(
            pipeline(st.settings, st.assistant.resources),
            files,
            "csv" if as_csv else "json" if as_json else "text",
            out=typer.echo,
            err=lambda line: typer.echo(line, err=True),
            limit=st.settings.limits.max_attachment_bytes,
        )
        raise typer.Exit(code)
    files_in: list[Attachment] = []
    if files[0] == "-":
        args: dict[str, Any] = {"text": _stdin_text("the report")}
        if not args["text"].strip():
            raise UserError("the report on stdin is empty: pipe a report into `clinassist ner -`")
    else:
        att = Attachment.from_path(files[0], limit=st.settings.limits.max_attachment_bytes)
        files_in = [att]  # read in memory only: outside a case nothing is stored
        args = {"attachment": hashlib.sha256(att.data).hexdigest()}
    result = _run_tool(ctx, "extract_entities", args, files_in)
    if as_json:
        _echo_json(result)
    elif result.get("summary"):
        from knowledge.nlp.observations import observations_line

        typer.echo(result["summary"])
        typer.echo(observations_line(result.get("observations") or []))
    else:
        typer.echo(json.dumps(result, indent=2))


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".dcm", ".dicom")


def _image_files(paths: list[Path]) -> list[Path]:
    """Files as given, folders expanded to their PNG/JPEG/DICOM files (sorted, recursive)."""
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(
                f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES
            )
            if not found:
                raise UserError(f"{p} holds no PNG, JPEG or DICOM files (.png .jpg .jpeg .dcm)")
            files += found
        elif p.is_file():
            files.append(p)
        else:
            raise UserError(f"{p}: no such file or folder")
    return files


@app.command()
def classify(
    ctx: typer.Context,
    images: Annotated[
        list[Path], typer.Argument(help="PNG, JPEG or DICOM files, or folders of them")
    ],
    heatmap: Annotated[
        Path | None, typer.Option("--heatmap", help="write the Grad-CAM PNG here (one image)")
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="image model id, e.g. cxr-pneumonia.v1")
    ] = None,
    draft: Annotated[bool, typer.Option("--draft", help="add the machine draft report")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Image classification with an out-of-scope guard; one JSON line per image."""
    from assistant.service import Attachment, sniff
    from tools.imaging import registry

    st = _state(ctx)
    files = _image_files(images)
    if heatmap is not None and len(files) > 1:
        raise UserError("--heatmap writes one file: give one image with it")
    if model is not None and model not in registry.REGISTRY:
        raise UserError(f"unknown image model {model!r}: use {', '.join(registry.REGISTRY)}")
    for i, path in enumerate(files):
        att = Attachment.from_path(path, limit=st.settings.limits.max_attachment_bytes)
        kind = sniff(att.name, att.data)
        if kind is None or kind[0] not in ("image", "dicom"):
            raise UserError(f"{path} is not a PNG, JPEG or DICOM image ({i} of {len(files)} done)")
        sha = hashlib.sha256(att.data).hexdigest()  # read in memory only: nothing is stored
        args: dict[str, Any] = {"attachment": sha, "heatmap": heatmap is not None, "name": att.name}
        if heatmap is not None:
            args["heatmap_path"] = str(heatmap)
        if model is not None:
            args["model"] = model
        if draft:
            args["draft"] = True
        try:
            result = _run_tool(ctx, "classify_image", args, [att])
        except UserError as exc:
            if len(files) == 1:
                raise
            raise UserError(f"{exc.message} ({i} of {len(files)} images done)") from exc
        if as_json or len(files) > 1:
            _echo_json({"file": str(path), **result} if len(files) > 1 else result)
        else:
            typer.echo(json.dumps(result, indent=2))
