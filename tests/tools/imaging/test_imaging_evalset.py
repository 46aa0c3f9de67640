"""The training -> evaluation path on real data: a tiny model trained on a 300-image slice of
PneumoniaMNIST (tests/fixtures/imaging/README.md), then `clinassist eval image --data` with its
metrics, plots and generated doc tables. Proves the path; the numbers are not model quality."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from assistant.core.errors import UserError
from tests.cli_helpers import run_cli
from tests.conftest import FIXTURES
from tools.imaging.evalset import label_map, load_set
from tools.imaging.render import render_markdown, write_between
from tools.imaging.train import train

SLICE = FIXTURES / "imaging" / "pneumoniamnist_slice.npz"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:  # type: ignore[type-arg]
    out = tmp_path_factory.mktemp("tiny") / "tiny.pt"
    res = train(
        SLICE, out, size=28, epochs=4, batch=32, width=8, blocks=(1, 1, 1, 1), lr=3e-3,
        patience=4, seeds=(0,), class_names=("NORMAL", "PNEUMONIA"), progress=False,
        echo=lambda _m: None,
    )  # fmt: skip
    return out, res


def test_tiny_model_learns_something_real(tiny: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    _, res = tiny
    assert (
        res["n_train"] == 300 and res["n_val"] == 100 and res["classes"] == ["NORMAL", "PNEUMONIA"]
    )
    assert res["val"]["auc"] >= 0.75  # chance is 0.5; the full set reaches ~0.99 on val
    assert 0.05 < res["temperature"] < 20 and "test" not in res  # test untouched by training


def test_eval_image_cli_on_npz_writes_metrics_plots_and_docs(
    tiny: tuple[Path, dict],  # type: ignore[type-arg]
    tmp_path: Path,
) -> None:
    ckpt, _ = tiny
    out = tmp_path / "eval"
    env = {"CLINASSIST_DATA_DIR": str(tmp_path / "var")}
    result = run_cli(
        env, "eval", "image", "--data", str(SLICE), "--model", str(ckpt), "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "image.json").read_text())
    (m,) = metrics["models"].values()
    assert (
        metrics["set"]["n"] == 100
        and m["n"] == 100
        and m["per_class_n"] == {"NORMAL": 50, "PNEUMONIA": 50}
    )
    assert 0.5 < m["auc"] <= 1 and m["auc_ci95"][0] <= m["auc"] <= m["auc_ci95"][1]
    assert sum(map(sum, m["confusion"])) == 100
    assert {"ece", "nll", "brier"} <= set(m["calibration"]["calibrated_result"])
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert "image_roc.png" in pngs and any(p.endswith("_reliability.png") for p in pngs)
    assert any(p.endswith("_confusion.png") for p in pngs)
    assert all((out / p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    with Image.open(out / "image_roc.png") as im:
        assert min(im.size) >= 300
    table = render_markdown(metrics)
    assert "| model |" in table and "Google AutoML Vision" in table and "0.991" in table
    doc = tmp_path / "doc.md"
    doc.write_text("a\n<!-- generated:eval-image -->\nold\n<!-- /generated:eval-image -->\nb\n")
    assert write_between(doc, "eval-image", table)
    assert "old" not in doc.read_text() and doc.read_text().endswith("b\n")


def test_eval_image_bad_data_is_one_line_exit_2(tmp_path: Path) -> None:
    env = {"CLINASSIST_DATA_DIR": str(tmp_path / "var")}
    (tmp_path / "flat").mkdir()
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(tmp_path / "flat" / "x.png")
    for args in (
        ["--data", str(tmp_path / "missing")],
        ["--data", str(tmp_path / "flat")],
        ["--data", str(SLICE), "--model", "no-such-model"],
        ["--data", str(SLICE), "--model", str(tmp_path / "nope.pt")],
    ):
        result = run_cli(env, "eval", "image", *args, "--out", str(tmp_path / "o"))
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: "), result.stderr
    result = run_cli(env, "eval", "ner", "--data", str(SLICE))
    assert result.exit_code == 2


def test_sets_and_label_maps(tmp_path: Path) -> None:
    classes, items, desc = load_set(SLICE)
    assert classes == ["0", "1"] and len(items) == 100 and "28x28" in desc
    assert items[0].load().pixels.shape == (28, 28)
    assert label_map(["0", "1"], ("NORMAL", "PNEUMONIA")) == [0, 1]
    assert label_map(["pneumonia", "normal"], ("NORMAL", "PNEUMONIA")) == [1, 0]
    with pytest.raises(UserError, match="do not match"):
        label_map(["cat", "dog"], ("NORMAL", "PNEUMONIA"))
    for c in ("NORMAL", "PNEUMONIA"):
        (tmp_path / "set" / c).mkdir(parents=True)
        Image.fromarray(np.full((40, 40), 99, np.uint8)).save(tmp_path / "set" / c / "a.png")
    rows = "path,label,split\nset/NORMAL/a.png,NORMAL,test\nset/PNEUMONIA/a.png,PNEUMONIA,train\n"
    (tmp_path / "list.csv").write_text(rows)
    classes, items, _ = load_set(tmp_path / "list.csv")
    assert classes == ["NORMAL", "PNEUMONIA"] and [i.label for i in items] == [0]
    classes, items, _ = load_set(tmp_path / "set")
    assert len(items) == 2
