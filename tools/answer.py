"""generate_answer: an answer grounded in this turn's retrieved passages and the case's tool
results; says "I don't know" (without calling the model) when there is no evidence."""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

from assistant import messages
from assistant.llm import LLM, build_llm
from tools.base import ToolContext, tool

_CITE = re.compile(r"\[(\d{1,2})\]")
MAX_PASSAGE_CHARS = 700


def prompt(mode: str) -> str:
    return (
        resources.files("assistant.prompts").joinpath(f"answer_{mode}.md").read_text(encoding="utf-8").strip()
    )


def passages_from(ctx: ToolContext) -> list[dict[str, Any]]:
    """Passages retrieved in this turn that are strong enough to answer from."""
    found: list[dict[str, Any]] = []
    seen: set[str] = set()
    for call in ctx.turn_calls:
        if call.name != "search_knowledge" or not call.ok or not call.result:
            continue
        if call.result.get("abstain"):
            continue
        for passage in call.result.get("results", []):
            if passage["id"] not in seen:
                seen.add(passage["id"])
                found.append(passage)
    return found


def case_facts(ctx: ToolContext) -> list[str]:
    """The case's findings and image results as short factual lines."""
    facts: list[str] = []
    for ent in ctx.case.get("findings", [])[-40:]:
        status = (
            "negated" if ent.get("negated") else "uncertain" if ent.get("uncertain") else
            "historical" if ent.get("historical") else "present"
        )
        section = f", section {ent['section']}" if ent.get("section") else ""
        facts.append(f"Report {ent.get('label', 'ENTITY').lower()}: {ent.get('text')} ({status}{section})")
    for img in ctx.case.get("images", [])[-4:]:
        if img.get("in_distribution") is False:
            facts.append(f"Image {img.get('name', '')}: not assessed ({img.get('reason', 'out of scope')})")
        elif img.get("label"):
            prob = img.get("probabilities", {}).get(img["label"])
            p = f" (model probability {prob:.2f})" if isinstance(prob, float) else ""
            facts.append(f"Image {img.get('name', '')}: model label {img['label']}{p}")
    return facts


def build_messages(question: str, passages: list[dict[str, Any]], facts: list[str], mode: str) -> list[dict[str, str]]:
    parts = []
    if passages:
        parts.append("Sources:")
        for i, p in enumerate(passages, 1):
            text = p.get("text", "")[:MAX_PASSAGE_CHARS]
            parts.append(f"[{i}] {p.get('title', '')}: {text}")
    if facts:
        parts.append("Case facts (from this case's tools):")
        parts.extend(f"- {f}" for f in facts)
    parts.append(f"Question: {question}")
    return [
        {"role": "system", "content": prompt(mode)},
        {"role": "user", "content": "\n".join(parts)},
    ]


@tool
def generate_answer(question: str, *, ctx: ToolContext) -> dict[str, Any]:
    """Answer a question from this turn's retrieved passages and the case's findings, with
    citations; says it does not know when the evidence is not there."""
    passages = passages_from(ctx)
    facts = case_facts(ctx)
    if not passages and not facts:
        text = messages.DONT_KNOW_PATIENT if ctx.mode == "patient" else messages.DONT_KNOW
        return {"answer": text, "grounded": False, "citations": [], "evidence": 0}
    llm: LLM = ctx.resources.get("llm", lambda: build_llm(ctx.settings))
    pieces: list[str] = []
    for piece in llm.stream(build_messages(question, passages, facts, ctx.mode)):
        pieces.append(piece)
        if ctx.on_token is not None:
            ctx.on_token(piece)
    answer = "".join(pieces).strip()
    cited: list[dict[str, Any]] = []

    def keep_valid(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if 1 <= n <= len(passages):
            if passages[n - 1] not in cited:
                cited.append(passages[n - 1])
            return match.group(0)
        return ""  # a citation to a passage that was not retrieved is removed

    answer = _CITE.sub(keep_valid, answer)
    if passages and not cited:
        cited = passages[:3]
    return {
        "answer": answer or messages.DONT_KNOW,
        "grounded": True,
        "citations": [
            {"id": p["id"], "source": p.get("source", ""), "title": p.get("title", ""), "url": p.get("url")}
            for p in cited
        ],
        "evidence": len(passages) + len(facts),
        "model": llm.name,
    }
