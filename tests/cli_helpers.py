"""Running ``clinassist`` in tests: one isolated environment and one way to invoke it.

The environment keeps every run's data under the test's ``tmp_path`` and uses the scripted
language model and the hashing embedder, so a CLI test loads no model and downloads nothing.
"""

from __future__ import annotations

from pathlib import Path

from typer.testing import Result


def cli_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """``CLINASSIST_*`` variables for a CLI run; ``overrides`` add or replace variables, e.g.
    ``cli_env(tmp_path, CLINASSIST_IMAGING__CXR_MODEL="cxr-pneumonia.v2")``."""
    return {
        "CLINASSIST_DATA_DIR": str(tmp_path / "var"),
        "CLINASSIST_LLM__BACKEND": "scripted",
        "CLINASSIST_EMBEDDINGS__BACKEND": "hashing",
        **overrides,
    }


def run_cli(env: dict[str, str], *args: str, input: str | bytes | None = None) -> Result:
    """``clinassist ARGS`` in process (Typer's runner: stdout and stderr kept apart)."""
    from typer.testing import CliRunner

    from assistant.cli import app  # imported here: tests of cold imports use cli_env alone

    return CliRunner().invoke(app, list(args), env=env, input=input)


def one_line_error(result: Result, code: int = 2) -> str:
    """The run failed with ``code`` and said why in exactly one ``error: ...`` line, no traceback."""
    assert result.exit_code == code, (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr and "unexpectedly" not in result.stderr
    return lines[0]
