from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.core.config import Settings
from assistant.core.embeddings import HashingEmbedder
from assistant.core.errors import ScriptError
from assistant.core.llm import ScriptedLLM
from assistant.core.schema import Turn
from assistant.scripts import check, expand, load_script, run_script
from assistant.service import Assistant
from knowledge.kb.index import KnowledgeIndex
from knowledge.kb.ingest import ingest_sources
from knowledge.kb.sources.medquad import MedQuADSource

SCRIPTS = Path(__file__).parents[1] / "fixtures" / "scripts"
"""Scripts in ``kb/`` need the knowledge base: here, the slice below (test_cli runs the rest
through the CLI with an empty one)."""
KB_TOPICS = {"Common Cold", "Sore Throat", "Back Pain", "Insect Bites and Stings", "Headache"}
"""A slice of the shipped consumer-health file: CI has no time to ingest the whole corpus."""


@pytest.fixture
def assistant(settings: Settings, llm: ScriptedLLM) -> Iterator[Assistant]:
    """The fake-model assistant with a small knowledge base of real shipped passages."""
    embedder = HashingEmbedder()
    bot = Assistant(settings, llm=llm, embedder=embedder)
    index = KnowledgeIndex.ephemeral(embedder)
    ingest_sources(index, [MedQuADSource(topics=KB_TOPICS)])
    bot.resources.put("kb.index", index)
    yield bot
    bot.close()


@pytest.mark.parametrize("path", expand([SCRIPTS, SCRIPTS / "kb"]), ids=lambda p: p.name)
def test_shipped_scripts_pass(assistant: Assistant, path: Path) -> None:
    outcome = run_script(assistant, path)
    assert outcome.ok, outcome.failures


def test_failed_expectations_are_reported(assistant: Assistant, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "case: s1\nturns:\n  - user: hello\n    expect:\n      tools: [extract_entities]\n"
        "      reply_contains: [zebra]\n      safety: {emergency: true, colour: false}\n"
    )
    outcome = run_script(assistant, path)
    failures = " | ".join(outcome.failures)
    assert "expected exactly ['extract_entities']" in failures
    assert (
        "'zebra'" in failures
        and "safety.emergency" in failures
        and "unknown safety flag" in failures
    )


def test_scripts_start_fresh_by_default(assistant: Assistant, tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("case: s2\nturns:\n  - user: hello\n")
    run_script(assistant, path)
    run_script(assistant, path)
    assert len(assistant.history("s2")) == 1


def test_invalid_scripts_are_user_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("case: x\nturns:\n  - usr: typo\n")
    with pytest.raises(ScriptError, match="usr"):
        load_script(bad)
    bad.write_text("case: [\n")
    with pytest.raises(ScriptError, match="not valid YAML"):
        load_script(bad)
    with pytest.raises(ScriptError, match="cannot read"):
        load_script(tmp_path / "none.yaml")


def test_check_reply_matching_is_case_insensitive() -> None:
    from assistant.scripts import Expect

    turn = Turn(case_id="c", mode="clinician", reply="Small LEFT effusion")
    assert check(Expect(reply_contains=["left effusion"]), turn) == []
    assert check(Expect(reply_not_contains=["small"]), turn) == ["reply contains 'small'"]


def test_run_script_never_touches_a_real_case(assistant: Assistant, tmp_path: Path) -> None:
    """A script whose case id is a real case's: refused (a user error), the case intact."""
    assistant.respond("bed-12", "hello", actor="cli")
    before = assistant.history("bed-12")
    path = tmp_path / "demo.yaml"
    path.write_text("case: bed-12\nturns:\n  - user: hello\n")
    with pytest.raises(ScriptError, match="no script wrote"):
        run_script(assistant, path)
    with pytest.raises(ScriptError):
        run_script(assistant, path, fresh=False)
    assert assistant.history("bed-12") == before
    assert "reset" not in [a["action"] for a in assistant.audit("bed-12")]


def test_a_script_case_that_a_user_joined_is_protected(
    assistant: Assistant, tmp_path: Path
) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text("case: demo-9\nturns:\n  - user: hello\n")
    run_script(assistant, path)
    run_script(assistant, path)  # a script's own case starts over
    assistant.respond("demo-9", "and one question from a person", actor="repl")
    with pytest.raises(ScriptError):
        run_script(assistant, path)
    assert len(assistant.history("demo-9")) == 2
