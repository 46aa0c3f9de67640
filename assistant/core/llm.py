"""Chat LLM backends behind one small interface.

- :class:`LlamaCppLLM`: a local GGUF through llama-cpp-python (default).
- :class:`OpenAICompatLLM`: any OpenAI-compatible server (vLLM, Ollama, llama.cpp server).
  Questions, retrieved passages and case facts go to that server; its key comes only from
  ``CLINASSIST_LLM_API_KEY``; plain http only to this machine unless configured.
- :class:`ScriptedLLM`: queued replies for deterministic tests.

All stream text pieces; ``complete`` joins them.
"""

from __future__ import annotations

import codecs
import json
import ssl
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import httpx
from httpx_sse import SSEError, connect_sse

from assistant.core.config import LLMSettings, Settings, check_llm_url
from assistant.core.errors import ModelError
from assistant.core.state import Message


@runtime_checkable
class LLM(Protocol):
    name: str

    def stream(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        stop: Sequence[str] | None = None,
    ) -> Iterator[str]: ...


def complete(llm: LLM, messages: Sequence[Message], **kw: Any) -> str:
    return "".join(llm.stream(messages, **kw))


class LlamaCppLLM:
    """A local GGUF model, loaded on first use (once per process)."""

    def __init__(self, model_path: Path, settings: LLMSettings) -> None:
        self.model_path = Path(model_path)
        self.settings = settings
        self.name = f"llamacpp:{self.model_path.name}"
        self._llama: Any = None
        self._chat: Any = None
        self._load_lock = threading.Lock()
        # llama.cpp contexts are not thread-safe: one generation at a time per model.
        self._gen_lock = threading.Lock()

    @property
    def llama(self) -> Any:
        if self._llama is None:
            with self._load_lock:
                if self._llama is None:
                    if not self.model_path.is_file():
                        raise ModelError(
                            f"model file {self.model_path} is missing: run `clinassist models fetch`"
                        )
                    try:
                        import llama_cpp  # noqa: F401
                    except ImportError as exc:  # pragma: no cover - install problem
                        raise ModelError("llama-cpp-python is not installed: run `make`") from exc
                    self._llama = _load_llama(
                        self.model_path,
                        n_ctx=self.settings.n_ctx,
                        n_threads=self.settings.n_threads,
                        seed=self.settings.seed,
                        draft_tokens=self.settings.draft_tokens,
                    )
        return self._llama

    def stream(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        stop: Sequence[str] | None = None,
    ) -> Iterator[str]:
        llama = self.llama
        temp = self.settings.temperature if temperature is None else temperature
        limit = max_tokens or self.settings.max_tokens
        with self._gen_lock:
            formatter = self._formatter()
            if formatter is None:  # no chat template in the GGUF: llama-cpp-python's default
                yield from self._stream_chat_completion(messages, limit, temp, stop)
                return
            tokens, stops = formatter.tokens(llama, messages)
            if len(tokens) + 1 > llama.n_ctx():
                raise ModelError(
                    f"the prompt ({len(tokens)} tokens) does not fit llm.n_ctx ({llama.n_ctx()})"
                )
            limit = min(limit, llama.n_ctx() - len(tokens))
            yield from _decode_stream(llama, tokens, limit, temp, [*stops, *(stop or ())])

    @contextmanager
    def drafting(self, enabled: bool) -> Iterator[None]:
        """Turn prompt-lookup drafting on or off for the ``with`` block (the benchmark's
        same-run baseline); a no-op when ``llm.draft_tokens`` is 0."""
        llama = self.llama
        with self._gen_lock:
            saved = llama.draft_model
            llama.draft_model = saved if enabled else None
        try:
            yield
        finally:
            with self._gen_lock:
                llama.draft_model = saved

    def prefill(self, messages: Sequence[Message]) -> None:
        """Read ``messages`` (e.g. a system prompt) into the context now, so the next prompt
        that starts the same way only pays for the rest (llama.cpp keeps the common prefix)."""
        with self._gen_lock:
            formatter = self._formatter()
            if formatter is None:
                return
            tokens, _ = formatter.tokens(self.llama, messages)
            if len(tokens) < self.llama.n_ctx():
                self.llama.reset()
                self.llama.eval(tokens)

    def _formatter(self) -> Any:
        """The GGUF's own chat template, rendered once per prompt (None when it has none).

        Generation then runs through ``Llama.generate`` directly: llama-cpp-python's
        ``create_chat_completion`` does per-token work in Python that slows a 0.5B model on 2
        cores (120-token paragraph, Q4_0: 33 tok/s through it, 36-38 through this path)."""
        if self._chat is None:
            template = self.llama.metadata.get("tokenizer.chat_template")
            if not template:
                self._chat = False
            else:
                from llama_cpp.llama_chat_format import Jinja2ChatFormatter

                def text(token: int) -> str:
                    if token < 0:
                        return ""
                    return self.llama.detokenize([token], special=True).decode("utf-8", "replace")

                bos, eos = text(self.llama.token_bos()), text(self.llama.token_eos())
                self._chat = _ChatTemplate(
                    Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos),
                    bos=bos,
                    eos=eos,
                )
        return self._chat or None

    def _stream_chat_completion(
        self,
        messages: Sequence[Message],
        max_tokens: int,
        temperature: float,
        stop: Sequence[str] | None,
    ) -> Iterator[str]:
        chunks = self.llama.create_chat_completion(
            messages=[dict(m) for m in messages],
            max_tokens=max_tokens,
            temperature=temperature,
            stop=list(stop) if stop else None,
            stream=True,
        )
        for chunk in chunks:
            piece = chunk["choices"][0].get("delta", {}).get("content")
            if piece:
                yield piece


