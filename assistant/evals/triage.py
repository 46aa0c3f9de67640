"""`clinassist eval triage`: where-to-get-care decisions on the frozen vignette set.

Every vignette is played through the whole assistant in patient mode (``Assistant.respond``),
as a conversation: the vignette's messages first, then, while the assistant asks, a simulated
patient answers each asked topic with the vignette's scripted answer ("No." for an unscripted
yes/no topic, "I'm not sure." for an unscripted value; at most 4 rounds), exactly as the vignette
file's header fixes. The level of the last turn counts.

This module judges ``tools/triage`` without reusing it: it reads only the Turn's ``triage``
field, and the scoring (accuracy, recall, over- and under-triage, the confusion matrix) is its
own. Baselines in the same run: the project's red-flag rules alone (emergency when a rule fires
on the person's own messages, else "see a doctor": routine), and "always see a doctor" (routine).
Results per split: ``dev`` (the rules were tuned on it: not a measure of generalisation) and
``test`` (held out, reported once).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from assistant.core.config import Settings
from assistant.core.errors import UserError

Echo = Callable[[str], None]
LEVELS = ("emergency", "urgent", "routine", "self_care")
RANK = {"self_care": 0, "routine": 1, "urgent": 2, "emergency": 3}
MAX_ROUNDS = 4
PUBLISHED = {
    "source": "Semigran et al., BMJ 2015;351:h3480 (23 symptom checkers, 45 vignettes, 3 levels)",
    "appropriate_triage": 0.57,
    "emergency": 0.80,
    "self_care": 0.33,
}
MARK_START = "<!-- generated:eval-triage -->"
MARK_END = "<!-- /generated:eval-triage -->"


# ---------------------------------------------------------------- the frozen set


def _data(name: str) -> bytes:
    return resources.files("assistant.data.eval").joinpath(name).read_bytes()


SETS = {
    "main": ("triage_vignettes.yaml", "triage_split.json"),
    "second": ("triage_vignettes_2.yaml", "triage_split_2.json"),
    "third": ("triage_vignettes_3.yaml", "triage_split_3.json"),
}
# later held-out sets (all test), each written after the previous one's error analysis
HELDOUT = (("second", "holdout2"), ("third", "holdout3"))


def load_vignettes(
    check_frozen: bool = True, which: str = "main"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the vignette file, the split). Refuses a vignette file whose hash differs from the one
    frozen with the split: the set may not change after tuning started. ``which``: "main"
    (dev/test split) or "second" (a later held-out set, all test)."""
    vignettes, split_name = SETS[which]
    raw = _data(vignettes)
    split = json.loads(_data(split_name))
    if check_frozen and hashlib.sha256(raw).hexdigest() != split["vignettes_sha256"]:
        raise UserError(
            f"{vignettes} differs from the frozen set ({split_name}): restore it; "
            "a changed set needs a new split and must be reported as such"
        )
    return yaml.safe_load(raw), split


def _level(value: Any) -> str:
    """A gold level as written ("Self-care", " urgent ") in the evaluator's spelling."""
    return str(value).strip().lower().replace("-", "_").replace(" ", "_")


def _vignette_problem(v: Any) -> str | None:
    """Why one vignette of another file cannot be played (None when it can)."""
    if not isinstance(v, dict):
        return "is not a mapping"
    if not isinstance(v.get("id"), str | int) or str(v["id"]).strip() == "":
        return "has no id"
    if _level(v.get("level")) not in LEVELS:
        return f"has level {v.get('level')!r}"
    turns = v.get("turns")
    if isinstance(turns, str):
        turns = [turns]
    if (
        not isinstance(turns, list)
        or not turns
        or not all(isinstance(t, str | int | float) and str(t).strip() for t in turns)
    ):
        return "has no turns (a list of what the person types)"
    if not isinstance(v.get("answers") or {}, dict):
        return "has answers that are not a mapping of topic: reply"
    return None


