"""Loading a llama.cpp model in one thread loses nothing another thread prints, and llama.cpp's
messages go to logging (a real GGUF, in a fresh interpreter: the old behaviour redirected the
process's file descriptors, which would also have swallowed pytest's own capture)."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.core.config import load_settings
from assistant.core.models import catalogue, model_path

pytestmark = pytest.mark.slow

SCRIPT = r"""
import logging, sys, threading, time
from pathlib import Path
from assistant.core.llm import _load_llama

records = []
class Keep(logging.Handler):
    def emit(self, record):
        records.append(record)
logging.getLogger("llama_cpp").addHandler(Keep())
logging.getLogger("llama_cpp").setLevel(logging.DEBUG)

done = threading.Event()
def load():
    try:
        _load_llama(Path(sys.argv[1]), n_ctx=256, n_threads=1, seed=0, draft_tokens=0)
    finally:
        done.set()

threading.Thread(target=load).start()
n = 0
while not done.is_set() or n < 50:
    n += 1
    print(f"line {n}", flush=True)
    print(f"err {n}", file=sys.stderr, flush=True)
    time.sleep(0.002)
print(f"printed {n} records {len(records)}", flush=True)
"""


def _gguf() -> Path:
    path = model_path(load_settings(None, environ={}), catalogue()["smollm2-135m-instruct-q4_1"])
    if not path.is_file():
        pytest.fail(f"{path} missing: run `clinassist models fetch --role test` (make test does)")
    return path


def test_a_model_loading_in_a_thread_loses_no_output_of_another() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(_gguf())],
        capture_output=True,
        text=True,
        timeout=300,
        env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout.splitlines()
    printed, records = (int(w) for w in out[-1].split()[1::2])
    assert out[:-1] == [f"line {i}" for i in range(1, printed + 1)]
    err = [line for line in proc.stderr.splitlines() if line.startswith("err ")]
    assert err == [f"err {i}" for i in range(1, printed + 1)]
    assert records > 0  # llama.cpp's load messages reached the logger instead
    assert "llama_model_loader" not in proc.stderr  # and not the terminal


def test_llama_cpp_errors_are_warnings_the_rest_debug(caplog: pytest.LogCaptureFixture) -> None:
    from assistant.core.llama_output import _on_log

    with caplog.at_level(logging.DEBUG, logger="llama_cpp"):
        _on_log(4, b"failed to load\n", None)
        _on_log(2, b"print_info: n_layer = 30\n", None)
        _on_log(5, b"\n", None)  # an empty continuation: nothing
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.WARNING, "failed to load"),
        (logging.DEBUG, "print_info: n_layer = 30"),
    ]


def test_a_continued_error_line_stays_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    from assistant.core.llama_output import _on_log

    with caplog.at_level(logging.DEBUG, logger="llama_cpp"):
        _on_log(4, b"error loading model: ", None)
        _on_log(5, b"tensor 'x' has the wrong shape\n", None)
        _on_log(2, b"print_info: done\n", None)
        _on_log(5, b"more info\n", None)
    assert [r.levelno for r in caplog.records] == [
        logging.WARNING,
        logging.WARNING,
        logging.DEBUG,
        logging.DEBUG,
    ]
