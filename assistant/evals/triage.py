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

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from assistant.core.config import Settings
from assistant.core.errors import UserError
from assistant.core.types import Echo
from assistant.evals.triage_play import evaluate_split, play_safely, score
from assistant.evals.triage_report import echo_block, echo_details, plot_confusion, render_markdown
from assistant.evals.triage_set import (
    HELDOUT,
    LEVELS,
    MARK_END,
    MARK_START,
    PUBLISHED,
    SETS,
    load_file,
    load_vignettes,
    patient_answer,
)

__all__ = [  # what the runner, the CLI, the bench and the tests import from here
    "LEVELS",
    "MARK_END",
    "MARK_START",
    "PUBLISHED",
    "SETS",
    "UserError",
    "evaluate",
    "evaluate_file",
    "evaluate_split",
    "load_file",
    "load_vignettes",
    "patient_answer",
    "play_safely",
    "plot_confusion",
    "render_markdown",
    "run_vignettes",
    "score",
    "write_docs",
]


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
                    results.append(play_safely(bot, v, kinds, echo))
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
        echo_block(echo, name + (" - tuned on" if name == "dev" else ""), metrics[name])
        echo_details(echo, metrics[name])
    for which, key in HELDOUT:
        more, data_n, split_n = run_vignettes(settings, echo=echo, which=which)
        metrics[key] = evaluate_split(more, {v["id"]: v for v in data_n["vignettes"]})
        metrics[f"{key}_sha256"] = split_n["vignettes_sha256"]
        echo_block(echo, f"{which} set", metrics[key])
        echo_details(echo, metrics[key])
        results = [*results, *more]
    _finish(metrics, results, start, out / "triage_confusion.png", "matrices", echo)
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
            echo_block(echo, f"{path.name} {name}", metrics[key])
            echo_details(echo, metrics[key])
    out.mkdir(parents=True, exist_ok=True)
    _finish(metrics, results, start, out / "triage_file_confusion.png", "matrix", echo)
    (out / "triage_file_results.json").write_text(json.dumps(results, indent=1))
    (out / "triage_file.json").write_text(json.dumps(metrics, indent=2))
    echo(f"triage: metrics -> {out / 'triage_file.json'}")
    return metrics


def _finish(
    metrics: dict[str, Any],
    results: list[dict[str, Any]],
    start: float,
    png: Path,
    what: str,
    echo: Echo,
) -> None:
    """The median turn time, the run's seconds and the confusion-matrix PNG, into ``metrics``."""
    turn_ms = [t for r in results for t in r["turn_ms"]]
    metrics["turn_ms_median"] = sorted(turn_ms)[len(turn_ms) // 2] if turn_ms else None
    metrics["seconds"] = round(time.perf_counter() - start, 1)
    if plot_confusion(metrics, png):
        metrics["confusion_png"] = str(png)
        echo(f"triage: confusion {what} -> {png}")


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
