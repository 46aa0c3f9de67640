"""Answers to held-out consumer questions, patient mode, through the real tools
(``search_knowledge`` then ``generate_answer``), judged by the INDEPENDENT check in
``assistant/evals/claim_check.py`` (:func:`~assistant.evals.claim_check.grounded`, which shares
no code with the answer tool).

Question sets:

- ``liveqa``: the 104 TREC 2017 LiveQA medical questions (real consumer questions sent to the
  U.S. National Library of Medicine). The test run uses all 104 and also reports the 76 of the
  ``test`` split alone (the 28 ``dev`` questions are the only LiveQA questions ever looked at
  while tuning). The dev run uses the 28.
- ``medquad``: the held-out MedQuAD questions (``medquad_heldout.jsonl``: 1,200 test, 400 dev;
  their wording is never indexed, their answers are).

Models: ``always declines`` (a stand-in that declines every question, so every answer comes from
the quoting path: deterministic, fast, every question) and the configured local model (the
product) on a fixed seeded sample of each set's test questions (``--sample N``; the model takes
~50-90 s per question on a shared 2-core machine). Each with today's corpus (term definitions
and codes only: ``audience="clinician"``) as the same-run baseline, and with the consumer-health
passages.

Per run: answered vs "I don't know"; answered on the question's topic (LiveQA: its annotated
focus; MedQuAD: its topic) and the wrong-topic rate among answered questions; the independent
groundedness check (units checked, unsupported units, answers with any); citing a passage
judged correct (LiveQA) or the question's own answer (MedQuAD); ROUGE-L against those
references; the reading grade (Flesch-Kincaid, computed here with textstat's word counts and
Pyphen syllables) of the displayed answers.

``python -m assistant.evals.kb_answers --set liveqa --set medquad --model standin
--split test --out DIR`` runs a part and merges it into ``DIR/kb-answers.json``;
``--render`` writes the generated block of docs/KNOWLEDGE.md from that file.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.core.config import Settings
from assistant.core.evaldocs import write_block
from assistant.core.types import Echo
from assistant.evals import claim_check
from assistant.evals.claim_check import grounded
from knowledge.kb.eval_docs import DOC
from knowledge.kb.evaluate_consumer import heldout, liveqa, question_text, rouge_l

SAMPLE_SEED = "kb-answers-sample-v1"
SETS = ("liveqa", "medquad", "consumer")
MODELS = ("standin", "configured")
CORPORA = (("today's corpus", "clinician"), ("+ consumer health", None))
STANDIN = "always declines"

_TOKEN = re.compile(r"[a-z0-9]+")
_CITE = re.compile(r"\[\d{1,3}\]")


# --- measures ------------------------------------------------------------------------------
def _focus_words(text: str) -> set[str]:
    out = set()
    for w in _TOKEN.findall(text.lower()):
        if len(w) > 3:
            out.add(w[:-1] if w.endswith("s") and len(w) > 4 else w)
    return out


def on_focus(cited_topics: list[str], focus: list[str]) -> bool:
    """Whether a cited passage is about the question's focus: a focus word (> 3 letters,
    plural folded) in the cited passage's topic or title."""
    want = set().union(*(_focus_words(f) for f in focus)) if focus else set()
    return any(want & _focus_words(t) for t in cited_topics)


def reading_grade(text: str) -> float | None:
    """Flesch-Kincaid grade of the displayed answer: words by textstat, syllables by Pyphen's
    English hyphenation (textstat's CMU dictionary needs a download), sentences and lines by
    the evaluations' one splitter (claim_check.sentences). None for an empty answer."""
    import pyphen
    import textstat

    plain = _CITE.sub("", text)
    sentences = [s for s in claim_check.sentences(plain) if re.search(r"[A-Za-z]", s)]
    if not sentences:
        return None
    words = max(sum(int(textstat.lexicon_count(s)) for s in sentences), 1)
    dic = pyphen.Pyphen(lang="en_US")
    syllables = sum(len(dic.positions(w)) + 1 for w in re.findall(r"[A-Za-z]+", plain.lower()))
    return round(0.39 * words / len(sentences) + 11.8 * syllables / words - 15.59, 2)


