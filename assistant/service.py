"""``Assistant``: the one API every front end (REPL, CLI, Slack, scripts) calls.

A message flows one way: validate -> lock the case -> safety (input) -> router -> tools ->
answer -> safety (output) -> state + audit log, committed in one transaction.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from assistant.core.config import Settings, load_settings
from assistant.core.embeddings import Embedder, build_embedder
from assistant.core.errors import (
    AttachmentError,
    CaseNotFoundError,
    EmptyMessageError,
    InvalidCaseIdError,
    MessageTooLongError,
    StoreError,
    UserError,
)
from assistant.core.schema import MODES, AttachmentRef, Mode, Safety, ToolCall, Turn
from assistant.core.state import CaseState, Message, TurnState, empty_case
from assistant.files import Kind, check_attachment
from assistant.policy import messages
from tools.base import Resources
from tools.registry import default_registry  # light: each tool is imported on first use

if TYPE_CHECKING:  # imported where used: `ner` or `kb search` need no store, LLM or router
    from assistant.core.llm import LLM
    from assistant.router import Router
    from assistant.store import AuditEntry, CaseStore, CaseSummary
    from tools.registry import ToolRegistry

log = logging.getLogger(__name__)

CASE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$")
MAX_AUDIT_ARG_CHARS = 200

_IMAGE_EXT = {".png", ".jpg", ".jpeg", ".dcm", ".dicom"}
_REPORT_EXT = {".txt", ".md", ".pdf", ".text"}


@dataclass(frozen=True)
class Attachment:
    """A file handed to the assistant: a name and its bytes (front ends build these)."""

    name: str
    data: bytes

    @classmethod
    def from_path(cls, path: str | Path, *, limit: int) -> Attachment:
        p = Path(path).expanduser()
        if not p.exists():
            raise AttachmentError(messages.ERR_ATTACH_MISSING.format(path=path))
        if not p.is_file():
            raise AttachmentError(messages.ERR_ATTACH_NOT_FILE.format(path=path))
        size = p.stat().st_size
        if size > limit:
            raise AttachmentError(
                messages.ERR_ATTACH_TOO_BIG.format(path=path, size=size, limit=limit)
            )
        try:
            return cls(p.name, p.read_bytes())
        except OSError as exc:
            raise AttachmentError(
                messages.ERR_ATTACH_UNREADABLE.format(path=path, reason=exc.strerror or exc)
            ) from exc


def sniff(name: str, data: bytes) -> tuple[str, str] | None:
    """(kind, media type) from magic bytes first, then the extension for text formats."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image", "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image", "image/jpeg"
    if len(data) >= 132 and data[128:132] == b"DICM":
        return "dicom", "application/dicom"
    if data.startswith(b"%PDF-"):
        return "report", "application/pdf"
    ext = Path(name).suffix.lower()
    if ext in (".dcm", ".dicom") and data[:2] in (b"\x08\x00", b"\x02\x00"):
        return "dicom", "application/dicom"  # DICOM without the 128-byte preamble
    if ext in _REPORT_EXT - {".pdf"}:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return "report", "text/plain" if ext != ".md" else "text/markdown"
    return None


def validate_case_id(case_id: str) -> str:
    if not isinstance(case_id, str) or not CASE_ID.match(case_id):
        raise InvalidCaseIdError(messages.ERR_CASE_ID.format(case_id=case_id))
    return case_id


def validate_mode(mode: str) -> Mode:
    if mode not in MODES:
        raise UserError(messages.ERR_MODE.format(mode=mode))
    return mode


def _as_messages(turn: Turn) -> list[Message]:
    return [{"role": "user", "content": turn.user}, {"role": "assistant", "content": turn.reply}]


