"""The default knowledge base built in the background: `chat` launches it once, its progress is
visible (/status, a line in `ask`), and questions that need it say it is still being built."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import pytest

from assistant.core.config import Settings
from assistant.policy import messages
from assistant.service import Assistant
from knowledge.kb import build
from tests.cli_helpers import cli_env, run_cli


def mark(settings: Settings, state: str, detail: str, pid: int) -> None:
    path = build.kb_dir(settings) / build.STATUS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"state": state, "detail": detail, "pid": pid, "updated": 0.0}
    path.write_text(json.dumps(body), encoding="utf-8")


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


class FakePopen:
    calls: ClassVar[list[list[str]]] = []

    def __init__(self, argv: list[str], **kw: Any) -> None:
        FakePopen.calls.append(argv)
        self.pid = os.getpid()  # alive, like the real child


def test_start_launches_one_background_ingest(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    FakePopen.calls = []
    monkeypatch.setattr(build.subprocess, "Popen", FakePopen)
    assert build.start(settings) is True
    assert FakePopen.calls[0][-2:] == ["kb", "ingest"]
    status = build.is_building(settings)
    assert status is not None and status.pid == os.getpid()
    assert build.start(settings) is False  # already running: not a second one
    assert len(FakePopen.calls) == 1


def test_a_build_whose_process_is_gone_is_interrupted(settings: Settings) -> None:
    mark(settings, "building", "hpo 100/19033", dead_pid())
    status = build.read_status(settings)
    assert status is not None and status.state == "interrupted"
    assert build.is_building(settings) is None
    assert "stopped at hpo 100/19033" in build.describe(settings)


def test_describe_a_missing_knowledge_base(settings: Settings) -> None:
    assert build.read_status(settings) is None
    assert build.describe(settings) == messages.KB_STATUS["missing"]


def test_a_question_while_building_says_so_instead_of_i_dont_know(
    assistant: Assistant,
) -> None:
    mark(assistant.settings, "building", "hpo 4000/19033", os.getpid())
    turn = assistant.respond("kb-wait", "What is a pneumothorax?")
    assert "still being built (hpo 4000/19033)" in turn.reply
    assert messages.DONT_KNOW[:20] not in turn.reply
    assert [t.name for t in turn.tools] == ["search_knowledge"]
    assert turn.tools[0].code == "E301"


def test_status_in_the_repl_and_a_line_in_ask(tmp_path: Path) -> None:
    env = cli_env(tmp_path, CLINASSIST_KB__BUILD_IN_BACKGROUND="false")
    status = tmp_path / "var" / "kb" / build.STATUS_FILE
    status.parent.mkdir(parents=True)
    body = {"state": "building", "detail": "icd10cm 10/12014", "pid": os.getpid(), "updated": 0}
    status.write_text(json.dumps(body))
    repl = run_cli(env, "chat", "--case", "s", input="/status\n/quit\n")
    assert repl.exit_code == 0, repl.stderr
    assert "Knowledge base: still being built (icd10cm 10/12014)." in repl.stdout
    ask = run_cli(env, "ask", "--case", "s", "hello")
    assert ask.exit_code == 0, ask.stderr
    assert "still being built (icd10cm 10/12014)" in ask.stderr


def test_a_default_build_records_its_progress_then_done(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from knowledge.kb import cli as kb_cli
    from knowledge.kb import ingest as ing

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "dyspnea.md").write_text("# Dyspnea\n\nDyspnea is shortness of breath.\n")
    real_plan = ing.plan
    monkeypatch.setattr(ing, "plan", lambda names: real_plan([str(docs)]))  # a tiny "default"
    assert not kb_cli.default_corpus_current(settings)
    seen: list[str] = []
    real_write = build.StatusWriter.write

    def spy(self: build.StatusWriter, state: str, detail: str, *, force: bool = True) -> None:
        seen.append(state)
        real_write(self, state, detail, force=force)

    monkeypatch.setattr(build.StatusWriter, "write", spy)
    kb_cli.ingest(settings, [])
    assert seen[0] == "building" and seen[-1] == "done"
    status = build.read_status(settings)
    assert status is not None and status.state == "done"
    assert kb_cli.default_corpus_current(settings)  # stamp and read snapshot written
    assert build.describe(settings) == messages.KB_STATUS["ready"]
    assert build.start(settings) is False  # up to date: nothing launched
