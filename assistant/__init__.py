"""Clinassist: an offline-first conversational clinical assistant.

The one API every front end calls is :class:`assistant.service.Assistant` (imported lazily so
that ``import assistant`` stays fast).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Assistant", "Turn", "__version__"]

if TYPE_CHECKING:
    from assistant.core.schema import Turn
    from assistant.service import Assistant


def __getattr__(name: str) -> Any:
    if name == "Assistant":
        from assistant.service import Assistant

        return Assistant
    if name == "Turn":
        from assistant.core.schema import Turn

        return Turn
    raise AttributeError(name)
