"""20 cases driven concurrently for 200 turns: no turn, finding or reply lands in the wrong case."""

from __future__ import annotations

import re
import threading
from typing import Any

from assistant.core.config import Settings
from assistant.core.embeddings import HashingEmbedder
from assistant.core.llm import ScriptedLLM
from assistant.service import Assistant
from tools.answer import generate_answer
from tools.base import ToolContext, tool
from tools.registry import ToolRegistry

MARK = re.compile(r"case(\d+)-msg(\d+)")


@tool
def extract_entities(
    text: str | None = None, attachment: str | None = None, *, ctx: ToolContext
) -> dict[str, Any]:
    """Echoes the marker in the report as an entity, so a mix-up is visible in the case state."""
    found = MARK.findall(text or "")
    ents = [{"text": f"case{c}-msg{m}", "label": "FINDING"} for c, m in found]
    return {
        "entities": ents,
        "summary": f"Positive: {', '.join(e['text'] for e in ents)} (case {ctx.case_id})",
    }


def test_twenty_cases_two_hundred_turns(settings: Settings) -> None:
    registry = ToolRegistry([extract_entities, generate_answer])
    bot = Assistant(
        settings, llm=ScriptedLLM(default="ok"), embedder=HashingEmbedder(), registry=registry
    )
    n_cases, per_case = 20, 10
    errors: list[BaseException] = []
    barrier = threading.Barrier(n_cases)

    def drive(c: int) -> None:
        try:
            barrier.wait()
            for m in range(per_case):
                turn = bot.respond(
                    f"case-{c}",
                    f"Findings: case{c}-msg{m} small left pleural effusion. No pneumothorax.",
                )
                assert f"case{c}-msg{m}" in turn.reply and f"(case case-{c})" in turn.reply
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=drive, args=(c,)) for c in range(n_cases)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]

    assert bot.store.count_turns() == n_cases * per_case
    for c in range(n_cases):
        hist = bot.history(f"case-{c}")
        assert [t.index for t in hist] == list(range(per_case))
        for t in hist:
            assert {int(x) for x, _ in MARK.findall(t.user + t.reply)} == {c}
            assert t.case_id == f"case-{c}"
        state = bot.store.load_case(f"case-{c}")
        assert state is not None
        assert {f["text"] for f in state[0]["findings"]} == {
            f"case{c}-msg{m}" for m in range(per_case)
        }
        assert all(e["case_id"] == f"case-{c}" for e in bot.audit(f"case-{c}"))
    bot.close()
