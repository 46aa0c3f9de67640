"""The OpenAI-compatible backend sends questions and case facts to another server: its key
comes only from CLINASSIST_LLM_API_KEY, plain http goes only to this machine unless allowed,
and nothing in the environment (a stray OPENAI_API_KEY, proxies, LangSmith tracing) changes
where a turn's data goes."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import ValidationError

from assistant.core.config import LLMSettings, is_loopback, load_settings
from assistant.core.embeddings import HashingEmbedder
from assistant.core.errors import ConfigError
from assistant.core.llm import OpenAICompatLLM, ScriptedLLM, build_llm, complete
from assistant.service import Assistant
from tests.fakes.tools import fake_registry

MSGS = [{"role": "user", "content": "hi"}]


class _Server(BaseHTTPRequestHandler):
    seen: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.seen.append({"auth": self.headers.get("Authorization"), "body": json.loads(body)})
        data = {"choices": [{"delta": {"content": "pong"}}]}
        payload = f"data: {json.dumps(data)}\n\ndata: [DONE]\n\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _Server.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Server)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()
    httpd.server_close()


def openai_settings(base_url: str, **extra: Any) -> Any:
    return load_settings(None, environ={}, llm={"backend": "openai", "base_url": base_url, **extra})


def test_key_only_from_clinassist_llm_api_key(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-meant-for-another-service")
    monkeypatch.delenv("CLINASSIST_LLM_API_KEY", raising=False)
    assert complete(build_llm(openai_settings(server)), MSGS) == "pong"
    assert _Server.seen[-1]["auth"] is None
    monkeypatch.setenv("CLINASSIST_LLM_API_KEY", "ours")
    assert complete(build_llm(openai_settings(server)), MSGS) == "pong"
    assert _Server.seen[-1]["auth"] == "Bearer ours"


def test_environment_proxies_and_ca_variables_are_not_used(
    server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A proxy in the environment would see every question: the request goes straight to
    llm.base_url (the proxy here is a closed port, so using it would fail)."""
    for var in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    assert complete(build_llm(openai_settings(server)), MSGS) == "pong"
    assert len(_Server.seen) == 1


@pytest.mark.parametrize(
    "url",
    ["http://10.0.0.5:8000/v1", "http://llm.hospital.example/v1", "http://[2001:db8::1]/v1"],
)
def test_plain_http_to_another_machine_is_refused(url: str) -> None:
    with pytest.raises(ValidationError, match="unencrypted"):
        LLMSettings(backend="openai", base_url=url)
    with pytest.raises(ConfigError, match="allow_insecure_http"):
        openai_settings(url)
    allowed = LLMSettings(backend="openai", base_url=url, allow_insecure_http=True)
    assert OpenAICompatLLM(allowed).name.endswith(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://llm.hospital.example/v1",
        "http://127.0.0.1:8000/v1",
        "http://127.8.9.10/v1",
        "http://localhost:8000/v1",
        "http://[::1]:8000/v1",
    ],
)
def test_https_and_loopback_http_are_accepted(url: str) -> None:
    assert LLMSettings(backend="openai", base_url=url).base_url == url


def test_base_url_must_be_an_http_url() -> None:
    for url in ("ftp://127.0.0.1/v1", "127.0.0.1:8000", "http:///v1"):
        with pytest.raises(ValidationError, match="http"):
            LLMSettings(backend="openai", base_url=url)
    assert is_loopback("LOCALHOST.") and not is_loopback("localhost.example.com")


def test_langsmith_tracing_in_the_environment_uploads_nothing(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LangChain reads LANGSMITH_TRACING/LANGCHAIN_TRACING_V2 and a key from the environment
    and would then trace every graph node's inputs (the case) to LangSmith."""
    from langchain_core.tracers.langchain import LangChainTracer

    for var, value in {
        "LANGSMITH_TRACING": "true",
        "LANGCHAIN_TRACING_V2": "true",
        "LANGSMITH_API_KEY": "lsv2-stray",
        "LANGSMITH_ENDPOINT": "http://127.0.0.1:9",
    }.items():
        monkeypatch.setenv(var, value)
    made: list[object] = []
    original = LangChainTracer.__init__

    def spy(self: LangChainTracer, *args: Any, **kw: Any) -> None:
        made.append(self)
        original(self, *args, **kw)

    monkeypatch.setattr(LangChainTracer, "__init__", spy)
    bot = Assistant(
        settings, llm=ScriptedLLM(), embedder=HashingEmbedder(), registry=fake_registry()
    )
    try:
        bot.respond("bed-1", "Findings: Small left pleural effusion.")
    finally:
        bot.close()
    assert made == []
