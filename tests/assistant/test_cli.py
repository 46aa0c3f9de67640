from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import run_cli

SCRIPTS = Path(__file__).parents[1] / "fixtures" / "scripts"


def run(env: dict[str, str], *args: str, input: str | None = None) -> tuple[int, str, str]:
    result = run_cli(env, *args, input=input)
    return result.exit_code, result.stdout, result.stderr


def test_ask_json_is_the_contract_turn(cli_env: dict[str, str]) -> None:
    code, out, _ = run(cli_env, "ask", "--case", "bed-12", "--json", "hello")
    assert code == 0
    turn = json.loads(out)
    for key in ("case_id", "mode", "reply", "tools", "citations", "safety", "latency_ms"):
        assert key in turn
    assert set(turn["safety"]) >= {
        "emergency",
        "refused",
        "phi_redacted",
        "needs_review",
        "reasons",
    }
    assert turn["case_id"] == "bed-12" and turn["mode"] == "clinician"


def test_state_persists_between_calls_and_lists(cli_env: dict[str, str]) -> None:
    run(cli_env, "ask", "--case", "c1", "hello")
    run(cli_env, "ask", "--case", "c1", "--mode", "patient", "hello again")
    code, out, _ = run(cli_env, "cases", "--json")
    assert code == 0
    cases = json.loads(out)["cases"]
    assert cases[0]["id"] == "c1" and cases[0]["turns"] == 2 and cases[0]["mode"] == "patient"
    assert "last_activity" in cases[0]
    code, out, _ = run(cli_env, "history", "--case", "c1", "--json")
    turns = json.loads(out)["turns"]
    assert [t["user"] for t in turns] == ["hello", "hello again"]


