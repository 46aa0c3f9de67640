"""A tool is a plain function with type hints; its signature becomes a validated schema.

    @tool
    def extract_entities(text: str, *, ctx: ToolContext) -> dict: ...

``ctx`` (the case, settings and lazily loaded models) is injected and not part of the schema.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast, get_type_hints

from pydantic import BaseModel, ConfigDict, create_model

from assistant.core.config import Settings
from assistant.core.errors import AttachmentError
from assistant.core.schema import AttachmentRef, Mode, ToolCall
from assistant.core.state import CaseState, empty_case

T = TypeVar("T")


class Resources:
    """Heavy things (models, indexes) loaded once per process, on first use, thread-safely."""

    def __init__(self, settings: Settings, **preloaded: Any) -> None:
        self.settings = settings
        self._items: dict[str, Any] = dict(preloaded)
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: str, factory: Callable[[], T]) -> T:
        if key in self._items:
            return cast(T, self._items[key])
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._items:
                self._items[key] = factory()
        return cast(T, self._items[key])

    def put(self, key: str, value: Any) -> None:
        self._items[key] = value


OUTSIDE_CASE = "-"
"""The case id of a tool call that belongs to no case (CLI tools, benchmarks)."""


@dataclass
class ToolContext:
    """What a tool may see: its own case only."""

    case_id: str
    mode: Mode
    settings: Settings
    resources: Resources
    case: CaseState
    load_blob: Callable[[str], bytes]
    attachments: list[AttachmentRef] = field(default_factory=list)
    turn_calls: list[ToolCall] = field(default_factory=list)
    on_token: Callable[[str], None] | None = None

    @classmethod
    def outside_case(
        cls,
        settings: Settings,
        resources: Resources,
        *,
        mode: Mode = "clinician",
        load_blob: Callable[[str], bytes] | None = None,
    ) -> ToolContext:
        """A context for one tool call that belongs to no case (CLI tools, benchmarks). It can
        read no stored attachment: only what ``load_blob`` (if given) holds."""
        return cls(
            case_id=OUTSIDE_CASE,
            mode=mode,
            settings=settings,
            resources=resources,
            case=empty_case(mode),
            load_blob=load_blob or _no_blobs,
        )


def _no_blobs(sha256: str) -> bytes:
    raise AttachmentError(f"attachment {sha256[:12]}… is not available outside a case")


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    fn: Callable[..., Any]
    args_model: type[BaseModel]

    def json_schema(self) -> dict[str, Any]:
        """OpenAI-style function schema (used when a capable LLM does the tool calling)."""
        params = self.args_model.model_json_schema()
        params.pop("title", None)
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": params},
        }


def tool(fn: Callable[..., Any]) -> ToolSpec:
    """Build a :class:`ToolSpec` from a function's signature, type hints and docstring."""
    hints = get_type_hints(fn)
    fields: dict[str, Any] = {}
    for name, param in inspect.signature(fn).parameters.items():
        if name == "ctx":
            continue
        annotation = hints.get(name, Any)
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[name] = (annotation, default)
    model = create_model(f"{fn.__name__}_args", __config__=ConfigDict(extra="forbid"), **fields)
    doc = inspect.getdoc(fn) or fn.__name__
    return ToolSpec(name=fn.__name__, description=doc.split("\n\n")[0], fn=fn, args_model=model)
