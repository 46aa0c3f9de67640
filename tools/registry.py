"""Tools by name. Errors come back as text that lists valid choices, never as exceptions."""

from __future__ import annotations

import logging
import time
from typing import Any

from pydantic import BaseModel, ValidationError

from assistant.core.errors import ClinassistError, ToolUnavailableError, UserError
from assistant.core.schema import ToolCall
from tools.base import ToolContext, ToolSpec

log = logging.getLogger(__name__)

TOOL_NAMES = (
    "classify_image",
    "extract_entities",
    "search_knowledge",
    "generate_answer",
    "triage",
)


class ToolRegistry:
    def __init__(self, specs: list[ToolSpec] | None = None) -> None:
        self._entries: dict[str, ToolSpec | str] = {}
        for spec in specs or []:
            self.register(spec)

    def register(self, spec: ToolSpec) -> ToolSpec:
        if spec.name in self._entries:
            raise ValueError(f"tool {spec.name!r} is already registered")
        self._entries[spec.name] = spec
        return spec

    def register_lazy(self, name: str, target: str) -> None:
        """A tool imported on first use from ``"module:attribute"`` (a command that calls one
        tool imports only that tool's module)."""
        if name in self._entries:
            raise ValueError(f"tool {name!r} is already registered")
        self._entries[name] = target

    def _get(self, name: str) -> ToolSpec:
        entry = self._entries[name]
        if isinstance(entry, str):
            from importlib import import_module

            module, _, attr = entry.partition(":")
            entry = getattr(import_module(module), attr)
            if not isinstance(entry, ToolSpec) or entry.name != name:
                raise TypeError(f"{self._entries[name]} is not the tool {name!r}")
            self._entries[name] = entry
        return entry

    @property
    def _specs(self) -> dict[str, ToolSpec]:
        return {name: self._get(name) for name in self._entries}

    def names(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def spec(self, name: str) -> ToolSpec:
        if name not in self._entries:
            raise KeyError(f"unknown tool {name!r}; valid tools: {', '.join(self._entries)}")
        return self._get(name)

    def schemas(self) -> list[dict[str, Any]]:
        return [spec.json_schema() for spec in self._specs.values()]

    def call(self, name: str, args: dict[str, Any], ctx: ToolContext) -> ToolCall:
        """Validate ``args``, run the tool, time it. Never raises for tool-side failures."""
        start = time.perf_counter()
        record = ToolCall(name=name, args=dict(args))

        def done(**kw: Any) -> ToolCall:
            record.ms = int((time.perf_counter() - start) * 1000)
            return record.model_copy(update=kw)

        if name not in self._entries:
            return done(
                ok=False, error=f"unknown tool {name!r}; valid tools: {', '.join(self._entries)}"
            )
        spec = self._get(name)
        try:
            parsed = spec.args_model.model_validate(args)
        except ValidationError as exc:
            err = exc.errors()[0]
            valid = ", ".join(spec.args_model.model_fields)
            return done(
                ok=False,
                error=f"invalid arguments for {name}: {'.'.join(map(str, err['loc']))}: "
                f"{err['msg']} (valid arguments: {valid})",
            )
        try:
            result = spec.fn(**parsed.model_dump(), ctx=ctx)
        except ToolUnavailableError as exc:
            return done(
                ok=False, error=f"{name} is not available yet: {exc.message}", code=exc.code
            )
        except ClinassistError as exc:
            return done(
                ok=False, error=exc.message, code=exc.code, user_error=isinstance(exc, UserError)
            )
        except Exception as exc:  # a bug in a tool must not lose the turn or the case
            log.exception("tool %s failed", name)
            return done(ok=False, error=f"{name} failed unexpectedly ({type(exc).__name__})")
        if isinstance(result, BaseModel):
            result = result.model_dump(mode="json")
        return done(ok=True, result=result)


def default_registry() -> ToolRegistry:
    """The four tools of the contract, in contract order, then virtual-doctor triage; each
    module is imported when its tool is first used."""
    registry = ToolRegistry()
    for name, module in (
        ("classify_image", "tools.image"),
        ("extract_entities", "tools.ner"),
        ("search_knowledge", "tools.knowledge"),
        ("generate_answer", "tools.answer"),
        ("triage", "tools.triage"),
    ):
        registry.register_lazy(name, f"{module}:{name}")
    return registry
