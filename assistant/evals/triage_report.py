"""Showing triage results: the console lines, the confusion-matrix PNG and the docs tables (the
main evaluation's, the held-out runs' and the development runs' of ``triage_loso``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assistant.core.types import Echo
from assistant.evals.triage_set import LEVELS, set_label


def echo_block(echo: Echo, name: str, block: dict[str, Any]) -> None:
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


def echo_details(echo: Echo, block: dict[str, Any]) -> None:
    """Per-level recall and the confusion matrix, as text (the PNG has the same numbers)."""
    m = block["triage"]
    echo(
        "  per-level recall: "
        + ", ".join(
            f"{g} {pct(m['per_level'][g]['recall'])} (n={m['per_level'][g]['n']})" for g in LEVELS
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


def pct(v: float | None) -> str:
    """A share as a percentage with one decimal ("-" when there is none)."""
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
            lines.append(f"| {label} | {pct(m[key])} | {pct(rf[key])} | {pct(ad[key])} |")
        lines.append(
            f"| emergency or urgent sent to self-care (or given no level) | {m['emergency_or_urgent_to_self_care']} "
            f"| {rf['emergency_or_urgent_to_self_care']} | {ad['emergency_or_urgent_to_self_care']} |"
        )
        recalls = ", ".join(
            f"{g.replace('_', ' ')} {pct(m['per_level'][g]['recall'])}" for g in LEVELS
        )
        lines += [
            "",
            f"Per-level recall: {recalls}. Question rounds per vignette: "
            f"{block['mean_question_rounds']}; topics asked: {block['mean_topics_asked']}. "
            f"By voice: "
            + ", ".join(
                f"{k} {pct(v['accuracy'])} (n={v['n']})" for k, v in block["by_voice"].items()
            )
            + ". Deciding fact only in the answers (multi-turn): "
            + pct(block["by_multi_turn"].get("True", {}).get("accuracy"))
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
        f"{pct(pub['appropriate_triage'])}, emergencies {pct(pub['emergency'])}, self-care "
        f"{pct(pub['self_care'])}.",
    ]
    return "\n".join(lines) + "\n"


HELDOUT_AREA = "triage-heldout"
HELDOUT_DIR = Path("docs/triage_runs/heldout")


def load_heldout(folder: Path = HELDOUT_DIR) -> list[dict[str, Any]]:
    """The kept held-out runs (``<set>_<n>_<commit>.json``: a blind set run untuned with
    ``clinassist eval triage --vignettes FILE``; the metrics only, never a story), in file order."""
    import json

    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]


def render_heldout(runs: list[dict[str, Any]]) -> str:
    """One row per held-out run: accuracy, emergency and self-care recall, the emergency or
    urgent stories sent home or left without a level, and the baselines of the same run."""
    lines = [
        "| set | code | when | accuracy (4 levels) | 3 levels | emergency recall | urgent recall "
        "| self-care recall | emergency or urgent sent to self-care or no level | over / under "
        "| red flags alone | always see a doctor |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        m, b = run["triage"], run["baselines"]
        lines.append(
            f"| {run['set']} | {run['code']} | {run['when']} | {pct(m['accuracy'])} "
            f"| {pct(m['accuracy_3_levels'])} | {pct(m['emergency_recall'])} "
            f"| {pct(m['per_level']['urgent']['recall'])} | {pct(m['self_care_recall'])} "
            f"| {m['emergency_or_urgent_to_self_care']} of "
            f"{m['per_level']['emergency']['n'] + m['per_level']['urgent']['n']} "
            f"| {pct(m['over_triage_rate'])} / {pct(m['under_triage_rate'])} "
            f"| {pct(b['red_flag_rules_alone']['accuracy'])} "
            f"| {pct(b['always_see_a_doctor']['accuracy'])} |"
        )
    return "\n".join(lines) + "\n"


LOSO_BLOCK = "eval-triage-loso"


def render_runs(runs: list[dict[str, Any]]) -> str:
    """One table row per (run, set) from the ``--json`` files of several ``triage_loso`` runs,
    each labelled (``label``: what the run is, e.g. which code and data it used)."""
    head = (
        "| run | set | n | accuracy | 3-level | emergency recall | self-care recall "
        "| over-triage | under-triage | emergency/urgent → self-care or no level "
        "| red-flag rules alone (acc.) | always see a doctor (acc.) |\n" + "|---" * 12 + "|\n"
    )
    rows = []
    for run_ in runs:
        for key, block in run_.items():
            if not isinstance(block, dict) or "triage" not in block:
                continue
            m, b = block["triage"], block["baselines"]
            rows.append(
                f"| {run_.get('label', run_.get('data_rev') or 'today')} "
                f"| {set_label(key.split(' ')[0])} | {m['n']} | {pct(m['accuracy'])} "
                f"| {pct(m['accuracy_3_levels'])} | {pct(m['emergency_recall'])} "
                f"| {pct(m['self_care_recall'])} | {pct(m['over_triage_rate'])} "
                f"| {pct(m['under_triage_rate'])} | {m['emergency_or_urgent_to_self_care']} "
                f"| {pct(b['red_flag_rules_alone']['accuracy'])} "
                f"| {pct(b['always_see_a_doctor']['accuracy'])} |"
            )
    return head + "\n".join(rows) + "\n"


def write_runs(runs: list[dict[str, Any]], doc: Path, block: str = LOSO_BLOCK) -> bool:
    """The development runs' table (``render_runs``) into ``block`` of ``doc``."""
    from assistant.core.evaldocs import write_marked

    return write_marked(doc, block, render_runs(runs))


def main(argv: list[str] | None = None) -> int:
    """``python -m assistant.evals.triage_report [DOC]``: write the held-out runs' table
    (docs/triage_runs/heldout) into DOC's ``triage-heldout`` block (default docs/TRIAGE.md)."""
    import sys

    from assistant.core.evaldocs import write_block

    args = sys.argv[1:] if argv is None else argv
    doc = Path(args[0]) if args else Path("docs/TRIAGE.md")
    if not write_block(doc, HELDOUT_AREA, render_heldout(load_heldout())):
        print(f"{doc} has no generated:eval-{HELDOUT_AREA} block", file=sys.stderr)
        return 2
    print(f"wrote the held-out runs' table into {doc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