@dataclass(frozen=True)
class _ChatTemplate:
    formatter: Any
    bos: str
    eos: str

    def render(self, messages: Sequence[Message]) -> tuple[str, list[str]]:
        """The prompt text and its stop strings: never an empty one, nor the end-of-turn
        token's text (generation stops on that token itself, and holding back text that
        might start it would delay every piece)."""
        response = self.formatter(messages=[dict(m) for m in messages])
        stop = response.stop
        stops = [stop] if isinstance(stop, str) else list(stop or [])
        return str(response.prompt), [s for s in stops if s and s != self.eos]

    def tokens(self, llama: Any, messages: Sequence[Message]) -> tuple[list[int], list[str]]:
        """The rendered prompt as tokens (a BOS added unless the template wrote one), and its
        stop strings."""
        prompt, stops = self.render(messages)
        add_bos = not (self.bos and prompt.startswith(self.bos))
        return llama.tokenize(prompt.encode("utf-8"), add_bos=add_bos, special=True), stops


def _load_llama(path: Path, *, n_ctx: int, n_threads: int, seed: int, draft_tokens: int) -> Any:
    """A llama.cpp model; with ``draft_tokens``, prompt-lookup speculative decoding.

    A grounded answer quotes its evidence, so the tokens that followed the last two generated
    tokens somewhere in the prompt are often the next ones: they are checked in one batch
    (one pass over the weights for several tokens) and kept while the model agrees, each
    sampled exactly as without drafting. llama-cpp-python's own draft support turns on logits
    for every position, the prompt included (an n_ctx x vocabulary array: 2.5 GB here and a
    slower prompt), so only the short verification batches ask for all logits here."""
    from llama_cpp import Llama
    from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

    from assistant.core.llama_output import route_llama_cpp_logs

    route_llama_cpp_logs()  # never redirect the process's stdout/stderr while loading

    class _LookupLlama(Llama):
        def eval(self, tokens: Sequence[int]) -> None:
            if self.draft_model is None or not 1 < len(tokens) <= MAX_DRAFT_BATCH:
                super().eval(tokens)
                return
            # A draft batch: logits at every position, so each one can be sampled.
            self._ctx.kv_cache_seq_rm(-1, self.n_tokens, -1)
            n_past = self.n_tokens
            self._batch.set_batch(batch=list(tokens), n_past=n_past, logits_all=True)
            self._ctx.decode(self._batch)
            self.input_ids[n_past : n_past + len(tokens)] = tokens
            self.n_tokens += len(tokens)
            self._requires_eval = False

    llama = _LookupLlama(
        model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, seed=seed, verbose=False
    )
    if draft_tokens > 0 and all(hasattr(llama, a) for a in ("_ctx", "_batch", "input_ids")):
        llama.draft_model = LlamaPromptLookupDecoding(
            max_ngram_size=2, num_pred_tokens=draft_tokens
        )
    return llama


MAX_DRAFT_BATCH = 17
"""The sampled token plus at most 16 drafted ones (``llm.draft_tokens`` <= 16)."""


