"""Playing one vignette through the whole assistant as a conversation, and scoring the levels
(accuracy, recall, over- and under-triage, confusion): the evaluation's own code, sharing none
with ``tools/triage``."""

from __future__ import annotations

from collections import Counter
from typing import Any

from assistant.core.types import Echo
from assistant.evals.triage_set import LEVELS, MAX_ROUNDS, RANK, patient_answer


def play(bot: Any, vignette: dict[str, Any], kinds: dict[str, str]) -> dict[str, Any]:
    """One conversation; returns the final level, the questions asked and the timing."""
    case = f"tv-{vignette['id']}"
    turn = None
    asked: list[list[str]] = []
    levels: list[str | None] = []
    ms: list[int] = []
    for text in vignette["turns"]:
        turn = bot.respond(case, text, mode="patient", actor="eval")
        ms.append(turn.latency_ms)
        levels.append(turn.triage.level if turn.triage else None)
    rounds = 0
    while turn is not None and turn.triage and turn.triage.next_questions and rounds < MAX_ROUNDS:
        questions = turn.triage.next_questions
        asked.append([t for q in questions for t in q.get("topics", [])])
        reply = " ".join(
            patient_answer(vignette, list(q.get("topics", [])), kinds) for q in questions
        )
        turn = bot.respond(case, reply, mode="patient", actor="eval")
        ms.append(turn.latency_ms)
        levels.append(turn.triage.level if turn.triage else None)
        rounds += 1
    final = turn.triage.level if turn is not None and turn.triage else None
    return {
        "id": vignette["id"],
        "gold": vignette["level"],
        "pred": final,
        "provisional": bool(turn and turn.triage and turn.triage.provisional),
        "rounds": rounds,
        "topics_asked": [t for r in asked for t in r],
        "levels": levels,
        "turn_ms": ms,
        "emergency_flag": bool(turn and turn.safety.emergency),
    }


def play_safely(
    bot: Any, vignette: dict[str, Any], kinds: dict[str, str], echo: Echo
) -> dict[str, Any]:
    """``play``, but a vignette the assistant fails on is scored as given no level (the worst
    outcome: wrong and, for emergency or urgent gold, unsafe) instead of ending the run."""
    try:
        return play(bot, vignette, kinds)
    except Exception as exc:  # the evaluator reports any failure as a miss
        echo(f"triage: vignette {vignette['id']} failed ({type(exc).__name__}: {exc}); no level")
        return {
            "id": vignette["id"],
            "gold": vignette["level"],
            "pred": None,
            "provisional": False,
            "rounds": 0,
            "topics_asked": [],
            "levels": [],
            "turn_ms": [],
            "emergency_flag": False,
            "error": f"{type(exc).__name__}: {exc}",
        }


def red_flag_baseline(vignette: dict[str, Any]) -> str:
    """The project's red-flag rules on the person's own messages (no questions): emergency when
    one fires, otherwise the generic 'see a doctor' advice the assistant gave before (routine)."""
    from assistant.policy.safety import red_flags

    text = "\n".join(vignette["turns"])
    return "emergency" if red_flags(text) else "routine"


def score(pairs: list[tuple[str, str | None]]) -> dict[str, Any]:
    """Metrics for (gold, predicted) pairs; a missing prediction counts as wrong and as
    under-triage (the assistant gave no level at all)."""
    n = len(pairs)
    if n == 0:
        return {"n": 0}
    confusion = {g: {p: 0 for p in (*LEVELS, "none")} for g in LEVELS}
    correct = over = under = unsafe = 0
    for gold, pred in pairs:
        confusion[gold][pred or "none"] += 1
        if pred == gold:
            correct += 1
        elif pred is None or RANK[pred] < RANK[gold]:
            under += 1
        else:
            over += 1
        if gold in ("emergency", "urgent") and pred in ("self_care", None):
            unsafe += 1
    per_level = {}
    for g in LEVELS:
        total = sum(confusion[g].values())
        per_level[g] = {"n": total, "recall": round(confusion[g][g] / total, 3) if total else None}
    predicted = Counter(p or "none" for _g, p in pairs)
    precision = {
        g: round(confusion[g][g] / predicted[g], 3) if predicted[g] else None for g in LEVELS
    }

    def three(level: str | None) -> str | None:
        return {"urgent": "doctor", "routine": "doctor"}.get(level or "", level)

    three_correct = sum(three(g) == three(p) for g, p in pairs)
    return {
        "n": n,
        "accuracy": round(correct / n, 3),
        "per_level": per_level,
        "precision": precision,
        "emergency_recall": per_level["emergency"]["recall"],
        "self_care_recall": per_level["self_care"]["recall"],
        "over_triage_rate": round(over / n, 3),
        "under_triage_rate": round(under / n, 3),
        "emergency_or_urgent_to_self_care": unsafe,
        "accuracy_3_levels": round(three_correct / n, 3),
        "confusion": confusion,
    }


def _subset(
    results: list[dict[str, Any]], key: str, items: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    groups: dict[str, list[tuple[str, str | None]]] = {}
    for r in results:
        value = str(items[r["id"]].get(key, False))
        groups.setdefault(value, []).append((r["gold"], r["pred"]))
    return {k: {"n": len(v), "accuracy": score(v)["accuracy"]} for k, v in sorted(groups.items())}


def evaluate_split(
    results: list[dict[str, Any]], items: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    pairs = [(r["gold"], r["pred"]) for r in results]
    baseline_flags: list[tuple[str, str | None]] = [
        (r["gold"], red_flag_baseline(items[r["id"]])) for r in results
    ]
    baseline_doctor: list[tuple[str, str | None]] = [(r["gold"], "routine") for r in results]
    questions = [len(r["topics_asked"]) for r in results]
    rounds = [r["rounds"] for r in results]
    return {
        "triage": score(pairs),
        "baselines": {
            "red_flag_rules_alone": score(baseline_flags),
            "always_see_a_doctor": score(baseline_doctor),
        },
        "by_voice": _subset(results, "voice", items),
        "by_multi_turn": _subset(results, "multi_turn", items),
        "mean_question_rounds": round(sum(rounds) / len(rounds), 2) if rounds else 0,
        "mean_topics_asked": round(sum(questions) / len(questions), 2) if questions else 0,
        "failed": [r["id"] for r in results if r.get("error")],
        "errors": [
            {
                "id": r["id"],
                "gold": r["gold"],
                "pred": r["pred"],
                "rationale": items[r["id"]]["rationale"],
            }
            for r in results
            if r["gold"] != r["pred"]
        ],
    }
