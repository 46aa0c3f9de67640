"""``clinassist bench`` and ``clinassist slack``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from assistant.cli.app import _state, app


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
