"""The ``clinassist`` application: the Typer app and its groups, the shared state and options,
error handling, logging, and :func:`main`. The commands live in the sibling modules.

Every user error prints one line to stderr and exits 2 with stored state untouched;
no traceback reaches the user unless ``--debug`` is given.
"""

from __future__ import annotations

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
        except BrokenPipeError:
            # Whoever read stdout has gone (`clinassist classify DIR | head -1`): Click ends
            # quietly with exit 1, as it does for a closed pipe elsewhere; not an internal error.
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


def setup_logging(debug: bool) -> None:
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
    setup_logging(debug)


def _run_tool(
    ctx: typer.Context, name: str, args: dict[str, Any], files: Sequence[Any] = ()
) -> dict[str, Any]:
    call = _state(ctx).assistant.run_tool(name, args, files=files)
    if not call.ok:
        if call.user_error:  # bad input: exit 2, like every other user error
            raise UserError(call.error or f"{name}: bad input")
        raise ClinassistError(call.error or f"{name} failed")
    return call.result or {}


def main(argv: list[str] | None = None) -> None:
    typer.main.get_command(app).main(args=argv, prog_name="clinassist")
