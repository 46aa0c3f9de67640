"""The real small models end to end: MiniLM routing and llama.cpp (SmolLM2-135M) streaming."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.core.config import load_settings
from assistant.core.models import catalogue, model_path
from assistant.service import Assistant
from tests.fakes.tools import fake_registry

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def real_bot(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    base = load_settings(None, environ={})
    gguf = model_path(base, catalogue()["smollm2-135m-instruct-q4_1"])
    if not gguf.is_file():
        pytest.fail(f"{gguf} missing: run `clinassist models fetch --role test` (make test does)")
    settings = load_settings(
        None,
        environ={},
        data_dir=str(tmp_path_factory.mktemp("var")),
        llm={
            "backend": "llamacpp",
            "model": str(gguf),
            "n_ctx": 2048,
            "max_tokens": 48,
            "temperature": 0.0,
        },
        embeddings={"backend": "minilm"},
    )
    # Real LLM and embeddings; NER/KB are fakes here (their own suites test the real ones).
    bot = Assistant(settings, registry=fake_registry())
    yield bot
    bot.close()


def test_grounded_answer_streams_from_llama_cpp(real_bot: Assistant) -> None:
    pieces: list[str] = []
    turn = real_bot.respond("e2e-1", "what is a pleural effusion?", on_token=pieces.append)
    assert [t.name for t in turn.tools] == ["search_knowledge", "generate_answer"]
    answer = turn.tools[1].result
    assert answer is not None and answer["model"].startswith("llamacpp:SmolLM2")
    # streamed sentence by sentence, each released once the support check accepts it
    assert pieces and "".join(pieces).strip() in turn.reply
    assert turn.citations and turn.citations[0].id == "hpo:HP:0002202"


def test_minilm_routes_and_case_persists(real_bot: Assistant, tmp_path: Path) -> None:
    assert real_bot.respond("e2e-2", "good morning").tools == []
    turn = real_bot.respond("e2e-2", "Findings: No pneumothorax. Small left pleural effusion.")
    assert [t.name for t in turn.tools] == ["extract_entities"]
    follow = real_bot.respond("e2e-2", "is the effusion on the left?")
    assert [t.name for t in follow.tools] == ["generate_answer"]
    assert [t.index for t in real_bot.history("e2e-2")] == [0, 1, 2]
