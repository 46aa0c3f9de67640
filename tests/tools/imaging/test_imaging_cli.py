"""`clinassist classify` on several files / a folder, and its bad-input lines (no models needed:
the bad input is refused before any model runs)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from tests.cli_helpers import one_line_error, run_cli


def test_classify_bad_inputs_are_one_line_exit_2(tmp_path: Path, cli_env: dict[str, str]) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no images here")
    assert "holds no PNG" in one_line_error(run_cli(cli_env, "classify", str(tmp_path / "empty")))
    assert "no such file" in one_line_error(
        run_cli(cli_env, "classify", str(tmp_path / "nope.png"))
    )
    broken = tmp_path / "imgs"
    broken.mkdir()
    Image.fromarray(np.zeros((64, 64), np.uint8)).save(broken / "a.png")
    (broken / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    err = one_line_error(
        run_cli(cli_env, "classify", "--heatmap", str(tmp_path / "h.png"), str(broken))
    )
    assert "one image" in err
    err = one_line_error(run_cli(cli_env, "classify", "--model", "cxr-x.v9", str(broken / "b.png")))
    assert "unknown image model" in err
    err = one_line_error(run_cli(cli_env, "classify", str(broken / "b.png")))
    assert "cannot be decoded" in err
    text = tmp_path / "r.txt"
    text.write_text("Findings: none.")
    assert "not a PNG" in one_line_error(run_cli(cli_env, "classify", str(text)))
