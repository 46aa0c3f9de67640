"""Conversation commands: ``chat``, ``ask``, ``cases``, ``history``, ``delete-case``, ``audit``,
``run-script``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from assistant.cli.app import CaseOpt, JsonOpt, ModeOpt, _echo_json, _state, _stdin_text, app
from assistant.core.errors import UserError


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
