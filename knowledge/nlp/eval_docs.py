"""docs/NER.md's result tables, generated from ``clinassist eval ner``'s JSON so they cannot drift.

    clinassist eval ner --out eval-out
    python -m knowledge.nlp.eval_docs eval-out/ner.json docs/NER.md

rewrites the text between ``<!-- generated:eval-ner -->`` and ``<!-- /generated:eval-ner -->``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from knowledge.nlp.lexicon import LABELS
from knowledge.nlp.observations import FINDINGS

START = "<!-- generated:eval-ner -->"
END = "<!-- /generated:eval-ner -->"


def _f(value: Any) -> str:
    return "–" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def _prf(m: dict[str, Any]) -> str:
    return f"{_f(m['precision'])} / {_f(m['recall'])} / {_f(m['f1'])}"


def openi_tables(openi: dict[str, Any], targets: dict[str, Any] | None) -> list[str]:
    test, dev = openi["splits"]["test"], openi["splits"]["dev"]
    ours, med, kw = test["clinassist"], test["baseline_medspacy_default"], test["baseline_keyword"]
    lines = [
        f"Held-out **test** split ({test['n_reports']} reports; gold positives per finding in the "
        f"second column). Dev ({dev['n_reports']} reports) was used to write the rules: its column is "
        "not a claim.",
        "",
        "| finding | gold + (test) | ours P / R / F1 (test) | medspaCy default F1 | keyword + negation F1 | ours F1 (dev, tuned on) |",
        "|---|---|---|---|---|---|",
    ]
    for f in FINDINGS:
        lines.append(
            f"| {f} | {test['gold_positives'][f]} | {_prf(ours['per_finding'][f])} | "
            f"{_f(med['per_finding'][f]['f1'])} | {_f(kw['per_finding'][f]['f1'])} | "
            f"{_f(dev['clinassist']['per_finding'][f]['f1'])} |"
        )
    lines.append(
        f"| **micro (14)** | {sum(test['gold_positives'].values())} | **{_prf(ours['micro'])}** | "
        f"{_f(med['micro']['f1'])} | {_f(kw['micro']['f1'])} | {_f(dev['clinassist']['micro']['f1'])} |"
    )
    lines.append(
        f"| macro F1 ({len(ours['macro_over'])} findings the gold marks) | | {_f(ours['macro_f1'])} | "
        f"{_f(med['macro_f1'])} | {_f(kw['macro_f1'])} | {_f(dev['clinassist']['macro_f1'])} |"
    )
    lines += [
        "",
        "Published labelers on OpenI (not the same split or label set; quoted, see below):",
        "",
    ]
    lines += ["| system | data | P / R / F1 |", "|---|---|---|"]
    for p in openi["published"]:
        lines.append(f"| {p['system']} | {p['data']} | {_prf(p)} |")
    lines += [
        "",
        "Other readings of the same run (test / dev):",
        "",
        "| view | test micro P / R / F1 | dev micro F1 |",
        "|---|---|---|",
    ]
    views = [
        (
            "uncertain counted as present (not NegBio's protocol)",
            "clinassist_uncertain_as_positive",
        ),
        ("without the Hernia column (the gold never marks Hernia)", "clinassist_without_hernia"),
    ]
    for label, key in views:
        lines.append(f"| {label} | {_prf(test[key]['micro'])} | {_f(dev[key]['micro']['f1'])} |")
    lines.append(
        f"| No Finding vs the gold's `normal` | {_prf(test['no_finding_vs_normal'])} | "
        f"{_f(dev['no_finding_vs_normal']['f1'])} |"
    )
    lines += [
        "",
        f"Misses (false positives + false negatives over the 14): test {test['misses']}, of which "
        f"{test['misses_listed_as_gold_disagreements']} are listed gold disagreements; dev "
        f"{dev['misses']}, of which {dev['misses_listed_as_gold_disagreements']}. Every miss is in "
        "`ner_openi_misses.json` in the eval output folder.",
    ]
    if targets:
        held = ours["micro"]["f1"]
        common = ("Cardiomegaly", "Atelectasis", "Effusion", "Nodule", "Emphysema")
        ok = held >= targets["micro_f1"] and all(
            ours["per_finding"][f]["f1"] >= targets["common_finding_f1"] for f in common
        )
        lines += [
            "",
            f"Targets (held-out test): micro F1 ≥ {targets['micro_f1']} — {_f(held)}; each of "
            + ", ".join(f"{f} {_f(ours['per_finding'][f]['f1'])}" for f in common)
            + f" ≥ {targets['common_finding_f1']} — {'met' if ok else 'NOT met'}.",
        ]
    return lines


def gold_tables(results: dict[str, Any]) -> list[str]:
    ours, base = results["systems"]["clinassist"], results["systems"]["baseline"]
    test = ours["test"]
    lines = [
        "Project gold, held-out **test** split, overlap match (exact in brackets):",
        "",
        "| label | ours P / R / F1 | ours exact F1 | baseline (medspaCy default, same terms) F1 |",
        "|---|---|---|---|",
    ]
    for lab in (*LABELS, "micro"):
        ov, ex = test["overlap"][lab], test["exact"][lab]
        lines.append(
            f"| {lab} | {_prf(ov)} | {_f(ex['f1'])} | {_f(base['test']['overlap'][lab]['f1'])} |"
        )
    mods = test["modifiers"]
    bmods = base["test"]["modifiers"]
    lines += [
        "",
        "Modifiers on matched FINDINGs (test): "
        + "; ".join(
            f"{k} {_f(v['accuracy'])} (baseline {_f(bmods[k]['accuracy'])})"
            for k, v in mods.items()
        )
        + f". Dev (tuned on): FINDING overlap F1 {_f(ours['dev']['overlap']['FINDING']['f1'])}, "
        f"negation {_f(ours['dev']['modifiers']['negated']['accuracy'])}.",
        "",
        "| test subset | ours FINDING overlap F1 (exact) | ours negation / uncertainty | baseline FINDING overlap F1 (exact) |",
        "|---|---|---|---|",
    ]
    for subset, label in (
        ("reports", "20 radlabels reports (pre-annotated, corrected)"),
        ("sentences", "30 written sentences"),
    ):
        o, b = ours[f"test_{subset}"], base[f"test_{subset}"]
        lines.append(
            f"| {label} | {_f(o['overlap']['FINDING']['f1'])} ({_f(o['exact']['FINDING']['f1'])}) | "
            f"{_f(o['modifiers']['negated']['accuracy'])} / {_f(o['modifiers']['uncertain']['accuracy'])} | "
            f"{_f(b['overlap']['FINDING']['f1'])} ({_f(b['exact']['FINDING']['f1'])}) |"
        )
    lines += [
        "",
        "Abbreviations in the gold (entities written as 2–5 capitals), recall:",
        "",
        "| split | in `abbreviations.txt` (tuned-on: the table was written with these texts in view) | not in the table (held out) |",
        "|---|---|---|",
    ]
    for split in ("dev", "test"):
        a = ours[split]["abbreviations"]
        lines.append(
            f"| {split} | {a['in_table']['found']}/{a['in_table']['total']} ({_f(a['in_table']['recall'])}) | "
            f"{a['not_in_table']['found']}/{a['not_in_table']['total']} ({_f(a['not_in_table']['recall'])}) |"
        )
    silver = results.get("radlabels_agreement")
    if silver:
        lines += [
            "",
            f"radlabels silver agreement (report level, {silver['reports']} synthetic reports, "
            f"{silver['pairs']} labelled pairs): {_f(silver['agreement'])}; by silver value "
            + ", ".join(f"{k} {_f(v)}" for k, v in silver["by_silver_value"].items())
            + ".",
        ]
    return lines


def render_markdown(results: dict[str, Any]) -> str:
    """The generated part of docs/NER.md from the eval JSON."""
    lines = ["### Observations on real reports (OpenI)", ""]
    if "openi" in results:
        lines += openi_tables(results["openi"], results.get("openi_targets"))
    else:
        lines.append("(not in this eval output)")
    lines += ["", "### Entities on the project's gold set", ""]
    lines += gold_tables(results)
    return "\n".join(lines) + "\n"


def write(results_path: Path, doc_path: Path) -> None:
    from assistant.core.evaldocs import write_block

    results = json.loads(results_path.read_text(encoding="utf-8"))
    if not write_block(doc_path, "ner", render_markdown(results)):
        raise SystemExit(f"{doc_path} has no {START} ... {END} block")


if __name__ == "__main__":  # pragma: no cover
    if len(sys.argv) != 3:
        raise SystemExit("usage: python -m knowledge.nlp.eval_docs EVAL_OUT/ner.json docs/NER.md")
    write(Path(sys.argv[1]), Path(sys.argv[2]))
