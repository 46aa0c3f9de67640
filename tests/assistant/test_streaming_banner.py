"""Clinician-mode emergencies: when the answer is streamed (REPL, `clinassist ask`), the
emergency banner is printed before any streamed answer text, and only once."""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.console import Console

from assistant.core.config import Settings
from assistant.core.embeddings import HashingEmbedder
from assistant.core.llm import ScriptedLLM
from assistant.repl import Repl, unstreamed
from assistant.service import Assistant
from tests.assistant.test_graph_policy import registry
from tests.cli_helpers import cli_env, run_cli

MESSAGE = "I have crushing chest pain and shortness of breath. What is a pleural effusion?"
ANSWER = "A pleural effusion is a build-up of fluid between the layers of tissue that line the lungs [1]."
BANNER = "Possible emergency"


def _order(out: str) -> tuple[int, int]:
    return out.find(BANNER), out.find("build-up of fluid")


def test_repl_prints_the_banner_before_the_streamed_answer(settings: Settings) -> None:
    bot = Assistant(
        settings, llm=ScriptedLLM(default=ANSWER), embedder=HashingEmbedder(), registry=registry()
    )
    buf = io.StringIO()
    try:
        repl = Repl(bot, case_id="stream-1", console=Console(file=buf, width=200))
        streamed: list[str] = []
        turn = repl.turn(MESSAGE)
        streamed.append(buf.getvalue())
    finally:
        bot.close()
    out = buf.getvalue()
    banner, answer = _order(out)
    assert turn.safety.emergency and "generate_answer" in [t.name for t in turn.tools]
    assert 0 <= banner < answer, out
    assert out.count(BANNER) == 1


def test_ask_prints_the_banner_before_the_streamed_answer(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import assistant.service
    import tools.answer.tool

    monkeypatch.setattr(assistant.service, "default_registry", registry)
    monkeypatch.setattr(
        tools.answer.tool, "build_llm", lambda settings: ScriptedLLM(default=ANSWER)
    )
    env = cli_env(tmp_path)
    result = run_cli(env, "ask", "--case", "stream-2", MESSAGE)
    assert result.exit_code == 0, result.output
    banner, answer = _order(result.stdout)
    assert 0 <= banner < answer, result.stdout
    assert result.stdout.count(BANNER) == 1


def test_unstreamed_is_the_rest_of_the_reply() -> None:
    reply = "BANNER\n\nAnswer text [1].\n\nSources: [1] X (y)"
    assert unstreamed(reply, "BANNER\n\nAnswer text [1].") == "Sources: [1] X (y)"
    assert unstreamed("BANNER\n\nI don't know.", "BANNER\n\nA removed sentence.") == "I don't know."
    assert unstreamed("plain", "") == "plain"
