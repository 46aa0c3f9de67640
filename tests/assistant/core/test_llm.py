from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.core.config import LLMSettings, load_settings
from assistant.core.errors import ModelError
from assistant.core.llm import LlamaCppLLM, OpenAICompatLLM, ScriptedLLM, build_llm, complete

MSGS = [{"role": "user", "content": "hi"}]


def sse(*pieces: str) -> bytes:
    lines = [f"data: {json.dumps({'choices': [{'delta': {'content': p}}]})}\n\n" for p in pieces]
    return ("".join(lines) + "data: [DONE]\n\n").encode()


def test_openai_compatible_streams_and_sends_the_request() -> None:
    seen: dict[str, object] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["url"] = str(request.url)
        seen["auth"] = request.headers.get("authorization")
        seen["body"] = json.loads(request.content)
        return httpx.Response(
            200, content=sse("Hel", "lo", " there"), headers={"content-type": "text/event-stream"}
        )

    llm = OpenAICompatLLM(
        LLMSettings(backend="openai", base_url="http://127.0.0.1:9/v1", api_model="qwen"),
        api_key="k",
        transport=httpx.MockTransport(handler),
    )
    assert list(llm.stream(MSGS, max_tokens=5)) == ["Hel", "lo", " there"]
    assert seen["url"] == "http://127.0.0.1:9/v1/chat/completions"
    assert seen["auth"] == "Bearer k"
    body = seen["body"]
    assert (
        isinstance(body, dict)
        and body["model"] == "qwen"
        and body["stream"] is True
        and body["max_tokens"] == 5
    )


def test_openai_compatible_errors_are_model_errors() -> None:
    llm = OpenAICompatLLM(
        LLMSettings(backend="openai", base_url="http://127.0.0.1:9/v1"),
        transport=httpx.MockTransport(lambda r: httpx.Response(503, text="overloaded")),
    )
    with pytest.raises(ModelError, match="503"):
        complete(llm, MSGS)

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    down = OpenAICompatLLM(
        LLMSettings(backend="openai", base_url="http://127.0.0.1:9/v1"),
        transport=httpx.MockTransport(refuse),
    )
    with pytest.raises(ModelError, match="cannot reach"):
        complete(down, MSGS)
    with pytest.raises(ModelError, match="base_url"):
        OpenAICompatLLM(LLMSettings(backend="openai"))


def test_scripted_llm_queues_and_records() -> None:
    llm = ScriptedLLM(["one two"], default="d")
    assert complete(llm, MSGS) == "one two"
    assert complete(llm, MSGS) == "d"
    assert llm.prompts[0] == MSGS


def test_build_llm_by_config(tmp_path: Path) -> None:
    s = load_settings(None, environ={}, llm={"backend": "scripted"})
    assert isinstance(build_llm(s), ScriptedLLM)
    s = load_settings(
        None, environ={}, llm={"backend": "llamacpp", "model": str(tmp_path / "none.gguf")}
    )
    with pytest.raises(ModelError, match="neither a known model"):
        build_llm(s)
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    s = load_settings(None, environ={}, llm={"backend": "llamacpp", "model": str(gguf)})
    assert isinstance(build_llm(s), LlamaCppLLM)


@pytest.fixture
def smollm() -> Path:
    """The test-sized GGUF (SmolLM2-135M Q4_1) that `make test` fetches."""
    from assistant.core.models import catalogue, model_path

    path = model_path(load_settings(None, environ={}), catalogue()["smollm2-135m-instruct-q4_1"])
    if not path.is_file():
        pytest.fail(f"{path} missing: run `clinassist models fetch --role test` (make test does)")
    return path


@pytest.mark.slow
def test_llama_cpp_real_path_with_smollm(smollm: Path) -> None:
    """The real llama.cpp code path on the test-sized GGUF (fetched by `make test`)."""
    llm = LlamaCppLLM(smollm, LLMSettings(n_ctx=512, max_tokens=16, temperature=0.0))
    pieces = list(llm.stream([{"role": "user", "content": "Say hello."}], max_tokens=12))
    assert pieces and "".join(pieces).strip()


@pytest.mark.slow
def test_llama_cpp_prefill_reads_the_prompt_then_streams(smollm: Path) -> None:
    llm = LlamaCppLLM(smollm, LLMSettings(n_ctx=512, max_tokens=8, temperature=0.0))
    system = {"role": "system", "content": "You answer in one short sentence."}
    llm.prefill([system])
    read = list(llm.llama.input_ids[: llm.llama.n_tokens])
    assert len(read) > 5  # the system prompt is in the context
    out = "".join(llm.stream([system, {"role": "user", "content": "Say hello."}], max_tokens=8))
    assert out.strip()
    # the answer's prompt starts with what was prefilled (bar the generation prompt's last tokens)
    assert list(llm.llama.input_ids[: len(read) - 3]) == read[:-3]


@pytest.mark.slow
def test_llama_cpp_prompt_lookup_drafting_changes_speed_not_text(smollm: Path) -> None:
    """Greedy output with and without prompt-lookup drafting is the same, and drafts were
    proposed (the answer quotes the passage)."""
    passage = (
        "Atelectasis is the partial or complete collapse of a lung or lobe, when the air sacs "
        "deflate. It is common after surgery."
    )
    messages = [
        {"role": "system", "content": "Repeat the passage word for word."},
        {"role": "user", "content": f"Passage: {passage}\nRepeat it."},
    ]
    outs = {}
    proposed: list[int] = []
    for draft in (0, 4):
        llm = LlamaCppLLM(
            smollm, LLMSettings(n_ctx=512, max_tokens=40, temperature=0.0, draft_tokens=draft)
        )
        assert (llm.llama.draft_model is None) == (draft == 0)
        if draft:
            inner = llm.llama.draft_model

            def counting(ids: Any, inner: Any = inner, proposed: list[int] = proposed) -> Any:
                got = inner(ids)
                proposed.append(len(got))
                return got

            llm.llama.draft_model = counting
        outs[draft] = "".join(llm.stream(messages, max_tokens=40))
    assert outs[0].strip() and outs[4] == outs[0]
    assert sum(proposed) > 0
