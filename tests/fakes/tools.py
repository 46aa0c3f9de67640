"""Fake tools with the real names and schemas' shape, for orchestration tests."""

from __future__ import annotations

import re
from typing import Any

from assistant.core.config import Settings
from assistant.core.embeddings import HashingEmbedder
from assistant.core.llm import ScriptedLLM
from assistant.core.schema import Mode, ToolCall
from assistant.core.state import empty_case
from tools.answer import generate_answer
from tools.base import Resources, ToolContext, tool
from tools.registry import ToolRegistry

PASSAGES = [
    {
        "id": "hpo:HP:0002202",
        "source": "HPO",
        "title": "Pleural effusion",
        "text": "Pleural effusion: the presence of an excessive amount of fluid in the pleural cavity.",
    },
    {
        "id": "hpo:HP:0002090",
        "source": "HPO",
        "title": "Pneumonia",
        "text": "Pneumonia: an inflammatory condition of the lung affecting the alveoli.",
    },
]


@tool
def extract_entities(
    text: str | None = None, attachment: str | None = None, *, ctx: ToolContext
) -> dict[str, Any]:
    """Fake NER: finds a few words and marks 'no X' as negated."""
    body = text or ctx.load_blob(attachment or "").decode()
    ents = []
    for word in ("pleural effusion", "pneumothorax", "consolidation"):
        for m in re.finditer(word, body, re.I):
            negated = bool(re.search(r"\bno\s+$", body[max(0, m.start() - 4) : m.start()], re.I))
            ents.append(
                {
                    "text": m.group(0),
                    "label": "FINDING",
                    "start": m.start(),
                    "end": m.end(),
                    "negated": negated,
                    "uncertain": False,
                    "historical": False,
                    "family": False,
                    "section": "findings",
                }
            )
    pos = [e["text"] for e in ents if not e["negated"]]
    neg = [e["text"] for e in ents if e["negated"]]
    return {
        "entities": ents,
        "summary": f"Positive: {', '.join(pos) or '-'} / Negated: {', '.join(neg) or '-'}",
    }


@tool
def search_knowledge(
    query: str, k: int = 5, source: str | None = None, *, ctx: ToolContext
) -> dict[str, Any]:
    """Fake KB: passages whose title shares a word with the query."""
    words = set(re.findall(r"[a-z]+", query.lower()))
    hits = [dict(p, score=0.9) for p in PASSAGES if words & set(p["title"].lower().split())]
    return {"results": hits[:k], "abstain": not hits}


@tool
def classify_image(attachment: str, heatmap: bool = True, *, ctx: ToolContext) -> dict[str, Any]:
    """Fake classifier: PNG -> PNEUMONIA 0.9."""
    ctx.load_blob(attachment)
    return {
        "label": "PNEUMONIA",
        "probabilities": {"NORMAL": 0.1, "PNEUMONIA": 0.9},
        "model": "fake@0",
        "in_distribution": True,
        "heatmap": None,
        "needs_review": False,
    }


def fake_registry() -> ToolRegistry:
    return ToolRegistry([classify_image, extract_entities, search_knowledge, generate_answer])


def patient_registry() -> ToolRegistry:
    """For patient-mode graph tests: the fake image and report tools, the one-passage consumer
    knowledge base (``tests.fakes.self_care``), and the real answer and triage tools."""
    from tests.fakes.self_care import search_knowledge as consumer_knowledge
    from tools.triage import triage

    return ToolRegistry(
        [classify_image, extract_entities, consumer_knowledge, generate_answer, triage]
    )


def answer_ctx(
    settings: Settings, llm: ScriptedLLM, mode: Mode, found: dict[str, Any] | None = None
) -> ToolContext:
    """A context for calling generate_answer directly: the scripted model, an empty case and, if
    ``found`` is given, this turn's search_knowledge call with that result."""
    ctx = ToolContext(
        case_id="t",
        mode=mode,
        settings=settings,
        resources=Resources(settings, llm=llm, embedder=HashingEmbedder()),
        case=empty_case(mode),
        load_blob=lambda sha: b"",
    )
    if found is not None:
        ctx.turn_calls.append(ToolCall(name="search_knowledge", args={"query": "q"}, result=found))
    return ctx