class Assistant:
    """Owns the store, the models (lazily) and the agent graph. Thread-safe."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        store: CaseStore | None = None,
        llm: LLM | None = None,
        embedder: Embedder | None = None,
        registry: ToolRegistry | None = None,
        resources: Resources | None = None,
    ) -> None:
        self.settings = settings or load_settings()
        self._store = store
        self.resources = resources or Resources(self.settings)
        if llm is not None:
            self.resources.put("llm", llm)
        if embedder is not None:
            self.resources.put("embedder", embedder)
        self._registry = registry
        self._graph: Any = None
        self._open_lock = threading.RLock()  # one store and registry, however many threads

    @property
    def store(self) -> CaseStore:
        """The case store, opened on first use (tool-only commands never open it)."""
        if self._store is None:
            with self._open_lock:
                if self._store is None:
                    from assistant.store import CaseStore

                    self._store = CaseStore(
                        self.settings.store_url, busy_timeout_s=self.settings.store.busy_timeout_s
                    )
        return self._store

    @store.setter
    def store(self, value: CaseStore) -> None:
        self._store = value

    @property
    def registry(self) -> ToolRegistry:
        if self._registry is None:
            with self._open_lock:
                if self._registry is None:
                    self._registry = default_registry()
        return self._registry

    @registry.setter
    def registry(self, value: ToolRegistry) -> None:
        self._registry = value

    # -- lazily built parts ------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        return self.resources.get("embedder", lambda: build_embedder(self.settings))

    @property
    def llm(self) -> LLM:
        from assistant.core.llm import build_llm

        return self.resources.get("llm", lambda: build_llm(self.settings))

    @property
    def router(self) -> Router:
        from assistant.router import IntentClassifier, Router

        return self.resources.get(
            "router",
            lambda: Router(
                IntentClassifier(self.embedder),
                self.settings.router,
                cache_dir=self.settings.data_dir / "cache",
            ),
        )

    @property
    def graph(self) -> Any:
        if self._graph is None:
            with self._open_lock:
                if self._graph is None:
                    from assistant.graph import build_graph

                    self._graph = build_graph(
                        settings=self.settings,
                        registry=self.registry,
                        router=self.router,
                        resources=self.resources,
                    )
        return self._graph

    def warm(self) -> None:
        """Load the router's embedder and centroids and the PHI detector now (e.g. in a
        background thread), then let a local model read the default mode's answer instructions,
        so the first answer only pays for its own evidence and question."""
        self.router.classifier.warm()
        _ = self.graph
        if "triage" in self.registry and self.settings.default_mode == "patient":
            from tools.triage import warm as warm_triage

            warm_triage()  # spaCy + medspaCy ConText, compiled once per process
        from assistant.policy import phi

        phi.LIBRARY.load()  # PHI detection (Presidio + spaCy) before the first redaction
        from tools.answer import prompt

        try:
            prefill = getattr(self.llm, "prefill", None)
            if callable(prefill):
                prefill([{"role": "system", "content": prompt(self.settings.default_mode)}])
        except Exception as exc:  # an optimisation only: the first answer reports errors
            log.info("model warm-up skipped: %s", exc)

    # -- the API -------------------------------------------------------------------------
    def respond(
        self,
        case_id: str,
        text: str,
        attachments: Sequence[Attachment | str | Path] = (),
        mode: Mode | None = None,
        *,
        actor: str = "user",
        on_token: Callable[[str], None] | None = None,
    ) -> Turn:
        """Run one turn in a case and store it. Bad input raises a UserError, storing nothing."""
        start = time.perf_counter()
        validate_case_id(case_id)
        if mode is not None:
            validate_mode(mode)
        text = text if isinstance(text, str) else ""
        limits = self.settings.limits
        if len(text) > limits.max_message_chars:
            raise MessageTooLongError(
                messages.ERR_TOO_LONG.format(size=len(text), limit=limits.max_message_chars)
            )
        if not text.strip() and not attachments:
            raise EmptyMessageError(messages.ERR_EMPTY)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:  # lone surrogates: undecodable bytes from argv/JSON
            raise UserError(messages.ERR_NOT_TEXT.format(pos=exc.start)) from exc
        if len(attachments) > limits.max_attachments_per_turn:
            raise AttachmentError(
                messages.ERR_ATTACH_TOO_MANY.format(
                    count=len(attachments), limit=limits.max_attachments_per_turn
                )
            )
        files = [
            a
            if isinstance(a, Attachment)
            else Attachment.from_path(a, limit=limits.max_attachment_bytes)
            for a in attachments
        ]
        typed: list[tuple[Attachment, Kind, str]] = []
        for f in files:
            if len(f.data) > limits.max_attachment_bytes:
                raise AttachmentError(
                    messages.ERR_ATTACH_TOO_BIG.format(
                        path=f.name, size=len(f.data), limit=limits.max_attachment_bytes
                    )
                )
            sniffed = sniff(f.name, f.data)
            if sniffed is None:
                raise AttachmentError(messages.ERR_ATTACH_TYPE.format(path=f.name))
            kind = check_attachment(f.name, f.data, cast(Kind, sniffed[0]))  # damaged: raises
            typed.append((f, kind, sniffed[1]))

        with self.store.case_lock(case_id):
            loaded = self.store.load_case(case_id)
            case: CaseState = (
                loaded[0] if loaded else empty_case(mode or self.settings.default_mode)
            )
            turn_mode: Mode = mode or case.get("mode") or self.settings.default_mode
            case["mode"] = turn_mode
            refs = []
            from assistant.store import Blob

            blobs = [Blob(f.data, media_type) for f, _kind, media_type in typed]
            for (f, kind, media_type), blob in zip(typed, blobs, strict=True):
                sha = blob.sha256
                refs.append(
                    AttachmentRef(
                        sha256=sha,
                        name=f.name,
                        media_type=media_type,
                        kind=kind,
                        size=len(f.data),
                    )
                )
            case["attachments"] = case.get("attachments", []) + [r.model_dump() for r in refs]
            recent = (
                self.store.history(case_id, last=limits.history_turns_in_prompt) if loaded else []
            )
            state: TurnState = {
                "history": [m for t in recent for m in _as_messages(t)],
                "case_id": case_id,
                "mode": turn_mode,
                "text": text.strip(),
                "attachments": refs,
                "case": case,
                "safety": Safety(),
            }
            # LangChain would upload every node's inputs (case data) to LangSmith when
            # LANGSMITH_TRACING/LANGCHAIN_TRACING_V2 and a key are in the environment: never.
            from langsmith.run_helpers import tracing_context

            with tracing_context(enabled=False):
                out = self.graph.invoke(
                    state,
                    config={
                        "configurable": {
                            "load_blob": self._case_blobs(
                                case_id, {b.sha256: b.data for b in blobs}
                            ),
                            "on_token": on_token,
                        }
                    },
                )
            turn = Turn(
                case_id=case_id,
                mode=turn_mode,
                reply=out["reply"],
                tools=out.get("tool_calls", []),
                citations=out.get("citations", []),
                safety=out["safety"],
                user=text,
                attachments=refs,
                intent=out.get("intent", ""),
                triage=out.get("triage"),
            )
            turn.latency_ms = int((time.perf_counter() - start) * 1000)
            entries = self._audit_entries(actor, out.get("redacted_text", ""), turn)
            stored = self.store.commit_turn(case_id, out["case"], turn, entries, blobs)
        log.info(
            "case=%s turn=%d intent=%s tools=%s latency_ms=%d",
            case_id,
            stored.index,
            stored.intent,
            [t.name for t in stored.tools],
            stored.latency_ms,
        )
        return stored

    def _audit_entries(self, actor: str, redacted_text: str, turn: Turn) -> list[AuditEntry]:
        from assistant.policy.safety import redact_phi, redact_value
        from assistant.store import AuditEntry

        entries = [
            AuditEntry(
                actor=actor,
                action="turn",
                detail=redacted_text[:MAX_AUDIT_ARG_CHARS],
                ok=True,
                ms=turn.latency_ms,
                args={
                    "mode": turn.mode,
                    "attachments": [a.sha256 for a in turn.attachments],
                    "safety": turn.safety.model_dump(),
                },
            )
        ]
        for call in turn.tools:
            # redact before truncating (a name cut in half is harder to find), reading a window
            # a few times longer than what is kept
            args = {
                k: (
                    redact_phi(v, window=5 * MAX_AUDIT_ARG_CHARS).text[:MAX_AUDIT_ARG_CHARS]
                    if isinstance(v, str)
                    else redact_value(v)
                )
                for k, v in call.args.items()
            }
            entries.append(
                AuditEntry(
                    actor=actor,
                    action="tool",
                    tool=call.name,
                    args=args,
                    ok=call.ok,
                    ms=call.ms,
                    detail=redact_phi(call.error).text if call.error else None,
                )
            )
        return entries

    def _case_blobs(self, case_id: str, pending: dict[str, bytes]) -> Callable[[str], bytes]:
        """What a tool in ``case_id`` may read: this turn's attachments and the blobs attached
        to this case before; never another case's."""

        def load(sha256: str) -> bytes:
            if sha256 in pending:
                return pending[sha256]
            try:
                return self.store.get_blob(sha256, case_id=case_id)
            except StoreError as exc:
                raise AttachmentError(
                    messages.ERR_ATTACH_NOT_IN_CASE.format(sha=str(sha256)[:12])
                ) from exc

        return load

    def run_tool(
        self,
        name: str,
        args: dict[str, Any],
        *,
        mode: Mode | None = None,
        files: Sequence[Attachment] = (),
    ) -> ToolCall:
        """Call one tool outside any case (CLI `ner`, `classify`, `kb search`). It reads only
        ``files`` (held in memory, never stored), addressed by their SHA-256."""
        from tools.base import ToolContext

        held = {hashlib.sha256(f.data).hexdigest(): f.data for f in files}

        def load(sha256: str) -> bytes:
            if sha256 not in held:
                raise AttachmentError(messages.ERR_ATTACH_NOT_IN_CASE.format(sha=str(sha256)[:12]))
            return held[sha256]

        ctx = ToolContext.outside_case(
            self.settings,
            self.resources,
            mode=mode or self.settings.default_mode,
            load_blob=load,
        )
        return self.registry.call(name, args, ctx)

    def history(self, case_id: str, *, last: int | None = None) -> list[Turn]:
        validate_case_id(case_id)
        if not self.store.exists(case_id):
            raise CaseNotFoundError(messages.ERR_CASE_NOT_FOUND.format(case_id=case_id))
        return self.store.history(case_id, last=last)

    def cases(self) -> list[CaseSummary]:
        return self.store.list_cases()

    def case_mode(self, case_id: str) -> Mode:
        loaded = self.store.load_case(validate_case_id(case_id))
        return loaded[0]["mode"] if loaded else self.settings.default_mode

    def set_mode(self, case_id: str, mode: str, *, actor: str = "user") -> None:
        self.store.set_mode(validate_case_id(case_id), validate_mode(mode), actor=actor)

    def reset(self, case_id: str, *, actor: str = "user") -> None:
        """Forget a case's turns, state, attachments and heatmaps (the audit log remains)."""
        with self.store.case_lock(validate_case_id(case_id)):
            self.store.reset_case(case_id, actor=actor)
            from tools.image import remove_case_heatmaps

            remove_case_heatmaps(self.settings, case_id)

    def delete_case(self, case_id: str, *, actor: str = "user") -> None:
        """Delete a case with its attachments and heatmaps (the audit log remains)."""
        with self.store.case_lock(validate_case_id(case_id)):
            self.store.delete_case(case_id, actor=actor)
            from tools.image import remove_case_heatmaps

            remove_case_heatmaps(self.settings, case_id)

    def audit(self, case_id: str) -> list[dict[str, Any]]:
        return self.store.audit_log(validate_case_id(case_id))

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
