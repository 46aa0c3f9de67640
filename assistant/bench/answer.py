"""`clinassist bench answer`: first-token latency and answer time of a grounded answer with the
configured local model."""

from __future__ import annotations

import statistics
import time
from typing import Any

from assistant.core.config import Settings
from assistant.core.types import Echo
from assistant.evals.safety.run import real_llm
from assistant.evals.safety.suite import fake_search_tool, load_suite
from tools.base import Resources, ToolContext

BENCH_QUESTION = "What is atelectasis and how does it look on a chest X-ray?"
# Distinct questions, so no run reuses another's cached prompt (only the system prompt is shared).
BENCH_QUESTIONS = (
    BENCH_QUESTION,
    "What causes a pleural effusion and how is it treated?",
    "What are the signs of sepsis?",
    "What is cardiomegaly on a chest X-ray?",
    "How is pneumonia treated?",
    "What triggers asthma?",
)


def bench_answer(settings: Settings, *, quick: bool = False, echo: Echo = print) -> dict[str, Any]:
    """First-token latency and 120-token answer time of a grounded answer with the configured
    local model: raw model stream (prompt as generate_answer builds it), and the checked stream
    that generate_answer emits (a sentence appears once it passed the support check)."""
    from assistant.core.embeddings import build_embedder
    from assistant.core.llm import complete
    from assistant.core.schema import ToolCall
    from tools.answer import build_messages, focus_passages, generate_answer, passages_from
    from tools.answer import prompt as answer_prompt

    llm, why = real_llm(settings)
    if llm is None:
        return {"skipped": why}
    suite = load_suite()
    search = fake_search_tool(suite["passages"])
    resources_ = Resources(settings, llm=llm)
    out: dict[str, Any] = {
        "llm": llm.name,
        "question": BENCH_QUESTION,
        "threads": settings.llm.n_threads,
    }
    start = time.perf_counter()
    complete(llm, [{"role": "user", "content": "hi"}], max_tokens=1)
    out["load_s"] = round(time.perf_counter() - start, 2)
    # A running assistant has its embedder loaded (routing uses it) and, with a local model,
    # the answer instructions read (Assistant.warm) before the first answer.
    embedder = resources_.get("embedder", lambda: build_embedder(settings))
    embedder.embed(["warm up"])
    prefill = getattr(llm, "prefill", None)

    def read_instructions() -> None:
        if callable(prefill):
            prefill([{"role": "system", "content": answer_prompt("clinician")}])

    read_instructions()

    def context(question: str) -> ToolContext:
        ctx = ToolContext.outside_case(settings, resources_)
        result = search.fn(query=question, k=5, ctx=ctx)
        ctx.turn_calls.append(
            ToolCall(name="search_knowledge", args={"query": question}, result=result)
        )
        return ctx

    runs = 1 if quick else 3
    raw_questions, checked_questions = BENCH_QUESTIONS[:runs], BENCH_QUESTIONS[3 : 3 + runs]
    med = statistics.median
    prompts = []
    for question in raw_questions:
        passages = focus_passages(question, passages_from(context(question))[0], embedder)
        prompts.append(build_messages(question, passages, [], "clinician"))
    out["prompt_chars"] = sum(len(m["content"]) for m in prompts[0])

    def raw(prefix: str) -> None:
        """Time the model's own stream (120 tokens at most, greedy) on each prompt, starting
        from the state Assistant.warm leaves (instructions read, no question): otherwise a
        pass would find the previous pass's last prompt still in the context (with --quick,
        the whole prompt)."""
        read_instructions()
        first_raw, total_raw, tokens, texts = [], [], [], []
        for prompt_msgs in prompts:
            start = time.perf_counter()
            first = None
            pieces = []
            for piece in llm.stream(prompt_msgs, max_tokens=120, temperature=0.0):
                pieces.append(piece)
                if first is None:
                    first = time.perf_counter() - start
            total_raw.append(time.perf_counter() - start)
            first_raw.append(first or float("nan"))
            tokens.append(len(pieces))
            texts.append("".join(pieces))
        per_token = [
            (t - f) / max(n - 1, 1) for t, f, n in zip(total_raw, first_raw, tokens, strict=True)
        ]
        out[f"{prefix}first_token_s"] = round(med(first_raw), 2)
        out[f"{prefix}first_token_s_runs"] = [round(x, 2) for x in first_raw]
        out[f"{prefix}answer_s_runs"] = [round(x, 2) for x in total_raw]
        out[f"{prefix}answer_tokens"] = tokens
        out[f"{prefix}decode_tokens_per_s"] = round(1 / med(per_token), 1)
        out[f"{prefix}est_120_token_answer_s"] = round(med(first_raw) + 119 * med(per_token), 2)
        out[f"{prefix}texts"] = texts

    drafting = getattr(llm, "drafting", None)
    if callable(drafting) and settings.llm.draft_tokens:
        with drafting(False):  # same-run baseline: plain one-token-at-a-time decoding
            raw("baseline_no_draft_")
    raw("")
    if "baseline_no_draft_texts" in out:
        out["draft_same_text"] = out.pop("baseline_no_draft_texts") == out["texts"]
    out.pop("texts")
    out["raw_first_token_s"] = out.pop("first_token_s")
    out["raw_first_token_s_runs"] = out.pop("first_token_s_runs")
    checked_first, checked_total = [], []
    stamps: list[float] = []
    for question in checked_questions:
        ctx = context(question)
        stamps.clear()
        ctx.on_token = lambda _p: stamps.append(time.perf_counter())
        start = time.perf_counter()
        generate_answer.fn(question=question, ctx=ctx)
        checked_total.append(time.perf_counter() - start)
        checked_first.append((stamps[0] - start) if stamps else float("nan"))
    out["checked_first_sentence_s"] = round(med(checked_first), 2)
    out["checked_first_sentence_s_runs"] = [round(x, 2) for x in checked_first]
    out["checked_answer_s"] = round(med(checked_total), 2)
    try:
        import os

        out["load_average"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    if "baseline_no_draft_est_120_token_answer_s" in out:
        echo(
            f"baseline without prompt-lookup drafting (same run): first token "
            f"{out['baseline_no_draft_first_token_s']} s, 120-token answer "
            f"~{out['baseline_no_draft_est_120_token_answer_s']} s "
            f"({out['baseline_no_draft_decode_tokens_per_s']} tok/s); "
            f"same text with drafting: {out['draft_same_text']}"
        )
    echo(
        f"answer latency ({llm.name}): first token {out['raw_first_token_s']} s, "
        f"first checked sentence {out['checked_first_sentence_s']} s, "
        f"120-token answer ~{out['est_120_token_answer_s']} s ({out['decode_tokens_per_s']} tok/s), "
        f"load average {out.get('load_average')}"
    )
    return out
