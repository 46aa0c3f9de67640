"""Text that is not valid Unicode (bytes a terminal, a pipe or a JSON payload could not
decode) is bad input with one line, in the service and on stdin, never an internal error."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from assistant.core.config import Settings
from assistant.core.embeddings import HashingEmbedder
from assistant.core.errors import UserError
from assistant.core.llm import ScriptedLLM
from assistant.service import Assistant
from knowledge.nlp.reader import ReportInputError, check_text
from tests.cli_helpers import run_cli
from tests.fakes.tools import fake_registry
from tests.fuzzing import FUZZ, check_line

ANY_CHAR = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())


def test_a_message_with_undecodable_bytes_is_one_line(settings: Settings) -> None:
    bot = Assistant(
        settings, llm=ScriptedLLM(), embedder=HashingEmbedder(), registry=fake_registry()
    )
    text = b"pleural effusion \xff?".decode("utf-8", "surrogateescape")
    with pytest.raises(UserError, match="not text") as info:
        bot.respond("bed-1", text)
    check_line(info.value.message)
    assert not bot.store.exists("bed-1")
    bot.close()


@pytest.mark.parametrize("command", [["ask", "-"], ["ner", "-"]])
def test_stdin_that_is_not_utf8_exits_2(cli_env: dict[str, str], command: list[str]) -> None:
    res = run_cli(cli_env, *command, input=b"hi \xff\xfe there")
    assert res.exit_code == 2
    assert res.stderr.strip().startswith("error: ") and "not UTF-8" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_report_text_with_surrogates_is_a_report_error() -> None:
    with pytest.raises(ReportInputError, match="not text"):
        check_text("No effusion \udcff.")


@hsettings(
    FUZZ,
    suppress_health_check=[*FUZZ.suppress_health_check, HealthCheck.function_scoped_fixture],
)
@given(st.text(alphabet=ANY_CHAR, max_size=300))
def test_any_message_gives_a_turn_or_one_line(settings: Settings, text: str) -> None:
    bot = Assistant(
        settings, llm=ScriptedLLM(), embedder=HashingEmbedder(), registry=fake_registry()
    )
    try:
        before = bot.store.count_turns()
        try:
            bot.respond("fuzz", text)
        except UserError as exc:
            check_line(exc.message)
            assert bot.store.count_turns() == before
    finally:
        bot.close()
