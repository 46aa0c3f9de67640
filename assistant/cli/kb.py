"""``clinassist kb``: ingest, search, stats."""

from __future__ import annotations

from typing import Annotated

import typer

from assistant.cli.app import JsonOpt, _echo_json, _run_tool, _state, kb_app


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
