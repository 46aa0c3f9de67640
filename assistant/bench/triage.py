"""`clinassist bench triage`: what the triage step adds to a patient turn.

Replays the vignette conversations (messages and scripted answers) through a warm
``Assistant`` in patient mode (configured embedder and knowledge base, SQLite store in a temporary
folder, no language model: triage turns never call one) and reports, per turn, the triage tool's
own time and the whole turn's time beside it, plus a greeting turn (no tools) as the baseline
measured in the same run, and the first-use cost (spaCy + medspaCy ConText compile).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from assistant.bench.runner import pct
from assistant.core.config import Settings
from assistant.core.types import Echo


def _pct(values: list[float], q: float) -> float:
    return round(pct(values, q), 1)


def bench(settings: Settings, *, quick: bool = False, echo: Echo = print) -> dict[str, Any]:
    from assistant.core.llm import ScriptedLLM
    from assistant.evals.triage import load_vignettes, patient_answer
    from assistant.service import Assistant
    from tools.triage.parse import mentions_symptoms, warm

    data, _split = load_vignettes()
    kinds = dict(data["topics"])
    vignettes = data["vignettes"][:: 5 if quick else 1]
    t0 = time.perf_counter()
    warm()
    first_use_s = round(time.perf_counter() - t0, 2)
    triage_ms: list[float] = []
    turn_ms: list[float] = []
    greeting_ms: list[float] = []
    check_ms: list[float] = []  # the router's "is this a health worry?" check, per message
    step_ms: list[float] = []  # what triage adds to a turn: that check plus the triage tool
    with tempfile.TemporaryDirectory() as tmp:
        s = settings.model_copy(deep=True)
        s.store.url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        bot = Assistant(s, llm=ScriptedLLM(default="(no answer)"))
        bot.warm()
        bot.respond("bench-warm", "sore throat for 2 days", mode="patient")
        for i, v in enumerate(vignettes):
            case = f"bench-{v['id']}"
            messages = list(v["turns"])
            turn = None
            rounds = 0
            while messages and rounds < 6:
                text = messages.pop(0)
                start = time.perf_counter()
                turn = bot.respond(case, text, mode="patient")
                turn_ms.append((time.perf_counter() - start) * 1000)
                tool = [float(c.ms) for c in turn.tools if c.name == "triage"]
                triage_ms.extend(tool)
                # timed after the turn (no message vectors are cached, so the same work)
                start = time.perf_counter()
                mentions_symptoms(text, embedder=bot.embedder, cache_dir=s.data_dir / "cache")
                check_ms.append((time.perf_counter() - start) * 1000)
                step_ms.append(check_ms[-1] + sum(tool))
                if not messages and turn.triage and turn.triage.next_questions:
                    messages.append(
                        " ".join(
                            patient_answer(v, list(q.get("topics", [])), kinds)
                            for q in turn.triage.next_questions
                        )
                    )
                    rounds += 1
            start = time.perf_counter()
            bot.respond(f"bench-greet-{i}", "hello", mode="patient")
            greeting_ms.append((time.perf_counter() - start) * 1000)
        letter = " ".join(v["turns"][0] for v in data["vignettes"][:40])  # ~5,000 characters
        from tools.triage import assess

        start = time.perf_counter()
        assess(letter)
        long_ms = (time.perf_counter() - start) * 1000
        bot.close()
    out = {
        "vignettes": len(vignettes),
        "turns": len(turn_ms),
        "triage_tool_p50_ms": _pct(triage_ms, 0.5),
        "triage_tool_p95_ms": _pct(triage_ms, 0.95),
        "router_check_p50_ms": _pct(check_ms, 0.5),
        "router_check_p95_ms": _pct(check_ms, 0.95),
        "triage_step_p50_ms": _pct(step_ms, 0.5),
        "triage_step_p95_ms": _pct(step_ms, 0.95),
        "patient_turn_p50_ms": _pct(turn_ms, 0.5),
        "patient_turn_p95_ms": _pct(turn_ms, 0.95),
        "greeting_turn_p50_ms": _pct(greeting_ms, 0.5),
        "long_text_chars": len(letter),
        "long_text_triage_ms": round(long_ms, 1),
        "first_use_s": first_use_s,
        "embedder": settings.embeddings.backend,
        "median_share_of_turn": round(statistics.median(triage_ms) / statistics.median(turn_ms), 2)
        if triage_ms and turn_ms
        else None,
    }
    echo(
        f"triage: tool p50 {out['triage_tool_p50_ms']} ms, p95 {out['triage_tool_p95_ms']} ms; "
        f"router check p50 {out['router_check_p50_ms']} ms, p95 {out['router_check_p95_ms']} ms; "
        f"triage step (both) p50 {out['triage_step_p50_ms']} ms, p95 {out['triage_step_p95_ms']} ms; "
        f"whole patient turn p50 {out['patient_turn_p50_ms']} ms, p95 {out['patient_turn_p95_ms']} ms "
        f"({out['turns']} turns); greeting turn p50 {out['greeting_turn_p50_ms']} ms; "
        f"{out['long_text_chars']}-char text {out['long_text_triage_ms']} ms; first use {first_use_s} s"
    )
    return out
