"""The assistant that graph and service tests talk to: a chosen tool registry, the scripted
model and the hashing embedder, closed when the test ends."""

from __future__ import annotations

from collections.abc import Iterator

from assistant.core.config import Settings
from assistant.core.embeddings import HashingEmbedder
from assistant.core.llm import ScriptedLLM
from assistant.service import Assistant
from tools.registry import ToolRegistry

GENERAL_ANSWER = "A general answer [1]."


def bot_over(
    settings: Settings,
    registry: ToolRegistry,
    llm: ScriptedLLM | None = None,
    *,
    answer: str = GENERAL_ANSWER,
) -> Iterator[Assistant]:
    """For a fixture (``yield from bot_over(...)``): ``llm``, else a scripted model that always
    gives ``answer``."""
    bot = Assistant(
        settings,
        llm=llm or ScriptedLLM(default=answer),
        embedder=HashingEmbedder(),
        registry=registry,
    )
    yield bot
    bot.close()