def answer_one(ctx: Any, question: str, audience: str | None) -> dict[str, Any]:
    """search_knowledge then generate_answer, as the router chains them for a question."""
    from assistant.core.schema import ToolCall
    from tools.answer import generate_answer
    from tools.knowledge import search_knowledge

    ctx.turn_calls.clear()
    found = search_knowledge.fn(query=question, audience=audience, ctx=ctx)
    ctx.turn_calls.append(ToolCall(name="search_knowledge", args={"query": question}, result=found))
    out: dict[str, Any] = generate_answer.fn(question=question, ctx=ctx)
    passages = {r["id"]: r for r in [*found.get("results", []), found.get("care") or {}] if r}
    out["_passages"] = passages
    return out


def judge(q: dict[str, Any], out: dict[str, Any], texts: dict[str, str], kind: str) -> dict:
    """One question's record: what was displayed and how the independent checks judge it."""
    found = out.pop("_passages")
    answered = bool(out.get("grounded"))
    item: dict[str, Any] = {
        "id": q["id"],
        "split": q.get("split", ""),
        "answered": answered,
        "method": out.get("method") if answered else None,
        "dont_know": out.get("dont_know"),
    }
    refs = (
        [pid for pid, s in q.get("judged", {}).items() if s >= 3]
        if kind == "liveqa"
        else list(q.get("relevant", []))
    )
    cited_ids = [c["id"].removeprefix("medquad:").split("/")[0] for c in out["citations"]]
    if answered:
        cited = {
            i: str(found.get(c["id"], {}).get("text", ""))
            for i, c in enumerate(out["citations"], 1)
        }
        # the tool's fixed note that nothing of the asked type was found is not a claim
        quoted = out["answer"].removeprefix(out.get("note") or "").strip()
        checked, _, which = grounded(quoted, cited)
        topics = [
            str(found.get(c["id"], {}).get("topic") or c.get("title", "")) for c in out["citations"]
        ]
        focus = (
            q.get("focus", [])
            if kind == "liveqa"
            else [q["question"]]
            if kind == "consumer"
            else [q.get("topic", "")]
        )
        item |= {
            "units": checked,
            "unsupported": which,
            "on_focus": on_focus(topics, focus),
            "cites_reference": bool(set(cited_ids) & set(refs)),
            "grade": reading_grade(out["answer"]),
            "answer": out["answer"][:600],
            "citations": [c.get("title") for c in out["citations"]],
        }
    item |= asked_type(q, out, found, kind)
    if refs:
        answer = out["answer"] if answered else ""
        best = max((rouge_l(answer, texts[r]) for r in refs if r in texts), default=(0.0, 0.0))
        item["rouge_l_recall"], item["rouge_l_f1"] = round(best[0], 4), round(best[1], 4)
    return item


def asked_type(
    q: dict[str, Any], out: dict[str, Any], found: dict[str, Any], kind: str
) -> dict[str, Any]:
    """Whether the answer comes from the section the question asks for: the first cited
    passage's section against the question's own MedQuAD question type (held-out MedQuAD) or
    the type written beside each consumer question; for the consumer questions also whether
    the answer mentions what a good answer mentions (every keyword group, any of its words)."""
    from knowledge.kb.sources import sections

    if not q.get("qtype"):
        return {}
    want = (
        sections.from_qtype(str(q["qtype"]))
        if kind == "medquad"
        else sections.normalize(str(q["qtype"]))
        if kind == "consumer"
        else None
    )
    if want is None:
        return {}
    answered = bool(out.get("grounded"))
    first = found.get(out["citations"][0]["id"], {}) if answered and out["citations"] else {}
    item: dict[str, Any] = {"asked_section": want, "section_match": first.get("section") == want}
    if kind == "consumer":
        text = out["answer"].lower() if answered else ""
        item["mentions"] = all(any(k in text for k in group) for group in q["keywords"])
    return item


def consumer_questions() -> list[dict[str, Any]]:
    """The 20 consumer questions written before the answer tool's question-type work (frozen;
    no split: none of them was used to tune)."""
    from importlib import resources

    text = resources.files("assistant.data.eval").joinpath("consumer_answers.jsonl")
    return [json.loads(line) for line in text.read_text(encoding="utf-8").splitlines() if line]