def load_file(path: Path, split_path: Path | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Another vignette file in the same format (``topics``, ``vignettes`` with ``id``,
    ``level``, ``turns``, optional ``answers``), with its own split file (JSON ``{"dev": [ids],
    "test": [ids]}``, optionally ``vignettes_sha256``) or, without one, all of it as test."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read the vignette file {path}: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise UserError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from exc
    if isinstance(data, list):  # a bare list of vignettes
        data = {"vignettes": data}
    items = data.get("vignettes") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise UserError(f"{path} has no `vignettes:` list (see triage_vignettes.yaml's format)")
    ids: list[str] = []
    for i, v in enumerate(items):
        problem = _vignette_problem(v)
        if problem:
            name = v.get("id") if isinstance(v, dict) and v.get("id") is not None else i + 1
            raise UserError(
                f"{path}: vignette {name} {problem}: each needs an id, a level "
                f"({', '.join(LEVELS)}) and a list of turns (text)"
            )
        v["id"] = str(v["id"])
        v["level"] = _level(v["level"])
        v["turns"] = [str(t) for t in ([v["turns"]] if isinstance(v["turns"], str) else v["turns"])]
        v["answers"] = {str(k): a for k, a in (v.get("answers") or {}).items() if a is not None}
        v["rationale"] = str(v.get("rationale") or "")
        ids.append(v["id"])
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise UserError(f"{path}: vignette ids must be unique ({', '.join(dup[:5])} repeated)")
    # the shipped topic kinds, overridden by the file's own (a topic the file adds keeps its kind)
    topics = dict(load_vignettes()[0]["topics"])
    if isinstance(data.get("topics"), dict):
        topics.update({str(k): str(x) for k, x in data["topics"].items()})
    data["topics"] = topics
    sha = hashlib.sha256(raw).hexdigest()
    if split_path is None:
        return data, {"dev": [], "test": ids, "seed": None, "vignettes_sha256": sha}
    try:
        split = json.loads(split_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read the split file {split_path}: {exc}") from exc
    if not isinstance(split, dict) or not isinstance(split.get("test"), list):
        raise UserError(f"{split_path} needs a `test` list of vignette ids (and may have `dev`)")
    split.setdefault("dev", [])
    unknown = set(map(str, [*split["dev"], *split["test"]])) - set(ids)
    if unknown:
        raise UserError(f"{split_path} names vignettes that {path} lacks: {sorted(unknown)[:5]}")
    if split.get("vignettes_sha256") not in (None, sha):
        raise UserError(f"{path} differs from the file frozen with {split_path}")
    split["dev"], split["test"] = [str(i) for i in split["dev"]], [str(i) for i in split["test"]]
    split.setdefault("seed", None)
    split["vignettes_sha256"] = sha
    return data, split


def patient_answer(vignette: dict[str, Any], topics: list[str], kinds: dict[str, str]) -> str:
    """The simulated patient's reply to one question about ``topics``."""
    scripted = vignette.get("answers") or {}
    parts = []
    for topic in topics:
        text = scripted.get(topic)
        if text is None:
            # a vignette lists every abnormal feature: an unscripted yes/no topic (also one the
            # vignette vocabulary lacks) is answered "No.", an unscripted value "I'm not sure."
            text = "I'm not sure." if kinds.get(topic) == "value" else "No."
        text = str(text).strip()
        parts.append(text if text[-1:] in ".!?" else text + ".")
    return " ".join(parts)


# ---------------------------------------------------------------- playing one vignette


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


def _play_safely(
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


# ---------------------------------------------------------------- scoring (independent)


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


# ---------------------------------------------------------------- the eval area


def _assistant(settings: Settings, data_dir: Path) -> Any:
    """A patient-mode assistant on a throw-away store. The level never depends on a language
    model or the knowledge base, so the eval uses the scripted model and no knowledge base; it
    keeps the configured embedder (the router and triage's semantic matching use it): the same
    decisions as the product."""
    from assistant.core.embeddings import build_embedder
    from assistant.core.llm import ScriptedLLM
    from assistant.service import Assistant

    s = settings.model_copy(update={"data_dir": data_dir})
    s.store.url = None
    return Assistant(s, llm=ScriptedLLM(default="(no answer)"), embedder=build_embedder(s))


def run_vignettes(
    settings: Settings,
    ids: list[str] | None = None,
    *,
    echo: Echo = print,
    which: str = "main",
    loaded: tuple[dict[str, Any], dict[str, Any]] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    data, split = loaded if loaded is not None else load_vignettes(which=which)
    kinds = dict(data["topics"])
    wanted = set(ids) if ids is not None else None
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        bot = _assistant(settings, Path(tmp))
        try:
            for v in data["vignettes"]:
                if wanted is None or v["id"] in wanted:
                    results.append(_play_safely(bot, v, kinds, echo))
        finally:
            bot.close()
    return results, data, split


def evaluate(settings: Settings, out: Path, echo: Echo = print) -> dict[str, Any]:
    """Dev and test splits, baselines, the confusion-matrix PNG and the docs table."""
    start = time.perf_counter()
    results, data, split = run_vignettes(settings, echo=echo)
    items = {v["id"]: v for v in data["vignettes"]}
    by_id = {r["id"]: r for r in results}
    metrics: dict[str, Any] = {
        "n": len(results),
        "published": PUBLISHED,
        "split_seed": split["seed"],
        "vignettes_sha256": split["vignettes_sha256"],
    }
    for name in ("dev", "test"):
        metrics[name] = evaluate_split([by_id[i] for i in split[name]], items)
        _echo_block(echo, name + (" - tuned on" if name == "dev" else ""), metrics[name])
        _echo_details(echo, metrics[name])
    for which, key in HELDOUT:
        more, data_n, split_n = run_vignettes(settings, echo=echo, which=which)
        metrics[key] = evaluate_split(more, {v["id"]: v for v in data_n["vignettes"]})
        metrics[f"{key}_sha256"] = split_n["vignettes_sha256"]
        _echo_block(echo, f"{which} set", metrics[key])
        _echo_details(echo, metrics[key])
        results = [*results, *more]
    turn_ms = [t for r in results for t in r["turn_ms"]]
    metrics["turn_ms_median"] = sorted(turn_ms)[len(turn_ms) // 2] if turn_ms else None
    metrics["seconds"] = round(time.perf_counter() - start, 1)
    png = out / "triage_confusion.png"
    if plot_confusion(metrics, png):
        metrics["confusion_png"] = str(png)
        echo(f"triage: confusion matrices -> {png}")
    (out / "triage_results.json").write_text(json.dumps(results, indent=1))
    return metrics


def evaluate_file(
    settings: Settings,
    out: Path,
    path: Path,
    split_path: Path | None = None,
    echo: Echo = print,
) -> dict[str, Any]:
    """``clinassist eval triage --vignettes FILE [--split SPLIT]``: another vignette set, scored
    the same way (all of it as test without a split file). Writes ``out/triage_file.json``, the
    results per vignette and the confusion-matrix PNG."""
    start = time.perf_counter()
    loaded = load_file(path, split_path)
    results, data, split = run_vignettes(settings, echo=echo, loaded=loaded)
    items = {v["id"]: v for v in data["vignettes"]}
    by_id = {r["id"]: r for r in results}
    metrics: dict[str, Any] = {
        "n": len(results),
        "published": PUBLISHED,
        "vignettes": path.name,
        "vignettes_sha256": split["vignettes_sha256"],
        "split": split_path.name if split_path else "none (all test)",
    }
    for name in ("dev", "test"):
        if split[name]:
            key = "file_dev" if name == "dev" else "file"
            metrics[key] = evaluate_split([by_id[i] for i in split[name]], items)
            _echo_block(echo, f"{path.name} {name}", metrics[key])
            _echo_details(echo, metrics[key])
    turn_ms = [t for r in results for t in r["turn_ms"]]
    metrics["turn_ms_median"] = sorted(turn_ms)[len(turn_ms) // 2] if turn_ms else None
    metrics["seconds"] = round(time.perf_counter() - start, 1)
    out.mkdir(parents=True, exist_ok=True)
    png = out / "triage_file_confusion.png"
    if plot_confusion(metrics, png):
        metrics["confusion_png"] = str(png)
        echo(f"triage: confusion matrix -> {png}")
    (out / "triage_file_results.json").write_text(json.dumps(results, indent=1))
    (out / "triage_file.json").write_text(json.dumps(metrics, indent=2))
    echo(f"triage: metrics -> {out / 'triage_file.json'}")
    return metrics


def _echo_block(echo: Echo, name: str, block: dict[str, Any]) -> None:
    m = block["triage"]
    b = block["baselines"]
    echo(
        f"triage[{name}]: n={m['n']} acc={m['accuracy']:.3f} (3-level {m['accuracy_3_levels']:.3f}) "
        f"emergency recall={m['emergency_recall']} self-care recall={m['self_care_recall']} "
        f"over={m['over_triage_rate']:.3f} under={m['under_triage_rate']:.3f} "
        f"emergency/urgent->self_care or no level={m['emergency_or_urgent_to_self_care']} | "
        f"red flags alone acc={b['red_flag_rules_alone']['accuracy']:.3f}, "
        f"always see a doctor acc={b['always_see_a_doctor']['accuracy']:.3f}"
    )


def _echo_details(echo: Echo, block: dict[str, Any]) -> None:
    """Per-level recall and the confusion matrix, as text (the PNG has the same numbers)."""
    m = block["triage"]
    echo(
        "  per-level recall: "
        + ", ".join(
            f"{g} {_pct(m['per_level'][g]['recall'])} (n={m['per_level'][g]['n']})" for g in LEVELS
        )
    )
    cols = (*LEVELS, "none")
    echo("  confusion (rows gold, columns assistant): " + " ".join(f"{c:>9}" for c in cols))
    for g in LEVELS:
        echo(f"  {g:>9} " + " ".join(f"{m['confusion'][g][c]:>9}" for c in cols))
    failed = block.get("failed") or []
    if failed:
        echo(f"  vignettes that failed to play (scored as no level): {', '.join(failed)}")


PANELS = (
    ("file", "vignette file (test)"),
    ("file_dev", "vignette file (dev)"),
    ("dev", "dev (rules tuned on it)"),
    ("test", "test (error-analysed)"),
    ("holdout2", "second set (error-analysed)"),
    ("holdout3", "third set (error-analysed)"),
)


def plot_confusion(metrics: dict[str, Any], path: Path) -> bool:
    """Dev and test confusion matrices side by side (matplotlib, headless)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    cols = (*LEVELS, "none")
    panels = [(k, label) for k, label in PANELS if k in metrics]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.6 * len(panels), 4.6), squeeze=False)
    for ax, (name, label) in zip(axes[0], panels, strict=True):
        conf = metrics[name]["triage"]["confusion"]
        grid = [[conf[g][p] for p in cols] for g in LEVELS]
        ax.imshow(grid, cmap="Blues")
        ax.set_xticks(range(len(cols)), [c.replace("_", " ") for c in cols], rotation=30)
        ax.set_yticks(range(len(LEVELS)), [g.replace("_", " ") for g in LEVELS])
        ax.set_xlabel("assistant's level")
        ax.set_ylabel("gold level")
        m = metrics[name]["triage"]
        ax.set_title(f"{label}: n={m['n']}, accuracy {m['accuracy']:.2f}", fontsize=10)
        for i, row in enumerate(grid):
            for j, v in enumerate(row):
                ax.text(j, i, str(v), ha="center", va="center", color="black" if v < 8 else "white")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


# ---------------------------------------------------------------- docs table


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def render_markdown(metrics: dict[str, Any]) -> str:
    """The results tables for docs/TRIAGE.md, without the generated markers (``evaldocs`` and
    ``write_docs`` put it between them)."""
    lines: list[str] = []
    titles = {
        "file": "Vignette file given with --vignettes (test part)",
        "file_dev": "Vignette file given with --vignettes (dev part)",
        "holdout3": "Third set (written after the second set's error analysis; its first run's "
        "errors were then analysed: no longer held out)",
        "holdout2": "Second set (written after the first test run's error analysis; its first "
        "run's errors were then analysed: no longer held out)",
        "test": "Test split (after error analysis of its first run: no longer held out)",
        "dev": "Dev split (the rules were tuned on it: not a measure of generalisation)",
    }
    for name in ("file", "file_dev", "holdout3", "holdout2", "test", "dev"):
        if name not in metrics:
            continue
        block = metrics[name]
        m = block["triage"]
        b = block["baselines"]
        title = titles[name]
        lines += [
            f"**{title}**, n = {m['n']}",
            "",
            "| metric | triage (rules + dialogue) | red-flag rules alone | always see a doctor |",
            "|---|---|---|---|",
        ]
        rf, ad = b["red_flag_rules_alone"], b["always_see_a_doctor"]
        rows = [
            ("accuracy (4 levels)", "accuracy"),
            ("accuracy (3 levels, as Semigran et al.)", "accuracy_3_levels"),
            ("emergency recall", "emergency_recall"),
            ("self-care recall", "self_care_recall"),
            ("over-triage rate", "over_triage_rate"),
            ("under-triage rate", "under_triage_rate"),
        ]
        for label, key in rows:
            lines.append(f"| {label} | {_pct(m[key])} | {_pct(rf[key])} | {_pct(ad[key])} |")
        lines.append(
            f"| emergency or urgent sent to self-care (or given no level) | {m['emergency_or_urgent_to_self_care']} "
            f"| {rf['emergency_or_urgent_to_self_care']} | {ad['emergency_or_urgent_to_self_care']} |"
        )
        recalls = ", ".join(
            f"{g.replace('_', ' ')} {_pct(m['per_level'][g]['recall'])}" for g in LEVELS
        )
        lines += [
            "",
            f"Per-level recall: {recalls}. Question rounds per vignette: "
            f"{block['mean_question_rounds']}; topics asked: {block['mean_topics_asked']}. "
            f"By voice: "
            + ", ".join(
                f"{k} {_pct(v['accuracy'])} (n={v['n']})" for k, v in block["by_voice"].items()
            )
            + ". Deciding fact only in the answers (multi-turn): "
            + _pct(block["by_multi_turn"].get("True", {}).get("accuracy"))
            + f" (n={block['by_multi_turn'].get('True', {}).get('n', 0)}).",
            "",
            "Confusion matrix (rows: gold, columns: the assistant's level):",
            "",
            "| gold \\ assistant | emergency | urgent | routine | self care | none |",
            "|---|---|---|---|---|---|",
        ]
        for g in LEVELS:
            row = m["confusion"][g]
            lines.append(
                f"| {g.replace('_', ' ')} | "
                + " | ".join(str(row[p]) for p in (*LEVELS, "none"))
                + " |"
            )
        lines.append("")
    pub = metrics["published"]
    lines += [
        f"Published yardstick (different vignettes): {pub['source']}: appropriate triage "
        f"{_pct(pub['appropriate_triage'])}, emergencies {_pct(pub['emergency'])}, self-care "
        f"{_pct(pub['self_care'])}.",
    ]
    return "\n".join(lines) + "\n"


def write_docs(metrics: dict[str, Any], doc: Path) -> bool:
    """Replace the generated block in ``doc`` (False when the markers are missing)."""
    from assistant.core.evaldocs import write_block

    return write_block(doc, "triage", render_markdown(metrics))


def main(argv: list[str] | None = None) -> int:
    """``python -m assistant.evals.triage DOC METRICS.json``: write the generated block of DOC
    (docs/TRIAGE.md) from the JSON that ``clinassist eval triage`` wrote (eval-out/triage.json)."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(
            "usage: python -m assistant.evals.triage docs/TRIAGE.md eval-out/triage.json",
            file=sys.stderr,
        )
        return 2
    doc, source = Path(args[0]), Path(args[1])
    try:
        metrics = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"cannot read {source}: {exc}", file=sys.stderr)
        return 2
    if not write_docs(metrics, doc):
        print(f"{doc} has no {MARK_START} ... {MARK_END} block", file=sys.stderr)
        return 2
    print(f"wrote the triage tables into {doc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
