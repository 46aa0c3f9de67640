"""Consumer-health evaluation for ``clinassist eval kb`` (with knowledge/evaluate.py):

(a) Retrieval on held-out MedQuAD questions (``medquad_heldout.jsonl``: topics split dev/test
    by a seeded hash; the question wording is never indexed): is the question's own answer
    passage in the top k (ranks of distinct answers: the parts of a long answer count once)? recall@1/5/10 and MRR, hybrid / dense / BM25 over the consumer
    passages, and hybrid over everything (the clinician default).
(b) Answers to real consumer questions (TREC 2017 LiveQA medical test questions,
    ``liveqa_test.jsonl``), in patient mode through the real tools and the configured local
    model: answered vs "I don't know"; an INDEPENDENT groundedness check (:func:`grounded`,
    stricter than the answer tool's support checker and sharing no code with it); whether the
    answer cites a passage about the question's annotated focus; overlap with the MedQuAD
    answers judged correct for the question (ROUGE-L recall and F1, :func:`rouge_l`); reading
    grade. Today's corpus (term definitions and codes only) is the same-run baseline.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from importlib import resources
from typing import Any

from knowledge.retrieval import Mode, Retriever

Echo = Callable[[str], None]
KS = (1, 5, 10)
ANSWERS_ENV = "KB_EVAL_ANSWERS"
"""``0`` skips (b) (it runs the local model on every question: minutes)."""
LIMIT_ENV = "KB_EVAL_ANSWER_LIMIT"
"""At most this many questions for the configured model (the first of the split, in file
order); the always-declining run (quoting path only) answers every question. Unset: all."""

# --- the independent groundedness check ----------------------------------------------------
_TOKEN = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)?")
_CITE = re.compile(r"\[(\d{1,3})\]")
_REFERRAL = re.compile(
    r"^\W*(?:please\s+)?(?:talk|speak|ask|see|call|contact|check)\b[^.]{0,80}\b(?:doctor|"
    r"pharmacist|nurse|provider|clinician|emergency|911)\b[^.]{0,60}[.!]?\s*$",
    re.I,
)
_FUNCTION_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "then",
        "than",
        "so",
        "as",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "into",
        "onto",
        "about",
        "over",
        "under",
        "after",
        "before",
        "between",
        "through",
        "during",
        "without",
        "within",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "do",
        "does",
        "did",
        "doing",
        "have",
        "has",
        "had",
        "having",
        "can",
        "could",
        "may",
        "might",
        "must",
        "shall",
        "should",
        "will",
        "would",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "there",
        "here",
        "which",
        "who",
        "whom",
        "whose",
        "what",
        "when",
        "where",
        "why",
        "how",
        "not",
        "no",
        "nor",
        "also",
        "too",
        "very",
        "just",
        "only",
        "some",
        "any",
        "all",
        "each",
        "every",
        "both",
        "either",
        "neither",
        "such",
        "more",
        "most",
        "less",
        "least",
        "many",
        "much",
        "few",
        "other",
        "another",
        "same",
        "own",
        "i",
        "you",
        "he",
        "she",
        "we",
        "they",
        "me",
        "him",
        "her",
        "us",
        "them",
        "my",
        "your",
        "his",
        "our",
        "their",
        "yours",
        "one",
        "ones",
        "often",
        "usually",
        "sometimes",
    ]
)


def _words(text: str) -> list[str]:
    return [w for w in _TOKEN.findall(text.lower()) if w not in _FUNCTION_WORDS]


def _norm(word: str) -> str:
    """Plural and simple inflection folded (symptoms/symptom, causes/caused); nothing else."""
    for suffix in ("ies", "es", "s", "ed", "ing"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def grounded(answer: str, cited: dict[int, str]) -> tuple[int, int, list[str]]:
    """(units checked, units unsupported, the unsupported ones). The answer is cut after each
    citation mark: the text up to a mark must have every word other than function words, and
    every number, in ONE of the passages cited at that point (after folding plurals). Text with
    no mark after it is unsupported, except a referral ("talk to your doctor")."""
    checked = unsupported = 0
    bad: list[str] = []
    units = re.split(r"((?:\s*\[\d{1,3}\])+[.!?]?)", answer)
    for i in range(0, len(units), 2):
        plain = units[i].strip()
        marks = [int(n) for n in _CITE.findall(units[i + 1])] if i + 1 < len(units) else []
        words = {_norm(w) for w in _words(plain)}
        if not words:
            continue
        checked += 1
        if not marks and all(_REFERRAL.match(p) for p in re.split(r"(?<=[.!?])\s+", plain)):
            continue
        ok = any(words <= {_norm(w) for w in _words(cited.get(n, ""))} for n in marks if n in cited)
        if not ok:
            unsupported += 1
            bad.append(plain)
    return checked, unsupported, bad


def rouge_l(candidate: str, reference: str) -> tuple[float, float]:
    """ROUGE-L (recall, F1) over lower-case word tokens (longest common subsequence)."""
    a = _TOKEN.findall(_CITE.sub(" ", candidate).lower())
    b = _TOKEN.findall(reference.lower())
    if not a or not b:
        return 0.0, 0.0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b, 1):
            cur[j] = prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1])
        prev = cur
    lcs = prev[-1]
    recall, precision = lcs / len(b), lcs / len(a)
    f1 = 0.0 if lcs == 0 else 2 * recall * precision / (recall + precision)
    return recall, f1


# --- data --------------------------------------------------------------------------------
def _rows(name: str) -> list[dict[str, Any]]:
    text = resources.files("knowledge.data.kb").joinpath(name).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def heldout(split: str) -> list[dict[str, Any]]:
    return [r for r in _rows("medquad_heldout.jsonl") if split == "all" or r["split"] == split]


def liveqa(split: str) -> list[dict[str, Any]]:
    return [r for r in _rows("liveqa_test.jsonl") if split == "all" or r["split"] == split]


# --- (a) retrieval -------------------------------------------------------------------------
def _passage_of(hit_id: str) -> str:
    """``medquad:NIDDK_0000001_2/3`` (a part) -> ``NIDDK_0000001_2``."""
    return hit_id.removeprefix("medquad:").split("/", 1)[0]


def score_heldout(
    retriever: Retriever, questions: list[dict[str, Any]], mode: Mode, audience: str | None
) -> dict[str, Any]:
    hits_at = dict.fromkeys(KS, 0)
    rr = 0.0
    by_section: dict[str, list[int]] = {}
    misses: list[dict[str, Any]] = []
    for q in questions:
        # ranks of distinct answers: the parts of one long answer count once
        res = retriever.search(q["question"], 2 * max(KS), mode=mode, audience=audience)
        ids = list(dict.fromkeys(_passage_of(h.id) for h in res.hits))[: max(KS)]
        rank = next((i + 1 for i, d in enumerate(ids) if d in q["relevant"]), 0)
        for k in KS:
            hits_at[k] += 0 < rank <= k
        rr += 1.0 / rank if rank else 0.0
        by_section.setdefault(q["qtype"], []).append(rank)
        if not 0 < rank <= 5 and len(misses) < 30:
            misses.append({"question": q["question"], "rank": rank, "top": ids[:3]})
    n = max(len(questions), 1)
    return {
        "n": len(questions),
        **{f"recall@{k}": round(hits_at[k] / n, 3) for k in KS},
        "mrr": round(rr / n, 3),
        "recall@5_by_question_type": {
            t: round(sum(0 < r <= 5 for r in ranks) / len(ranks), 3)
            for t, ranks in sorted(by_section.items())
        },
        "misses": misses,
    }


def eval_heldout(retriever: Retriever, split: str, echo: Echo) -> dict[str, Any]:
    questions = heldout(split)
    out: dict[str, Any] = {"split": split}
    for name, mode, audience in (
        ("consumer hybrid", "hybrid", "consumer"),
        ("consumer dense", "dense", "consumer"),
        ("consumer BM25", "bm25", "consumer"),
        ("all sources hybrid", "hybrid", None),
    ):
        r = score_heldout(retriever, questions, mode, audience)  # type: ignore[arg-type]
        out[name] = r
        echo(
            f"kb[medquad {split}] {name:18s} n={r['n']}: recall@1 {r['recall@1']:.3f}  "
            f"recall@5 {r['recall@5']:.3f}  recall@10 {r['recall@10']:.3f}  MRR {r['mrr']:.3f}"
        )
    return out


# --- (b) answers ---------------------------------------------------------------------------
def question_text(q: dict[str, Any]) -> str:
    subject, message = q.get("subject", ""), q.get("message", "")
    if subject and subject.lower() not in message.lower():
        return f"{subject}. {message}".strip()
    return message or subject


def _on_focus(citations: list[dict[str, Any]], focus: list[str]) -> bool:
    want = {_norm(w) for f in focus for w in _words(f) if len(w) > 3}
    for c in citations:
        have = {_norm(w) for w in _words(str(c.get("topic") or c.get("title", "")))}
        if want & have:
            return True
    return False


def answer_one(ctx: Any, question: str, audience: str | None) -> dict[str, Any]:
    """search_knowledge then generate_answer, as the router chains them for a question."""
    from assistant.schema import ToolCall
    from tools.answer import generate_answer
    from tools.knowledge import search_knowledge

    ctx.turn_calls.clear()
    found = search_knowledge.fn(query=question, audience=audience, ctx=ctx)
    ctx.turn_calls.append(ToolCall(name="search_knowledge", args={"query": question}, result=found))
    out: dict[str, Any] = generate_answer.fn(question=question, ctx=ctx)
    passages = {r["id"]: r for r in [*found.get("results", []), found.get("care") or {}] if r}
    out["_passages"] = passages
    return out


def score_answers(
    ctx: Any, questions: list[dict[str, Any]], passages: dict[str, str], audience: str | None
) -> dict[str, Any]:
    answered = sentences = unsupported = on_focus = cites_judged = 0
    grades: list[float] = []
    rl_recall: list[float] = []
    rl_f1: list[float] = []
    examples: list[dict[str, Any]] = []
    bad: list[str] = []
    t0 = time.perf_counter()
    for q in questions:
        text = question_text(q)
        out = answer_one(ctx, text, audience)
        found = out.pop("_passages")
        judged = {pid for pid, s in q.get("judged", {}).items() if s >= 3}
        if out.get("grounded"):
            answered += 1
            cited = {
                i: str(found.get(c["id"], {}).get("text", ""))
                for i, c in enumerate(out["citations"], 1)
            }
            n_s, n_bad, which = grounded(out["answer"], cited)
            sentences += n_s
            unsupported += n_bad
            bad += which
            on_focus += _on_focus(
                [found.get(c["id"], c) for c in out["citations"]], q.get("focus", [])
            )
            cites_judged += any(
                c["id"].removeprefix("medquad:").split("/")[0] in judged for c in out["citations"]
            )
            if out.get("reading_grade") is not None:
                grades.append(float(out["reading_grade"]))
        if judged:
            refs = [passages[p] for p in judged if p in passages]
            answer = out["answer"] if out.get("grounded") else ""
            best = max((rouge_l(answer, r) for r in refs), default=(0.0, 0.0))
            rl_recall.append(best[0])
            rl_f1.append(best[1])
        if len(examples) < 12:
            examples.append(
                {
                    "id": q["id"],
                    "question": text[:200],
                    "answer": out["answer"][:400],
                    "method": out.get("method"),
                    "citations": [c.get("title") for c in out["citations"]],
                }
            )
    n = max(len(questions), 1)
    mean = lambda xs: round(sum(xs) / len(xs), 3) if xs else None  # noqa: E731
    return {
        "n": len(questions),
        "answered": round(answered / n, 3),
        "dont_know": round(1 - answered / n, 3),
        "answered_on_focus": round(on_focus / n, 3),
        "sentences_checked": sentences,
        "unsupported_sentences": unsupported,
        "unsupported_examples": bad[:5],
        "with_reference": len(rl_f1),
        "cites_a_judged_correct_passage": round(cites_judged / max(len(rl_f1), 1), 3),
        "rouge_l_recall": mean(rl_recall),
        "rouge_l_f1": mean(rl_f1),
        "reading_grade_mean": mean(grades),
        "seconds_per_question": round((time.perf_counter() - t0) / n, 1),
        "examples": examples,
    }


def eval_answers(settings: Any, index: Any, split: str, echo: Echo) -> dict[str, Any] | None:
    """Two models: one that always declines (every answer then comes from quoting the
    best-matching section: deterministic, every question) and the configured local model (the
    product; the first ``KB_EVAL_ANSWER_LIMIT`` questions when set). Each with today's
    corpus (term definitions and codes) and with the consumer-health passages."""
    if os.environ.get(ANSWERS_ENV, "1").strip() == "0":
        echo(f"kb[liveqa]: skipped ({ANSWERS_ENV}=0)")
        return None
    from assistant.llm import ScriptedLLM, build_llm
    from knowledge.sources.medquad import read_records
    from tools.base import Resources, ToolContext

    texts = {r["id"]: r["text"] for r in read_records()}
    questions = liveqa(split)
    limit = os.environ.get(LIMIT_ENV, "").strip()
    retriever = Retriever(index, abstain_dense=settings.kb.abstain_similarity)
    out: dict[str, Any] = {"split": split}
    for model_name, llm, qs in (
        ("always declines", ScriptedLLM(default="I don't know."), questions),
        ("configured", build_llm(settings), questions[: int(limit)] if limit else questions),
    ):
        res = Resources(settings, llm=llm, embedder=index.embedder)
        res.put("kb.index", index)
        res.put("kb.retriever", retriever)
        ctx = ToolContext.outside_case(settings, res, mode="patient")
        label = model_name if model_name != "configured" else f"model {llm.name}"
        for corpus, audience in (("today's corpus", "clinician"), ("+ consumer health", None)):
            name = f"{label}, {corpus}"
            r = score_answers(ctx, qs, texts, audience)
            out[name] = r
            echo(
                f"kb[liveqa {split}] {name:40s} n={r['n']}: answered {r['answered']:.3f}  "
                f"on focus {r['answered_on_focus']:.3f}  unsupported "
                f"{r['unsupported_sentences']}/{r['sentences_checked']}  ROUGE-L F1 "
                f"{r['rouge_l_f1']}  grade {r['reading_grade_mean']}  "
                f"{r['seconds_per_question']} s/question"
            )
    return out