def _decode_stream(
    llama: Any, tokens: list[int], max_tokens: int, temperature: float, stop: Sequence[str]
) -> Iterator[str]:
    """Sample from ``tokens`` and yield text as it forms: multi-byte characters are held until
    complete, and text that might begin a stop string until it is known not to."""
    import llama_cpp

    vocab = llama_cpp.llama_model_get_vocab(llama.model)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    hold = max((len(s) for s in stop), default=1) - 1
    pending = ""
    cut = -1
    for n, token in enumerate(
        llama.generate(tokens, temp=temperature, top_k=40, top_p=0.95, min_p=0.05), 1
    ):
        if llama_cpp.llama_vocab_is_eog(vocab, token):
            break
        pending += decoder.decode(llama.detokenize([token]))
        cut = min((i for i in (pending.find(s) for s in stop) if i >= 0), default=-1)
        if cut >= 0:
            pending = pending[:cut]
            break
        if len(pending) > hold:
            yield pending[: len(pending) - hold]
            pending = pending[len(pending) - hold :]
        if n >= max_tokens:
            break
    if cut < 0:
        pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


class OpenAICompatLLM:
    """Streams from ``POST {base_url}/chat/completions`` (server-sent events)."""

    def __init__(
        self,
        settings: LLMSettings,
        *,
        api_key: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not settings.base_url:
            raise ModelError("llm.backend is 'openai' but llm.base_url is not set")
        self.settings = settings
        self.model = settings.api_model or settings.model
        self.name = f"openai:{self.model}@{settings.base_url}"
        try:
            check_llm_url(settings.base_url, allow_insecure_http=settings.allow_insecure_http)
        except ValueError as exc:
            raise ModelError(str(exc)) from exc
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        verify: ssl.SSLContext | bool = True
        if settings.ca_file is not None:
            verify = ssl.create_default_context(cafile=str(settings.ca_file))
        self._client = httpx.Client(
            base_url=settings.base_url.rstrip("/"),
            headers=headers,
            timeout=settings.timeout_s,
            transport=transport,
            verify=verify,
            # Only llm.base_url, never a proxy or CA bundle that happens to be in the
            # environment (HTTP(S)_PROXY, SSL_CERT_FILE), and no redirect to another host.
            trust_env=False,
            follow_redirects=False,
        )

    def stream(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        stop: Sequence[str] | None = None,
    ) -> Iterator[str]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [dict(m) for m in messages],
            "max_tokens": max_tokens or self.settings.max_tokens,
            "temperature": self.settings.temperature if temperature is None else temperature,
            "stream": True,
        }
        if stop:
            body["stop"] = list(stop)
        try:
            with connect_sse(self._client, "POST", "/chat/completions", json=body) as events:
                resp = events.response
                if resp.status_code >= 400:
                    resp.read()
                    raise ModelError(
                        f"LLM server answered {resp.status_code} at {self.settings.base_url}: "
                        f"{resp.text[:200]}"
                    )
                for sse in events.iter_sse():
                    if sse.data.strip() == "[DONE]":
                        break
                    if not sse.data.strip():
                        continue
                    choices = json.loads(sse.data).get("choices") or [{}]
                    piece = (choices[0].get("delta") or {}).get("content")
                    if piece:
                        yield piece
        except SSEError as exc:
            raise ModelError(
                f"the LLM server at {self.settings.base_url} did not stream server-sent events "
                f"({exc}); is llm.base_url an OpenAI-compatible /v1 endpoint?"
            ) from exc
        except httpx.HTTPError as exc:
            raise ModelError(
                f"cannot reach the LLM server at {self.settings.base_url}: {exc}. "
                "Start it or set llm.backend: llamacpp"
            ) from exc


class ScriptedLLM:
    """Replies from a queue (then ``default``); records every prompt it was given."""

    def __init__(self, replies: Sequence[str] = (), *, default: str = "OK.") -> None:
        self.name = "scripted"
        self.replies = list(replies)
        self.default = default
        self.prompts: list[list[Message]] = []
        self._lock = threading.Lock()

    def stream(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        stop: Sequence[str] | None = None,
    ) -> Iterator[str]:
        with self._lock:
            self.prompts.append(list(messages))
            text = self.replies.pop(0) if self.replies else self.default
        words = text.split(" ")
        for i, word in enumerate(words):
            yield word if i == 0 else " " + word


def build_llm(settings: Settings) -> LLM:
    """The configured backend (not loaded until the first generation)."""
    cfg = settings.llm
    if cfg.backend == "scripted":
        return ScriptedLLM()
    if cfg.backend == "openai":
        # The key comes from CLINASSIST_LLM_API_KEY only: a stray OPENAI_API_KEY meant for
        # another service is never sent to this server.
        key = settings.secret("llm_api_key")
        return OpenAICompatLLM(cfg, api_key=key.get_secret_value() if key else None)
    from assistant.core.models import resolve_model_path

    return LlamaCppLLM(resolve_model_path(settings, cfg.model), cfg)
