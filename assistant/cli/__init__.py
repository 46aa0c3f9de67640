"""Command line: ``clinassist`` / ``python -m assistant``. A thin front end over Assistant.

:mod:`assistant.cli.app` holds the Typer app, its shared state and error handling; each sibling
module registers one group of commands on it (imported here in the order ``--help`` lists them).
"""

from __future__ import annotations

# the order of these imports is the order of the commands in --help
# isort: off
from assistant.cli import conversation, reports, kb, models, evaluation, serve  # noqa: F401
# isort: on

from assistant.cli.app import AppState, app, main, setup_logging

__all__ = ["AppState", "app", "main", "setup_logging"]