def summarize(items: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(items)
    answered = [i for i in items if i["answered"]]
    with_ref = [i for i in items if "rouge_l_f1" in i]
    grades = [i["grade"] for i in answered if i.get("grade") is not None]

    def rate(k: int, d: int) -> float | None:
        return round(k / d, 3) if d else None

    def mean(xs: list[float]) -> float | None:
        return round(sum(xs) / len(xs), 3) if xs else None

    methods: dict[str, int] = {}
    for i in answered:
        methods[str(i["method"])] = methods.get(str(i["method"]), 0) + 1
    on = sum(i["on_focus"] for i in answered)
    return {
        "n": n,
        "answered": rate(len(answered), n),
        "dont_know": rate(n - len(answered), n),
        "answered_on_topic": rate(on, n),
        "wrong_topic_among_answered": rate(len(answered) - on, len(answered)),
        "units_checked": sum(i["units"] for i in answered),
        "unsupported_units": sum(len(i["unsupported"]) for i in answered),
        "answers_with_unsupported": sum(bool(i["unsupported"]) for i in answered),
        "unsupported_examples": [u for i in answered for u in i["unsupported"]][:8],
        "with_reference": len(with_ref),
        "cites_reference": rate(
            sum(i.get("cites_reference", False) for i in with_ref), len(with_ref)
        ),
        "rouge_l_recall": mean([i["rouge_l_recall"] for i in with_ref]),
        "rouge_l_f1": mean([i["rouge_l_f1"] for i in with_ref]),
        "reading_grade_mean": mean(grades),
        "reading_grade_median": sorted(grades)[len(grades) // 2] if grades else None,
        "methods": methods,
        "asked_section": rate(
            sum(i.get("section_match", False) for i in answered),
            sum("asked_section" in i for i in answered),
        ),
        "mentions": rate(sum(i.get("mentions", False) for i in items), n)
        if any("mentions" in i for i in items)
        else None,
    }


# --- runs ------------------------------------------------------------------------------------
def questions(kind: str, split: str) -> list[dict[str, Any]]:
    if kind == "liveqa":
        return liveqa("all" if split == "test" else split)
    if kind == "consumer":
        return consumer_questions()
    return heldout(split)


def seeded_sample(qs: list[dict[str, Any]], n: int | None) -> list[dict[str, Any]]:
    """A fixed sample of the test-split questions (all of them when ``n`` is None or larger)."""
    pool = [q for q in qs if q.get("split", "test") == "test"] if n else qs
    if n is None or n >= len(pool):
        return pool
    picked = set(random.Random(SAMPLE_SEED).sample([q["id"] for q in pool], n))
    return [q for q in pool if q["id"] in picked]


def run_set(
    ctx: Any,
    qs: list[dict[str, Any]],
    kind: str,
    audience: str | None,
    texts: dict[str, str],
    echo: Echo,
    label: str,
) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    for n, q in enumerate(qs, 1):
        text = question_text(q) if kind == "liveqa" else q["question"]
        items.append(judge(q, answer_one(ctx, text, audience), texts, kind))
        if n % 25 == 0:
            echo(f"  {label}: {n}/{len(qs)} ({(time.perf_counter() - t0) / n:.1f} s/question)")
    out = summarize(items)
    out["seconds_per_question"] = round((time.perf_counter() - t0) / max(len(qs), 1), 1)
    if kind == "liveqa" and {i["split"] for i in items} >= {"dev", "test"}:
        out["test_split_only"] = summarize([i for i in items if i["split"] == "test"])
    out["items"] = items
    return out


def eval_answers(
    settings: Any,
    index: Any,
    split: str,
    echo: Echo,
    *,
    sets: tuple[str, ...] = SETS,
    models: tuple[str, ...] = MODELS,
    sample: int | None = None,
) -> dict[str, Any]:
    """The runs as ``{"split", "sample", "runs": {name: metrics}}``; a run's name is
    ``"<model>, <corpus>, <set>"``."""
    from assistant.core.llm import ScriptedLLM, build_llm
    from knowledge.kb.retrieval import Retriever
    from knowledge.kb.sources.medquad import read_records
    from tools.base import Resources, ToolContext

    texts = {r["id"]: r["text"] for r in read_records()}
    retriever = Retriever(index, abstain_dense=settings.kb.abstain_similarity)
    out: dict[str, Any] = {"split": split, "sample": sample, "runs": {}}
    for model in models:
        llm = ScriptedLLM(default="I don't know.") if model == "standin" else build_llm(settings)
        res = Resources(settings, llm=llm, embedder=index.embedder)
        res.put("kb.index", index)
        res.put("kb.retriever", retriever)
        ctx = ToolContext.outside_case(settings, res, mode="patient")
        label = STANDIN if model == "standin" else f"model {llm.name}"
        for kind in sets:
            qs = questions(kind, split)
            if model != "standin":
                qs = seeded_sample(qs, sample)
            for corpus, audience in CORPORA:
                name = f"{label}, {corpus}, {kind}"
                r = run_set(ctx, qs, kind, audience, texts, echo, name)
                r |= {"model": label, "corpus": corpus, "set": kind}
                out["runs"][name] = r
                echo(
                    f"kb[answers {split}] {name}: n={r['n']} answered {r['answered']} "
                    f"(on topic {r['answered_on_topic']}, wrong topic among answered "
                    f"{r['wrong_topic_among_answered']}), unsupported "
                    f"{r['unsupported_units']}/{r['units_checked']}, ROUGE-L F1 "
                    f"{r['rouge_l_f1']}, asked section {r['asked_section']}, mentions "
                    f"{r['mentions']}, grade {r['reading_grade_mean']}, "
                    f"{r['seconds_per_question']} s/question"
                )
    return out


def merge(path: Path, new: dict[str, Any]) -> dict[str, Any]:
    """``new``'s runs merged into the file's (same split), replacing runs of the same name."""
    old: dict[str, Any] = {}
    if path.is_file():
        old = json.loads(path.read_text(encoding="utf-8"))
    if old.get("split") != new["split"]:
        old = {"split": new["split"], "runs": {}}
    old["runs"] = {**old.get("runs", {}), **new["runs"]}
    if new.get("sample"):
        old["sample"] = new["sample"]
    old["sample_seed"] = SAMPLE_SEED
    path.write_text(json.dumps(old, indent=1), encoding="utf-8")
    return old


# --- docs -----------------------------------------------------------------------------------
SET_LABELS = {
    "liveqa": "LiveQA 2017 medical",
    "medquad": "MedQuAD held-out",
    "consumer": "20 consumer questions",
}


def _f(value: Any) -> str:
    return "–" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def _rows(answers: dict[str, Any]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(questions label, run, its metrics) for every run and, for LiveQA, its test-split part;
    grouped by question set, then tag, model (stand-in first) and corpus (baseline first)."""
    split = "dev" if answers.get("split") == "dev" else "test"
    rows = []
    for r in answers.get("runs", {}).values():
        label = SET_LABELS.get(r["set"], r["set"])
        if "test_split_only" in r:
            rows.append((f"{label}, all {r['n']}", r, r))
            rows.append((f"{label}, test split", r, r["test_split_only"]))
        elif r["set"] == "consumer":  # no split: none of them was used to tune
            rows.append((label, r, r))
        else:
            rows.append((f"{label}, {split} split", r, r))
    order = {k: i for i, k in enumerate(SETS)}
    return sorted(
        rows,
        key=lambda x: (
            order.get(x[1]["set"], 9),
            x[0],
            x[1].get("tag", ""),
            x[1]["model"] != STANDIN,
            x[1]["model"],
            x[1]["corpus"] != CORPORA[0][0],
        ),
    )


def render_markdown(answers: dict[str, Any]) -> str:
    """The answer tables (generated from ``kb-answers-<split>.json``)."""
    lines = [
        f"Generated by `python -m assistant.evals.kb_answers` / `clinassist eval kb` "
        f'({answers.get("split", "test")} split). Patient mode; "{STANDIN}" is a stand-in '
        "model that declines every question, so every answer it gets is quoted by the "
        "answer tool; the local model ran on a fixed seeded sample "
        f"(`{answers.get('sample_seed', SAMPLE_SEED)}`) of the test questions. Unsupported "
        "units: the independent check (every word of the text up to a citation mark in one cited "
        'passage). "asked section": the first cited passage is of the section the question '
        "asks for (MedQuAD: the question's own type; consumer questions: the type written "
        'beside each). "mentions": the answer names what a good answer names (consumer '
        'questions). "vs today": the change in "I don\'t know" against today\'s corpus (terms '
        "and codes only) in the same run.",
        "",
        '| questions | model | corpus | n | answered | "I don\'t know" | vs today '
        "| answered on topic | wrong topic (of answered) | unsupported units | cites a "
        "reference | ROUGE-L F1 | asked section (of answered) | mentions | reading grade "
        "| s/question |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    rows = _rows(answers)
    base = {
        (label, r.get("tag", ""), r["model"]): m
        for label, r, m in rows
        if r["corpus"] == CORPORA[0][0]
    }
    for label, r, m in rows:
        b = base.get((label, r.get("tag", ""), r["model"]))
        change = "–"
        if r["corpus"] != CORPORA[0][0] and b and b.get("dont_know"):
            change = f"{(m['dont_know'] - b['dont_know']) / b['dont_know']:+.0%}"
        model = r["model"] + (f" ({r['tag']})" if r.get("tag") else "")
        lines.append(
            f"| {label} | {model} | {r['corpus']} | {m['n']} | {_f(m['answered'])} "
            f"| {_f(m['dont_know'])} | {change} | {_f(m['answered_on_topic'])} "
            f"| {_f(m['wrong_topic_among_answered'])} "
            f"| {m['unsupported_units']} of {m['units_checked']} "
            f"| {_f(m['cites_reference'])} (n={m['with_reference']}) | {_f(m['rouge_l_f1'])} "
            f"| {_f(m.get('asked_section'))} | {_f(m.get('mentions'))} "
            f"| {_f(m['reading_grade_mean'])} | {r.get('seconds_per_question', '–')} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    from assistant.core.config import load_settings

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--set", dest="sets", action="append", choices=SETS)
    ap.add_argument("--model", dest="models", action="append", choices=MODELS)
    ap.add_argument("--split", choices=("dev", "test"), default="dev")
    ap.add_argument(
        "--sample", type=int, default=None, help="configured model: N seeded test questions per set"
    )
    ap.add_argument("--out", type=Path, default=Path("eval-out"))
    ap.add_argument(
        "--render", action="store_true", help="only write docs/KNOWLEDGE.md from the JSON"
    )
    ap.add_argument(
        "--tag", default="", help="label these runs (e.g. the code version they measure)"
    )
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"kb-answers-{args.split}.json"
    if not args.render:
        from knowledge.kb.index import KnowledgeIndex

        settings = load_settings()
        index = KnowledgeIndex.from_settings(settings)
        new = eval_answers(
            settings,
            index,
            args.split,
            print,
            sets=tuple(args.sets or SETS),
            models=tuple(args.models or MODELS),
            sample=args.sample,
        )
        if args.tag:
            new["runs"] = {
                f"{name} [{args.tag}]": dict(r, tag=args.tag) for name, r in new["runs"].items()
            }
        merge(path, new)
    write_answer_docs(json.loads(path.read_text(encoding="utf-8")), print)
    return 0


ANSWERS_ENV = "KB_EVAL_ANSWERS"
"""``0`` skips the answer evaluation (it runs the local model: hours on a shared 2-core box)."""
SAMPLE_ENV = "KB_EVAL_ANSWER_LIMIT"
"""Questions per set for the configured model: a fixed seeded sample of the test questions
(default 60; ``0``: the always-declining stand-in only, which answers every question)."""


def _answers(settings: Settings, index: Any, split: str, echo: Echo) -> dict[str, Any] | None:
    if os.environ.get(ANSWERS_ENV, "1").strip() == "0":
        echo(f"kb[answers]: skipped ({ANSWERS_ENV}=0)")
        return None
    raw = os.environ.get(SAMPLE_ENV, "60").strip() or "60"
    if not raw.isdigit():
        from assistant.core.errors import UserError

        raise UserError(f"{SAMPLE_ENV}={raw!r}: use a whole number of questions (0: stand-in only)")
    sample = int(raw)
    models = ("standin",) if sample == 0 else MODELS
    return eval_answers(settings, index, split, echo, models=models, sample=sample or None)


def write_answer_docs(
    answers: dict[str, Any], echo: Callable[[str], None], doc: Path = DOC
) -> None:
    """Replace the answers block of docs/KNOWLEDGE.md (test split only)."""
    if answers.get("split") == "test" and write_block(doc, "kb-answers", render_markdown(answers)):
        echo(f"kb: wrote the generated answer tables in {doc}")


def evaluate_kb(
    settings: Settings, out_dir: Path, echo: Echo, *, split: str | None = None
) -> dict[str, Any]:
    """``clinassist eval kb``: retrieval metrics (knowledge.kb.evaluate), then the answers."""
    from knowledge.kb import evaluate as kb_eval
    from knowledge.kb.index import KnowledgeIndex

    out = kb_eval.evaluate(settings, out_dir, echo, split=split)
    index = KnowledgeIndex.from_settings(settings)
    out["answers"] = _answers(settings, index, out["split"], echo)
    if out["answers"]:
        write_answer_docs(out["answers"], echo)
    return out


if __name__ == "__main__":
    raise SystemExit(main())
