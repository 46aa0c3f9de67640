"""The ``generate_answer`` tool: evidence, the model's streamed sentences through the support
check, and the fallbacks when the model declines (the pipeline is described in
:mod:`tools.answer`)."""

from __future__ import annotations

import re
from typing import Any

from assistant.core.embeddings import Embedder, build_embedder
from assistant.core.llm import LLM, build_llm
from assistant.policy import messages
from knowledge.kb.sources import sections
from tools.answer.composer import Composer, _gate_counts, _sentences_from_stream, citations
from tools.answer.evidence import (
    _MemoEmbedder,
    build_messages,
    care_passage,
    care_text,
    case_facts,
    focus_passages,
    passages_from,
    semantic,
)
from tools.answer.fallbacks import care_sentences, case_lookup, reading_grade
from tools.answer.quote import asked_type, gives_asked, quote
from tools.answer.support import SupportChecker
from tools.base import ToolContext, tool
from tools.verbatim import Verbatim

ANSWER_MAX_TOKENS = 160
_DONT_KNOW = re.compile(r"^\W*i\s+(do\s+not|don.?t)\s+know\b", re.IGNORECASE)


def _dont_know(mode: str) -> str:
    return messages.DONT_KNOW_PATIENT if mode == "patient" else messages.DONT_KNOW


def _patient_tail() -> str:
    """What a triage nurse asks next, and where to get care (patient mode)."""
    return f"{messages.TRIAGE_QUESTIONS}\n\n{messages.CARE_LEVELS}"


@tool
def generate_answer(question: str, *, ctx: ToolContext) -> dict[str, Any]:
    """Answer a question from this turn's retrieved passages and the case's findings, with
    citations; says it does not know when the evidence is not there."""
    passages, injected = passages_from(ctx, question)
    facts = case_facts(ctx)
    base: dict[str, Any] = {"injection_ignored": injected, "mode": ctx.mode}
    if ctx.mode == "patient":
        base["triage"] = _patient_tail()
    if not passages and not facts:
        text = _dont_know(ctx.mode)
        return base | {
            "answer": text,
            "grounded": False,
            "citations": [],
            "evidence": 0,
            "needs_review": True,
            "dont_know": "no_evidence",
            "support": {"claims": 0, "supported": 0, "removed": 0},
            "removed": 0,
        }
    if not passages and ctx.mode == "clinician":
        looked_up = case_lookup(question, ctx.case.get("findings", []))
        if looked_up:
            return base | {
                "answer": looked_up,
                "grounded": True,
                "citations": [],
                "evidence": len(facts),
                "method": "case_lookup",
                "support": {"claims": 0, "supported": 0, "removed": 0},
                "removed": 0,
            }
    llm: LLM = ctx.resources.get("llm", lambda: build_llm(ctx.settings))
    embedder: Embedder | None
    try:
        embedder = ctx.resources.get("embedder", lambda: build_embedder(ctx.settings))
    except Exception:  # focusing and the support check still work lexically
        embedder = None
    if semantic(embedder):
        assert embedder is not None
        embedder = _MemoEmbedder(embedder)
    care = care_passage(ctx, passages) if ctx.mode == "patient" else None
    if care:
        passages = [p for p in passages if p["id"] != care["id"]]
    full = passages + ([care] if care else [])
    if ctx.mode == "clinician":
        from tools.extract import DIFFERENTIAL, differential_answer

        if DIFFERENTIAL.search(question):  # no differential source: say so, quote causes
            return base | differential_answer(question, full, embedder, ctx.on_token)
    passages = focus_passages(question, passages, embedder)
    if care:
        passages.append(dict(care, text=care_text(str(care["text"]))))
    checker = SupportChecker(passages, facts if ctx.mode == "clinician" else [], embedder)
    # a question asking one kind of information (treatment, causes ...): the model's sentences
    # are shown once it is clear they give it (else the source's sentences that do replace them)
    asked = asked_type(question)
    typed = asked is not None
    composer = Composer(
        checker, ctx.mode, emit=None if typed else ctx.on_token, verbatim=Verbatim.of(full)
    )
    stream = llm.stream(
        build_messages(question, passages, facts, ctx.mode), max_tokens=ANSWER_MAX_TOKENS
    )
    model_said_dont_know = False
    for i, sentence in enumerate(_sentences_from_stream(stream)):
        if i == 0 and _DONT_KNOW.match(sentence):
            model_said_dont_know = True
            break
        composer.add(sentence)
    method = "model"
    note = ""
    model_composer = composer
    off_type = (
        composer.supported > 0
        and not model_said_dont_know
        and not gives_asked(composer.kept, question, full)
        and not any(passages[i].get("section") == asked for i in composer.order)
    )
    if model_said_dont_know or not composer.supported or off_type:
        # the small model declines many questions its evidence answers, or answers another
        # question ("After treatment, some patients ..." for "how is it treated?"): quote the
        # source's sentences that answer it instead (checked like model text)
        quoted = quote(question, full, reading_grade)
        if quoted.sentences and (not off_type or quoted.kind in ("section", "sentences")):
            fallback = Composer(
                SupportChecker(full, [], embedder), ctx.mode, verbatim=Verbatim.of(full)
            )
            for sentence in quoted.sentences:
                fallback.add(sentence)
            if fallback.supported:
                composer, passages, checker = fallback, full, fallback.checker
                model_said_dont_know, method = False, quoted.kind
                if quoted.missing:  # nothing of the asked type: say so before the rest
                    note = messages.NO_SECTION.format(
                        section=sections.label(quoted.missing).lower(), topic=quoted.topic
                    )
                if ctx.on_token is not None:
                    ctx.on_token((f"{note}\n\n" if note else "") + composer.text)
                composer.emit = ctx.on_token
    if typed and composer is model_composer:
        if ctx.on_token is not None and composer.kept:
            ctx.on_token(composer.text)
        composer.emit = ctx.on_token
    if care and composer.supported and len(passages) - 1 not in composer.order:
        idx = len(passages) - 1  # the care passage is always the last one
        for sentence in care_sentences(str(passages[idx]["text"]), idx + 1):
            composer.add(sentence)
    composer.finish()
    answer = composer.text
    grounded = bool(answer) and composer.supported > 0 and not model_said_dont_know
    why = (
        None
        if grounded
        else "model_said_dont_know"
        if model_said_dont_know
        else "nothing_supported"
    )
    if not grounded:
        answer, note = _dont_know(ctx.mode), ""
    elif note:
        answer = f"{note}\n\n{answer}"
    cited = [passages[i] for i in composer.order]
    removed = len(composer.removed) + (
        len(model_composer.removed) if composer is not model_composer else 0
    )
    result = base | {
        "answer": answer,
        "grounded": grounded,
        "citations": citations(cited),
        "evidence": len(passages) + len(facts),
        "model": llm.name,
        "method": method,
        "support": {
            "claims": composer.claims,
            "supported": composer.supported,
            "removed": removed,
            "removed_sentences": (composer.removed or model_composer.removed)[:5],
            "invalid_citations": composer.invalid_citations,
            "moved_citations": composer.moved_citations,
            "scrubbed": composer.scrubbed,
            "dropped": len(composer.dropped),
            "verbatim": _gate_counts(model_composer, composer),
            "method": f"lexical+{checker.embedder.name}"
            if checker.embedder is not None and semantic(checker.embedder)
            else "lexical",
        },
        "removed": removed,
        "dont_know": why,
        "note": note or None,
        "needs_review": (not grounded) or removed > 0 or composer.invalid_citations > 0,
    }
    if ctx.mode == "patient":
        result["reading_grade"] = reading_grade(composer.text)
    return result
