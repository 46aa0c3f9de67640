"""The PHI tables for the docs (``eval-out/phi.json``): every system on every split, the first
look (leave-one-set-out), OpenI over-redaction and the history of earlier rounds."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from assistant.evals import phi_openi as eval_phi_openi
from assistant.evals.phi_sets import ROUND1_TEST, ROUND2_HELDOUT, TARGET_RECALL, TYPES


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}%"


_LABELS = {
    "baseline": "cue-word regexes (before, baseline)",
    "rules": "project recognizers alone",
    "presidio": "Presidio alone (spaCy NER, phones, dates, SSN, NHS, IP)",
    "library": "Presidio + context names alone",
    "combined": "**Presidio + context names + project recognizers (default)**",
}
_TAGS = {
    "set": "**whole set**",
    "all": "all (tuned on)",
    "heldout": "held-out set (tuned on)",
    "test": "test (tuned on)",
    "dev": "dev (tuned on)",
}


def render_markdown(metrics: dict[str, Any]) -> str:
    """The PHI tables for the docs, from `eval-out/phi.json`."""
    sizes = metrics["split_sizes"]
    splits = [k for k in _TAGS if k in sizes]
    if metrics.get("mode") == "set":
        intro = (
            f"Set: `{metrics['set']}` ({metrics['n_items']} items), every item scored (no "
            "split). Its figures are a held-out estimate only if the detector was never tuned "
            "on this file."
        )
    else:
        intro = (
            f"Sets: `{metrics['set']}` (dev {sizes['dev']}, test {sizes['test']}, held-out "
            f"{sizes['heldout']} items), written by the project (synthetic), as they are now. "
            "**Every row here is a tuned-on figure**: all three sets have been looked at and "
            "tuned on since the first look above (history below). Held-out estimates: the "
            "first look, and a set written outside this work scored once with `clinassist "
            "eval phi --set FILE`."
        )
    lines = [
        intro + f" Detector: {metrics['detector']} (loaded in {metrics['library_load_s']} s, "
        "shared machine).",
        "",
        "Recall per type:",
        "",
        "| system | split | names | dates | ages > 89 | ids | phones | e-mail | URLs | addresses "
        "| names+dates+ids | precision | clinical terms kept | ms/item (p50) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    target = metrics["target"]["split"]
    for name, label in _LABELS.items():  # every split for the default, the whole for the rest
        for split in (splits if name == "combined" else [target]) if name in metrics else []:
            m = metrics[name][split]
            lines.append(
                f"| {label} | {_TAGS[split]} | "
                + " | ".join(_pct(m["recall"][t]) for t in TYPES)
                + f" | {_pct(m['recall_names_dates_identifiers'])} | {_pct(m['precision'])} "
                f"| {_pct(m['clinical_terms_kept'])} | {m['ms_per_item_p50']} |"
            )
    lines += [
        "",
        "Precision per type (detected spans that overlap a gold span; in brackets, how many "
        "were detected):",
        "",
        "| system | split | " + " | ".join(t.lower() for t in TYPES) + " |",
        "|---|---|" + "---|" * len(TYPES),
    ]
    for name in ("combined", "presidio", "baseline"):
        for split in [target] if name in metrics else []:
            m = metrics[name][split]
            cells = [
                f"{_pct(m['precision_by_type'][t])} ({m['detected_by_type'][t]})"
                if m["detected_by_type"][t]
                else "-"
                for t in TYPES
            ]
            lines.append(f"| {_LABELS[name]} | {_TAGS[split]} | " + " | ".join(cells) + " |")
    best = metrics.get("combined") or metrics.get("rules")
    if best:
        scored = best[target]
        gold = scored["gold"]
        lines += [
            "",
            f"Gold spans ({_TAGS[target].strip('*')}): "
            + ", ".join(f"{t} {gold[t]}" for t in TYPES)
            + f". Target: recall >= {TARGET_RECALL:.2f} for names, dates and identifiers: "
            + ", ".join(
                f"{t} {'met' if ok else 'missed'}" for t, ok in metrics["targets_met"].items()
            )
            + ".",
        ]
        misses = [m for m in scored["misses"] if m["type"] != "CLINICAL_DESTROYED"]
        destroyed = [m for m in scored["misses"] if m["type"] == "CLINICAL_DESTROYED"]
        if misses:
            lines.append(
                "Misses (default): " + "; ".join(f"{m['type']} `{m['text']}`" for m in misses) + "."
            )
        if destroyed:
            lines.append(
                "Clinical terms redacted (default): "
                + "; ".join(f"`{m['text']}`" for m in destroyed)
                + "."
            )
        if scored["false_positives"]:
            lines.append(
                "False positives (default): "
                + "; ".join(f"{m['kind']} `{m['text']}`" for m in scored["false_positives"])
                + "."
            )
    if metrics.get("openi"):
        lines += ["", *eval_phi_openi.render(metrics["openi"], _LABELS)]
    if metrics.get("mode") != "set":
        lines[:0] = [*_first_look_table(), ""]
        lines += ["", _history()]
    return "\n".join(lines)


def first_look() -> dict[str, Any]:
    """Round 3's first look (``phi_first_look.json``): the leave-one-set-out estimate."""
    text = resources.files("assistant.data.eval").joinpath("phi_first_look.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def _first_look_table() -> list[str]:
    fl = first_look()
    lines = [
        f"**Leave-one-set-out (the honest estimate).** The detector as it stood at commit "
        f"{fl['commit']} (round 3's mechanisms tuned on the dev split only), scored once on the "
        "two sets it had not been tuned on in this round, before their misses were read; the "
        "held-out set had never been tuned on (fresh), the test split had been in round 2 (not "
        "fresh). Recorded in `assistant/data/eval/phi_first_look.json`.",
        "",
        "| system | set | names | dates | ages > 89 | ids | phones | e-mail | URLs | addresses "
        "| names+dates+ids | precision | clinical terms kept |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    tags = {"heldout": "**held-out set (left out)**", "test": "test (tuned on in round 2)"}
    for name in ("combined", "presidio", "rules", "baseline"):
        for split, tag in tags.items():
            m = fl["systems"][name][split]
            lines.append(
                f"| {_LABELS[name]} | {tag} | "
                + " | ".join(_pct(m["recall"][t]) for t in TYPES)
                + f" | {_pct(m['names_dates_ids'])} | {_pct(m['precision'])} "
                f"| {_pct(m['clinical_terms_kept'])} |"
            )
    return lines


def _history() -> str:
    r1, r2 = ROUND1_TEST, ROUND2_HELDOUT
    return (
        f"History. Round 1 (commit {r1['commit']}), tuned on dev, test scored once: names "
        f"{_pct(r1['recall']['NAME'])}, dates {_pct(r1['recall']['DATE'])}, ids "
        f"{_pct(r1['recall']['ID'])}, phones {_pct(r1['recall']['PHONE'])}; precision "
        f"{_pct(r1['precision'])}. Round 2, tuned on dev and test, held-out set scored once: "
        f"names {_pct(r2['recall']['NAME'])}, ids {_pct(r2['recall']['ID'])}; precision "
        f"{_pct(r2['precision'])}, clinical terms kept {_pct(r2['clinical_terms_kept'])}. "
        "Round 3: first look above; the development rows were then tuned on every set."
    )
