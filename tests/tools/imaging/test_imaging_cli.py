"""`clinassist classify` on several files / a folder, and its bad-input lines (no models needed:
the bad input is refused before any model runs)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from typer.testing import CliRunner

from assistant.cli import app


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        "CLINASSIST_DATA_DIR": str(tmp_path / "var"),
        "CLINASSIST_LLM__BACKEND": "scripted",
        "CLINASSIST_EMBEDDINGS__BACKEND": "hashing",
    }


def _one_line_exit_2(result: object) -> str:
    assert result.exit_code == 2, result.output  # type: ignore[attr-defined]
    err: str = result.stderr  # type: ignore[attr-defined]
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err


def test_classify_bad_inputs_are_one_line_exit_2(tmp_path: Path) -> None:
    env = _env(tmp_path)
    run = CliRunner().invoke
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no images here")
    assert "holds no PNG" in _one_line_exit_2(
        run(app, ["classify", str(tmp_path / "empty")], env=env)
    )
    assert "no such file" in _one_line_exit_2(
        run(app, ["classify", str(tmp_path / "nope.png")], env=env)
    )
    broken = tmp_path / "imgs"
    broken.mkdir()
    Image.fromarray(np.zeros((64, 64), np.uint8)).save(broken / "a.png")
    (broken / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    err = _one_line_exit_2(
        run(app, ["classify", "--heatmap", str(tmp_path / "h.png"), str(broken)], env=env)
    )
    assert "one image" in err
    err = _one_line_exit_2(
        run(app, ["classify", "--model", "cxr-x.v9", str(broken / "b.png")], env=env)
    )
    assert "unknown image model" in err
    err = _one_line_exit_2(run(app, ["classify", str(broken / "b.png")], env=env))
    assert "cannot be decoded" in err
    text = tmp_path / "r.txt"
    text.write_text("Findings: none.")
    assert "not a PNG" in _one_line_exit_2(run(app, ["classify", str(text)], env=env))
