"""kill -9 during turns: every completed turn survives and the SQLite store is not corrupt."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from assistant.store import CaseStore

DRIVER = textwrap.dedent(
    """
    import sys, time
    from typing import Any
    from assistant.core.config import load_settings
    from assistant.core.embeddings import HashingEmbedder
    from assistant.core.llm import ScriptedLLM
    from assistant.service import Assistant
    from tools.base import ToolContext, tool
    from tools.registry import ToolRegistry

    @tool
    def extract_entities(text: str | None = None, attachment: str | None = None, *, ctx: ToolContext) -> dict[str, Any]:
        '''Slow fake NER so that the kill lands inside a turn.'''
        time.sleep(0.02)
        return {"entities": [{"text": "effusion", "label": "FINDING"}]}

    settings = load_settings(None, environ={}, data_dir=sys.argv[1], embeddings={"backend": "hashing"})
    bot = Assistant(settings, llm=ScriptedLLM(), embedder=HashingEmbedder(), registry=ToolRegistry([extract_entities]))
    i = 0
    while True:
        turn = bot.respond("crash-1", f"Findings: turn {i} small left pleural effusion.")
        print(f"done {turn.index}", flush=True)
        i += 1
    """
)


def test_kill_9_keeps_completed_turns(tmp_path: Path) -> None:
    data = tmp_path / "var"
    proc = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(data)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    assert proc.stdout is not None
    done = -1
    deadline = time.monotonic() + 120
    while done < 25 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        done = int(line.split()[1])
    time.sleep(0.013)  # land somewhere inside the next turn
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    for line in proc.stdout:  # turns reported after our last read also completed
        done = int(line.split()[1])
    assert done >= 25, "the driver did not get going"

    store = CaseStore(f"sqlite:///{data / 'cases.sqlite'}")
    assert store.integrity_ok()
    hist = store.history("crash-1")
    assert [t.index for t in hist] == list(range(len(hist)))
    assert len(hist) >= done + 1  # every completed turn is there (one more may have committed)
    assert len(hist) <= done + 2
    assert store.list_cases()[0].turns == len(hist)
    store.close()
