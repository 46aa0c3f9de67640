"""Tools by name. Errors come back as text that lists valid choices, never as exceptions."""

from __future__ import annotations

import logging
import time
from typing import Any

from pydantic import BaseModel, ValidationError

from assistant.errors import ClinassistError, ToolUnavailableError, UserError
from assistant.schema import ToolCall
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
        self._specs: dict[str, ToolSpec] = {}
        for spec in specs or []:
            self.register(spec)

    def register(self, spec: ToolSpec) -> ToolSpec:
        if spec.name in self._specs:
            raise ValueError(f"tool {spec.name!r} is already registered")
        self._specs[spec.name] = spec
        return spec

    def names(self) -> list[str]:
        return list(self._specs)

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def spec(self, name: str) -> ToolSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise KeyError(
                f"unknown tool {name!r}; valid tools: {', '.join(self._specs)}"
            ) from None

    def schemas(self) -> list[dict[str, Any]]:
        return [spec.json_schema() for spec in self._specs.values()]

    def call(self, name: str, args: dict[str, Any], ctx: ToolContext) -> ToolCall:
        """Validate ``args``, run the tool, time it. Never raises for tool-side failures."""
        start = time.perf_counter()
        record = ToolCall(name=name, args=dict(args))

        def done(**kw: Any) -> ToolCall:
            record.ms = int((time.perf_counter() - start) * 1000)
            return record.model_copy(update=kw)

        if name not in self._specs:
            return done(
                ok=False, error=f"unknown tool {name!r}; valid tools: {', '.join(self._specs)}"
            )
        spec = self._specs[name]
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
            return done(ok=False, error=f"{name} is not available yet: {exc.message}")
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
    """The four tools of the contract, in contract order, then virtual-doctor triage."""
    from tools.answer import generate_answer
    from tools.image import classify_image
    from tools.knowledge import search_knowledge
    from tools.ner import extract_entities
    from tools.triage import triage

    return ToolRegistry(
        [classify_image, extract_entities, search_knowledge, generate_answer, triage]
    )
