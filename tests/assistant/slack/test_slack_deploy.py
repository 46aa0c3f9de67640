"""The deployment files stay in step with the program: the example config validates and the
systemd unit's command line parses with the real CLI."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import typer

from assistant.cli import app
from assistant.core.config import load_settings

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"


def test_example_config_is_a_valid_multi_instance_config():
    s = load_settings(DEPLOY / "config.example.yaml", environ={})
    assert s.store_url.startswith("postgresql+psycopg://")
    assert s.kb.chroma_url and s.llm.backend == "openai" and s.llm.base_url


def test_slack_unit_command_parses_with_the_cli():
    unit = (DEPLOY / "systemd" / "clinassist-slack@.service").read_text()
    exec_start = re.search(r"^ExecStart=(.+)$", unit, re.M)
    assert exec_start is not None
    argv = shlex.split(exec_start.group(1).replace("%i", "3001"))
    assert argv[0].endswith("/clinassist") and argv[1] == "slack"
    command = typer.main.get_command(app).commands["slack"]  # type: ignore[attr-defined]
    ctx = command.make_context("slack", argv[2:])
    assert ctx.params == {"host": "127.0.0.1", "port": 3001}


def test_cli_slack_listens_on_loopback_unless_told_otherwise():
    command = typer.main.get_command(app).commands["slack"]  # type: ignore[attr-defined]
    assert command.make_context("slack", []).params == {"host": "127.0.0.1", "port": 3000}
