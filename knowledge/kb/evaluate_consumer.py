"""Consumer-health evaluation for ``clinassist eval kb`` (with knowledge/kb/evaluate.py):

(a) Retrieval on held-out MedQuAD questions (``medquad_heldout.jsonl``: topics split dev/test
    by a seeded hash; the question wording is never indexed): is the question's own answer
    passage in the top k (ranks of distinct answers: the parts of a long answer count once)? recall@1/5/10 and MRR, hybrid / dense / BM25 over the consumer
    passages, and hybrid over everything (the clinician default).
(b) ROUGE-L (:func:`rouge_l`) used by the answer evaluation (``assistant/evals/kb_answers.py``,
    which judges groundedness with ``assistant/evals/claim_check.py``), and the question sets
    it reads.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

from assistant.core.types import Echo
from knowledge.kb.evaluate import KS, rank_metrics, recall_at_5_by
from knowledge.kb.retrieval import Mode, Retriever

# --- ROUGE-L for the answer evaluation -----------------------------------------------------
_TOKEN = re.compile(r"[a-z0-9]+(?:[.,][0-9]+)?")
_CITE = re.compile(r"\[(\d{1,3})\]")


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
    ranks: list[int] = []
    by_section: dict[str, list[int]] = {}
    misses: list[dict[str, Any]] = []
    for q in questions:
        # ranks of distinct answers: the parts of one long answer count once
        res = retriever.search(q["question"], 2 * max(KS), mode=mode, audience=audience)
        ids = list(dict.fromkeys(_passage_of(h.id) for h in res.hits))[: max(KS)]
        rank = next((i + 1 for i, d in enumerate(ids) if d in q["relevant"]), 0)
        ranks.append(rank)
        by_section.setdefault(q["qtype"], []).append(rank)
        if not 0 < rank <= 5 and len(misses) < 30:
            misses.append({"question": q["question"], "rank": rank, "top": ids[:3]})
    return {
        "n": len(questions),
        **rank_metrics(ranks),
        "recall@5_by_question_type": recall_at_5_by(by_section),
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
