"""`clinassist chat` with piped stdin answers every line while the local model loads in the
background (a fresh process with the real small GGUF, as a user's would run)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.core.config import load_settings
from assistant.core.models import catalogue, model_path
from tests.cli_helpers import cli_env

pytestmark = pytest.mark.slow


def test_piped_chat_prints_every_reply_while_the_model_warms(tmp_path: Path) -> None:
    gguf = model_path(load_settings(None, environ={}), catalogue()["smollm2-135m-instruct-q4_1"])
    if not gguf.is_file():
        pytest.fail(f"{gguf} missing: run `clinassist models fetch --role test` (make test does)")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CLINASSIST_")},
        **cli_env(
            tmp_path,
            CLINASSIST_LLM__BACKEND="llamacpp",
            CLINASSIST_LLM__MODEL=str(gguf),
            CLINASSIST_KB__BUILD_IN_BACKGROUND="false",
        ),
        "OMP_NUM_THREADS": "1",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "assistant", "chat"],
        input="hello\nthanks\n/quit\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    # the warm-up thread loads the model just as the first turn (which waits for the PHI
    # detector it loads first) prints: llama-cpp-python used to point stdout at /dev/null then
    assert out.count("] > ") == 3, out
    assert "Hello." in out.split("] > hello", 1)[1], out
    assert out.rstrip().endswith("Bye. The case is saved."), out