@pytest.mark.parametrize(
    "args",
    [
        ["ask", "--case", "c", ""],
        ["ask", "--case", "c", "x" * 1_000_001],
        ["ask", "--case", "c", "--attach", "/nonexistent/file.png", "look"],
        ["ask", "--case", "bad id", "hi"],
        ["history", "--case", "never-seen"],
        ["ask", "--case", "c", "--mode", "vet", "hi"],
        ["eval", "colour"],
        ["models", "fetch", "no-such-model"],
    ],
    ids=[
        "empty",
        "1MB",
        "missing-attachment",
        "bad-case-id",
        "unknown-case",
        "bad-mode",
        "bad-eval",
        "bad-model",
    ],
)
def test_bad_input_is_one_line_exit_2_and_state_intact(
    cli_env: dict[str, str], args: list[str]
) -> None:
    run(cli_env, "ask", "--case", "c", "hello")
    code, out, err = run(cli_env, *args)
    assert code == 2, (out, err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err + out
    code, out, _ = run(cli_env, "history", "--case", "c", "--json")
    assert len(json.loads(out)["turns"]) == 1


def test_unreadable_config_is_exit_2(cli_env: dict[str, str], tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("llm:\n  model: [broken\n")
    code, _, err = run(cli_env, "--config", str(cfg), "ask", "hi")
    assert code == 2 and "not valid YAML" in err


def test_run_script_exit_codes(cli_env: dict[str, str], tmp_path: Path) -> None:
    code, out, _ = run(cli_env, "run-script", str(SCRIPTS))
    assert code == 0, out
    bad = tmp_path / "bad.yaml"
    bad.write_text("case: b\nturns:\n  - user: hello\n    expect: {tools: [classify_image]}\n")
    code, out, _ = run(cli_env, "run-script", "--json", str(bad))
    assert code == 1
    line = json.loads(out.splitlines()[0])
    assert line["expectations_failed"] and line["case_id"] == "b"


def test_repl_transcript(cli_env: dict[str, str], tmp_path: Path) -> None:
    report = tmp_path / "report.txt"
    report.write_text("Findings: small left pleural effusion.")
    transcript = "\n".join(
        [
            "hello",
            "/attach /nope.png",
            "/bogus",
            f"/attach {report}",
            "",
            "/history",
            "/case bed-7",
            "/mode patient",
            "hi",
            "/case c-repl",
            "/reset",
            "/reset yes",
            "/history",
            "/quit",
            "never sent",
        ]
    )
    code, out, err = run(cli_env, "chat", "--case", "c-repl", input=transcript + "\n")
    assert code == 0
    assert "Cannot attach /nope.png" in err and "Unknown command /bogus" in err
    assert "Attached report.txt" in out
    assert "Case bed-7" in out and "patient mode" in out
    assert "starts over" in out
    code, out, _ = run(cli_env, "cases", "--json")
    ids = {c["id"]: c for c in json.loads(out)["cases"]}
    assert ids["bed-7"]["mode"] == "patient" and ids["c-repl"]["turns"] == 0


def test_models_list(cli_env: dict[str, str]) -> None:
    code, out, _ = run(cli_env, "models", "list", "--json")
    assert code == 0
    ids = [m["id"] for m in json.loads(out)["models"]]
    assert "qwen2.5-coder-0.5b-instruct-q5_0" in ids and "all-minilm-l6-v2" in ids


def test_python_dash_m_and_debug_traceback(cli_env: dict[str, str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "assistant", "ask", "--case", "c", ""],
        env={**cli_env, "PATH": ""},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "assistant", "--debug", "ask", "--case", "c", ""],
        env={**cli_env, "PATH": ""},
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_ner_on_a_binary_file_is_a_user_error(cli_env: dict[str, str], tmp_path: Path) -> None:
    binary = tmp_path / "scan.txt"
    binary.write_bytes(b"\x00\x01\x02\xff" * 64)
    code, _, err = run(cli_env, "ner", str(binary))
    assert code == 2 and err.startswith("error: ") and "Traceback" not in err


def test_train_image_command_writes_a_checkpoint(cli_env: dict[str, str], tmp_path: Path) -> None:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for label in ("a", "b"):
        (tmp_path / "data" / label).mkdir(parents=True)
        for i in range(6):
            pixels = rng.integers(0, 255, (16, 16), dtype=np.uint8) // (1 if label == "a" else 4)
            Image.fromarray(pixels).save(tmp_path / "data" / label / f"{i}.png")
    out = tmp_path / "m.pt"
    code, _, err = run(
        cli_env,
        "train",
        "image",
        "--data",
        str(tmp_path / "data"),
        "--out",
        str(out),
        "--size",
        "16",
        "--epochs",
        "1",
        "--batch",
        "4",
        "--width",
        "4",
    )
    assert code == 0, err
    assert out.is_file()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["train", "image", "--blocks", "2,x", "--out", "m.pt"], "--blocks"),
        (["train", "image", "--seeds", "0;1", "--out", "m.pt"], "--seeds"),
        (["train", "image", "--schedule", "linear", "--out", "m.pt"], "--schedule"),
        (["eval", "kb", "--split", "train"], "--split 'train'"),
        (["eval", "kb", "--split", "dev", "--docs"], "test split"),
        (["eval", "routing", "--misses"], "eval kb --misses"),
        (["eval", "routing", "--split", "dev"], "eval image"),
    ],
)
def test_bad_train_and_eval_options_are_one_line(
    cli_env: dict[str, str], tmp_path: Path, args: list[str], says: str
) -> None:
    from tests.cli_helpers import one_line_error

    if args[0] == "train":
        (tmp_path / "data" / "a").mkdir(parents=True)
        args = [*args, "--data", str(tmp_path / "data")]
    else:
        args = [*args, "--out", str(tmp_path / "o")]
    assert says in one_line_error(run_cli(cli_env, *args))
    assert not (tmp_path / "o").exists()


def test_eval_kb_misses_are_listed_from_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli_env: dict[str, str]
) -> None:
    """``eval kb --split dev --misses``: the split reaches the kb area, its misses are printed."""
    from assistant.evals import runner

    seen: dict[str, object] = {}
    miss = {"id": "q7", "rank": 3, "question": "what is dyspnea?", "top": ["a", "b", "c"]}

    def fake_kb(settings: object, out: Path, echo: object, *, split: str) -> dict[str, object]:
        seen["split"] = split
        return {"split": split, "hybrid": {"misses": [miss]}}

    monkeypatch.setitem(runner.AREAS, "kb", f"{__name__}:fake")
    monkeypatch.setattr(sys.modules[__name__], "fake", fake_kb, raising=False)
    result = run_cli(cli_env, "eval", "kb", "--split", "dev", "--misses", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert seen == {"split": "dev"}
    assert "q7 rank  3  what is dyspnea?  top: ['a', 'b', 'c']" in result.stdout


def test_a_reader_that_goes_away_is_not_an_internal_error(tmp_path: Path) -> None:
    """`clinassist models list | head -1`: a closed pipe ends the command quietly."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # every write to stdout now fails with EPIPE
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "assistant", "models", "list"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
    finally:
        os.close(write_end)
    assert "internal error" not in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 1
