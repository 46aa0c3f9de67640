"""Every packaged labelled image through the three front ends: CLI `classify`, the REPL's
/attach, and a scripted conversation (slow: real models, fetched by `make test`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from assistant.core.config import load_settings
from tests.cli_helpers import cli_env, run_cli
from tools.imaging import registry

pytestmark = pytest.mark.slow
CACHE = Path("~/.cache/clinassist/models").expanduser()


@pytest.fixture(scope="module")
def samples() -> list[tuple[Path, str]]:
    from assistant.core import models

    settings = load_settings(None, environ={}, models={"cache_dir": str(CACHE)})
    for spec in models.catalogue().values():
        if "image" in spec.roles:
            models.fetch(settings, spec.id)
    found = [
        s
        for key in ("cxr-pneumonia.v1", "mri-brain-tumour.v1")
        for s in registry.samples(settings, registry.get(key))
    ]
    assert len(found) == 33  # 16 chest X-rays + 17 brain MRI slices
    return found


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    # the packaged Xception's known scores on its own samples (our own chest model was
    # trained on the data these samples come from and is never scored on them)
    return cli_env(
        tmp_path,
        CLINASSIST_MODELS__CACHE_DIR=str(CACHE),
        CLINASSIST_IMAGING__CXR_MODEL="cxr-pneumonia.v1",
    )


def test_cli_classify_every_sample_with_heatmap(
    samples: list[tuple[Path, str]], env: dict[str, str], tmp_path: Path
) -> None:
    for i, (path, _label) in enumerate(samples):
        heat = tmp_path / f"heat-{i}.png"
        result = run_cli(env, "classify", "--json", "--heatmap", str(heat), str(path))
        assert result.exit_code == 0, result.stderr
        out = json.loads(result.stdout)
        assert out["in_distribution"] is True and out["label"] in out["probabilities"]
        assert heat.is_file() and heat.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_repl_attach_every_sample(samples: list[tuple[Path, str]], env: dict[str, str]) -> None:
    lines = []
    for path, _label in samples:
        lines += [f"/attach {path}", "what does this image show?"]
    result = run_cli(env, "chat", "--case", "img-repl", input="\n".join(lines) + "\n/quit\n")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("Grad-CAM heatmap:") == len(samples)
    history = run_cli(env, "history", "--case", "img-repl", "--json")
    turns = json.loads(history.stdout)["turns"]
    assert len(turns) == len(samples)
    assert all(t["tools"][0]["name"] == "classify_image" and t["tools"][0]["ok"] for t in turns)


def test_scripted_conversation_over_every_sample(
    samples: list[tuple[Path, str]], env: dict[str, str], tmp_path: Path
) -> None:
    folder = tmp_path / "script"
    folder.mkdir()
    turns = []
    for i, (path, _label) in enumerate(samples):
        local = folder / f"{i:02d}{path.suffix}"
        shutil.copy(path, local)  # attach paths resolve against the YAML file's folder
        turns.append(
            {
                "user": "What does this image show?",
                "attach": [local.name],
                "expect": {"tools": ["classify_image"], "reply_contains": ["heatmap"]},
            }
        )
    script = folder / "images.yaml"
    script.write_text(json.dumps({"case": "img-script", "mode": "clinician", "turns": turns}))
    result = run_cli(env, "run-script", "--json", str(script))
    assert result.exit_code == 0, result.stdout[-2000:]
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(rows) == len(samples) and not any(r["expectations_failed"] for r in rows)
    predicted = [r["tools"][0]["result"]["label"] for r in rows]
    correct = sum(p == label for p, (_path, label) in zip(predicted, samples, strict=True))
    assert correct == 13 + 15  # the packaged weights' known scores (docs/models/)
