"""`clinassist eval AREA`: metrics on the shipped, held-out evaluation sets.

Each area is a function ``(settings, out_dir, echo) -> dict`` found by import path, so areas
built elsewhere (ner, kb, image, safety) plug in without touching this module's logic.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from assistant.core.config import Settings
from assistant.core.embeddings import Embedder, HashingEmbedder, MiniLMEmbedder
from assistant.core.errors import ToolUnavailableError, UserError
from assistant.core.plugins import load_entry
from assistant.core.schema import AttachmentRef
from assistant.core.state import CaseState, empty_case
from assistant.core.types import Echo
from assistant.router import IntentClassifier, Router

AREAS: dict[str, str] = {
    "routing": "assistant.evals.runner:eval_routing",
    "safety": "assistant.evals.safety:evaluate",
    "ner": "knowledge.nlp.evaluate:evaluate",
    "kb": "assistant.evals.kb_answers:evaluate_kb",
    "image": "tools.imaging.evaluate:evaluate",
    "triage": "assistant.evals.triage:evaluate",
    "phi": "assistant.evals.phi:evaluate",
}


def run(
    settings: Settings,
    area: str,
    out: Path,
    *,
    echo: Echo = print,
    options: dict[str, Any] | None = None,
) -> int:
    """``options``: keyword arguments for the one area named (e.g. image's ``data``, phi's
    ``set_file``)."""
    if area != "all" and area not in AREAS:
        raise UserError(f"unknown eval area {area!r}: use {', '.join(AREAS)} or all")
    if options and area == "all":
        raise UserError(
            "options for one area need that area: e.g. `clinassist eval image --data DIR`"
        )
    areas = list(AREAS) if area == "all" else [area]
    out.mkdir(parents=True, exist_ok=True)
    code = 0
    for name in areas:
        fn = load_entry(AREAS[name])
        echo(f"== {name} ==")
        try:
            metrics = fn(settings, out, echo, **(options or {}))
        except ToolUnavailableError as exc:
            echo(f"{name}: not available: {exc.message}")
            code = code or (2 if area != "all" else 0)
            continue
        (out / f"{name}.json").write_text(json.dumps(metrics, indent=2))
    return code


def routing_items() -> list[dict[str, Any]]:
    text = (
        resources.files("assistant.data.eval")
        .joinpath("routing_heldout.yaml")
        .read_text(encoding="utf-8")
    )
    return list(yaml.safe_load(text))


def _case_for(item: dict[str, Any]) -> CaseState:
    case = empty_case("clinician")
    if item.get("has_findings"):
        case["findings"] = [{"text": "pleural effusion", "label": "FINDING"}]
    if item.get("has_image"):
        case["attachments"] = [
            AttachmentRef(
                sha256="0" * 64, name="cxr.png", media_type="image/png", kind="image", size=1
            ).model_dump()
        ]
    return case


def score_router(router: Router, items: list[dict[str, Any]]) -> dict[str, Any]:
    intent_ok = tools_ok = 0
    errors = []
    router.classifier.warm()  # time routing, not model loading
    router.classifier.classify("warm up")
    start = time.perf_counter()
    for item in items:
        plan = router.plan(item["text"], [], _case_for(item))
        i_ok = plan.intent == item["intent"]
        t_ok = plan.tools == item["tools"]
        intent_ok += i_ok
        tools_ok += t_ok
        if not t_ok:
            errors.append(
                {
                    "text": item["text"][:80],
                    "expected": item["tools"],
                    "got": plan.tools,
                    "intent": plan.intent,
                }
            )
    n = len(items)
    return {
        "n": n,
        "intent_accuracy": round(intent_ok / n, 3),
        "tool_accuracy": round(tools_ok / n, 3),
        "ms_per_message": round((time.perf_counter() - start) * 1000 / n, 2),
        "errors": errors,
    }


def eval_routing(settings: Settings, out: Path, echo: Echo) -> dict[str, Any]:
    """Router accuracy on the held-out set, hashing embedder (baseline) vs MiniLM, one run."""
    items = routing_items()
    embedders: list[tuple[str, Callable[[], Embedder]]] = [
        ("hashing", lambda: HashingEmbedder(settings.embeddings.dim)),
        ("minilm", MiniLMEmbedder),
    ]
    results: dict[str, Any] = {}
    for name, make in embedders:
        try:
            router = Router(IntentClassifier(make()), settings.router)
            results[name] = score_router(router, items)
        except Exception as exc:  # e.g. the MiniLM package is missing
            echo(f"routing[{name}]: skipped ({type(exc).__name__}: {exc})")
            continue
        r = results[name]
        echo(
            f"routing[{name}]: n={r['n']} intent_acc={r['intent_accuracy']:.3f} "
            f"tool_acc={r['tool_accuracy']:.3f} {r['ms_per_message']} ms/msg"
        )
    return results


def render_markdown(metrics: dict[str, Any]) -> str:
    """The routing table for the docs, from `eval-out/routing.json`."""
    labels = {
        "minilm": "rules + MiniLM nearest centroid (default)",
        "hashing": "rules + hashing n-grams (baseline, no model)",
    }
    rows = [
        "| router | n | intent accuracy | tool-plan accuracy | ms/message (warm) |",
        "|---|---|---|---|---|",
    ]
    for key, label in labels.items():
        m = metrics.get(key)
        if m:
            rows.append(
                f"| {label} | {m['n']} | {m['intent_accuracy']:.3f} | {m['tool_accuracy']:.3f} "
                f"| {m['ms_per_message']} |"
            )
    return "\n".join(rows)
