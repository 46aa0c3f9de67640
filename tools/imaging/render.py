"""Markdown tables from ``clinassist eval image --data`` JSON, written into the docs between
``<!-- generated:eval-image -->`` markers, so the docs cannot drift from the measurements.

    python -m tools.imaging.render eval-out/kermany-test/image.json [eval-out/pmnist28/image.json]

rewrites the generated sections of docs/IMAGING.md and of each evaluated model's card.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
MARK = "eval-image"


def _ci(v: list[float]) -> str:
    return f"{v[0]:.3f}–{v[1]:.3f}"


def _pct(n: int, total: int) -> str:
    return f"{n}/{total} ({n / max(1, total):.1%})"


def render_markdown(metrics: dict[str, Any], published: bool = True) -> str:
    """The side-by-side table, the paired comparison, the published results and the guard."""
    s = metrics["set"]
    lines = [
        f"Set: **{s['data']}**, n = {s['n']} (classes {', '.join(s['classes'])}). "
        "Decision: the top class of the calibrated probabilities; 95 % CIs: Wilson (proportions), "
        "stratified bootstrap (AUC, 2,000 resamples).",
        "",
        "| model | accuracy | sensitivity | specificity | PPV | NPV | ROC AUC | ECE raw → "
        "calibrated | flagged for review (accuracy of the rest) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for key, m in metrics["models"].items():
        cal = m["calibration"]
        rev = m["review"]
        unflagged = rev["accuracy_unflagged"]
        lines.append(
            f"| `{key}` | {m['accuracy']:.3f} ({_ci(m['accuracy_ci95'])}) "
            f"| {m['sensitivity']:.3f} ({_ci(m['sensitivity_ci95'])}) "
            f"| {m['specificity']:.3f} ({_ci(m['specificity_ci95'])}) "
            f"| {m['ppv']:.3f} | {m['npv']:.3f} "
            f"| **{m['auc']:.3f}** ({_ci(m['auc_ci95'])}) "
            f"| {cal['uncalibrated']['ece']:.3f} → {cal['calibrated_result']['ece']:.3f} "
            f"(T = {cal['temperature']:g}) "
            f"| {_pct(rev['flagged'], m['n'])} ({'' if unflagged is None else f'{unflagged:.3f}'}) |"
        )
    for pair, c in metrics.get("comparisons", {}).items():
        mc = c["mcnemar"]
        lines += [
            "",
            f"Paired, same images (`{pair}`): AUC {c['auc_diff']:+.4f} (95 % CI "
            f"{c['auc_diff_ci95'][0]:+.4f} to {c['auc_diff_ci95'][1]:+.4f}, bootstrap p "
            f"{c['auc_p_bootstrap']:.3g}); accuracy {c['accuracy_diff']:+.4f} (95 % CI "
            f"{c['accuracy_diff_ci95'][0]:+.4f} to {c['accuracy_diff_ci95'][1]:+.4f}; exact "
            f"McNemar p {mc['p']:.3g}, {mc['only_second_correct']} images right only by the "
            f"second model, {mc['only_first_correct']} only by the first).",
        ]
    g = metrics.get("guard")
    if g:
        lines += [
            "",
            f"Out-of-scope guard on this set: accepts {_pct(g['accepted'], g['n'])} as chest "
            f"X-rays (95 % CI {_ci(g['accepted_ci95'])})"
            + (
                "; rejections: " + ", ".join(f"{k} ({v})" for k, v in g["reasons"].items())
                if g["reasons"]
                else ""
            )
            + ".",
        ]
    pub = (metrics.get("published") or []) if published else []
    if pub:
        lines += [
            "",
            "Published results on the same 624 test images (their own inputs: MedMNIST v2 at "
            "28 or 224 px from centre crops; Kermany et al. on the full images):",
            "",
            "| method | ROC AUC | accuracy | source |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {p['name']} | {p['auc']:.3f} | {p['accuracy']:.3f} | {p['source']} |" for p in pub
        ]
    return "\n".join(lines)


def render_calibration(metrics: dict[str, Any], key: str) -> str:
    """One model's calibration and reliability bins (for its model card)."""
    m = metrics["models"][key]
    cal = m["calibration"]
    raw, after = cal["uncalibrated"], cal["calibrated_result"]
    lines = [
        f"Set: **{metrics['set']['data']}**, n = {m['n']}. Temperature T = "
        f"{cal['temperature']:g}, fitted on {cal['fitted_on']}.",
        "",
        "| | ECE (10 bins) | NLL | Brier |",
        "|---|---|---|---|",
        f"| raw logits | {raw['ece']:.4f} | {raw['nll']:.4f} | {raw['brier']:.4f} |",
        f"| after temperature | {after['ece']:.4f} | {after['nll']:.4f} | {after['brier']:.4f} |",
        "",
        "| top-class confidence | images | mean confidence | accuracy |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {b['lo']:.1f}–{b['hi']:.1f} | {b['n']} | {b['confidence']:.3f} | {b['accuracy']:.3f} |"
        for b in cal["bins"]
    ]
    rev = m["review"]
    lines += [
        "",
        f"Review flag (top-class probability below {rev['review_below']}): "
        f"{_pct(rev['flagged'], m['n'])} flagged; accuracy {rev['accuracy_unflagged']} "
        f"unflagged vs {rev['accuracy_flagged']} flagged.",
    ]
    return "\n".join(lines)


def write_between(path: Path, marker: str, text: str) -> bool:
    """Replace what lies between ``<!-- generated:MARKER -->`` and its closing marker."""
    from assistant.core.evaldocs import write_block

    return write_block(path, marker.removeprefix("eval-"), text)


def update_docs(results: list[dict[str, Any]], root: Path = ROOT) -> list[str]:
    """Write every result's tables into docs/IMAGING.md (markers ``eval-image``,
    ``eval-image-2``, ...) and each model card (``eval-image`` + ``eval-image-calibration``)."""
    from tools.imaging import registry

    done = []
    for i, res in enumerate(results):
        suffix = "" if i == 0 else f"-{i + 1}"
        table = render_markdown(res, published=i < 2)
        if write_between(root / "docs" / "IMAGING.md", MARK + suffix, table):
            done.append(f"docs/IMAGING.md [{MARK}{suffix}]")
        for key in res["models"]:
            if key not in registry.REGISTRY:  # a checkpoint file evaluated beside them
                continue
            card = root / registry.get(key).card
            if card.is_file() and write_between(card, MARK + suffix, table):
                done.append(f"{registry.get(key).card} [{MARK}{suffix}]")
            if (
                i == 0
                and card.is_file()
                and write_between(card, f"{MARK}-calibration", render_calibration(res, key))
            ):
                done.append(f"{registry.get(key).card} [{MARK}-calibration]")
    return done


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print("usage: python -m tools.imaging.render IMAGE_JSON [IMAGE_JSON ...]", file=sys.stderr)
        return 2
    try:
        results = [json.loads(Path(a).read_text(encoding="utf-8")) for a in args]
    except (OSError, json.JSONDecodeError) as exc:
        print(f"error: cannot read the eval JSON ({exc})", file=sys.stderr)
        return 2
    for line in update_docs(results):
        print(f"updated {line}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
