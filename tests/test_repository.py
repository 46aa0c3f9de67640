"""The repository is the product: it points at nothing outside itself, its docs speak of the
product (not of work items), and docs/CLI.md lists every command, option and JSON key."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer

from assistant.cli import app
from assistant.core.schema import AttachmentRef, Citation, Safety, ToolCall, Turn

ROOT = Path(__file__).resolve().parents[1]
CLI_DOC = ROOT / "docs" / "CLI.md"

OUTSIDE = re.compile(r"\.\./shared|(?<![\w.])shared/(STACK|CONTRACT)\.md|/work/(wt|main|shared)\b")
WORK_ITEMS = re.compile(
    r"\b(issues?|tickets?|tasks?)\s*#\s*\d+|\bissue\s+\d+\b|not owned by this work"
    r"|\bthis (task|work item)\b",
    re.I,
)


def tracked_files() -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    return [ROOT / p for p in out.split("\0") if p]


def text_of(path: Path) -> str | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if b"\0" in data[:4096]:
        return None  # binary
    return data.decode("utf-8", "replace")


def test_no_file_outside_tests_points_outside_the_repository() -> None:
    hits = []
    for path in tracked_files():
        rel = path.relative_to(ROOT)
        if rel.parts[0] == "tests":
            continue
        text = text_of(path)
        for n, line in enumerate((text or "").splitlines(), 1):
            if OUTSIDE.search(line):
                hits.append(f"{rel}:{n}: {line.strip()[:100]}")
    assert not hits, "\n".join(hits)


def test_docs_speak_of_the_product_not_of_work_items() -> None:
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    hits = []
    for path in docs:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if WORK_ITEMS.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()[:100]}")
    assert not hits, "\n".join(hits)


@pytest.mark.parametrize(
    ("line", "bad"),
    [
        # the examples are built from parts, so this file holds no such reference itself
        ("see ../" + "shared/CONTRACT.md", True),
        ("from /work/" + "shared/data", True),
        ("target (issue #7)", True),
        ("Targets (issue 5): met", True),
        ("(not owned by this work)", True),
        ("turn #2 of the case; shared memory", False),
        ("the data/shared folder", False),
    ],
)
def test_the_patterns_catch_what_they_should(line: str, bad: bool) -> None:
    assert bool(OUTSIDE.search(line) or WORK_ITEMS.search(line)) is bad


def _commands(group: Any, prefix: str = "") -> dict[str, Any]:
    """Leaf commands by their full name ("kb search"); groups are whatever has subcommands."""
    out: dict[str, Any] = {}
    for name, cmd in group.commands.items():
        path = f"{prefix}{name}"
        if getattr(cmd, "commands", None):
            out.update(_commands(cmd, f"{path} "))
        else:
            out[path] = cmd
    return out


def test_cli_doc_lists_every_command_and_option() -> None:
    doc = CLI_DOC.read_text(encoding="utf-8")
    root: Any = typer.main.get_command(app)
    missing = []
    for path, cmd in _commands(root).items():
        if f"`{path}" not in doc:
            missing.append(f"command {path}")
        for param in cmd.params:
            for opt in param.opts:
                if opt.startswith("--") and opt != "--help" and opt not in doc:
                    missing.append(f"{path} {opt}")
    for param in root.params:
        for opt in param.opts:
            if opt.startswith("--") and opt != "--help" and opt not in doc:
                missing.append(f"global {opt}")
    assert not missing, missing


def test_cli_doc_names_every_turn_json_key() -> None:
    doc = CLI_DOC.read_text(encoding="utf-8")
    missing = [
        f"{model.__name__}.{key}"
        for model in (Turn, ToolCall, Safety, AttachmentRef, Citation)
        for key in model.model_fields
        if f"`{key}`" not in doc and f'"{key}"' not in doc
    ]
    assert not missing, missing


def test_import_contracts_hold() -> None:
    """The one-way layers in pyproject's [tool.importlinter] (also run by `make lint`)."""
    from importlinter.application.use_cases import lint_imports
    from importlinter.configuration import configure

    configure()
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), cache_dir=None)
