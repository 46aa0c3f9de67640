"""Development runs of the triage evaluation: one vignette set at a time, optionally with the
triage data rolled back to an earlier commit (leave-one-set-out: the phrasings learnt from a set
are gone) and with recognisers switched off (ablation), or another semantic threshold.

    python -m assistant.evals.triage_loso --set main:dev
    python -m assistant.evals.triage_loso --set main:test --data-rev 3860543
    python -m assistant.evals.triage_loso --set main:dev --off patterns --threshold 0.55
    python -m assistant.evals.triage_loso --set FILE.yaml
    python -m assistant.evals.triage_loso --set b --data-rev 77c90b9 --classifier folds/b.json
    python -m assistant.evals.triage_loso --render docs/TRIAGE.md a.json,b.json

Rolling back replaces concepts.yaml, rules.yaml, topics.yaml and context_rules.json with their
versions at ``--data-rev`` (read with ``git show``), keeps the mechanism data of today (the
``semantic.yaml`` settings, the open-question topic, and each concept's HPO mapping fields:
``hpo``, ``hpo_name``, ``hpo_more``, ``hpo_exclude``, ``hpo_vocabulary``) and regenerates the HPO
vocabulary for the rolled-back concepts. Prints the metrics only; ``--errors`` also lists the
misclassified vignettes (ids and levels), which is reading the set's errors: do that only for
sets that are development data.
"""

from __future__ import annotations

import argparse
import importlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from tools.triage.lexicon import DATA_DIR, use_data_dir

HPO_FIELDS = ("hpo", "hpo_name", "hpo_more", "hpo_exclude", "hpo_vocabulary")
ROLLED = ("concepts.yaml", "rules.yaml", "topics.yaml", "context_rules.json")


def _git_show(rev: str, name: str) -> str:
    root = Path(__file__).resolve().parents[2]
    return subprocess.run(
        ["git", "show", f"{rev}:tools/triage/data/{name}"],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def prepare_data(folder: Path, rev: str | None, threshold: float | None) -> None:
    """Today's data, or the data at ``rev`` with today's mechanism data, into ``folder``."""
    from tools.triage.hpo import OUT_NAME, build_file

    for item in DATA_DIR.iterdir():
        if item.is_file():
            shutil.copy(item, folder / item.name)
    if rev:
        for name in ROLLED:
            (folder / name).write_text(_git_show(rev, name), encoding="utf-8")
        now = yaml.safe_load((DATA_DIR / "concepts.yaml").read_text(encoding="utf-8"))
        mapping = {c["id"]: {k: c[k] for k in HPO_FIELDS if k in c} for c in now["concepts"]}
        old = yaml.safe_load((folder / "concepts.yaml").read_text(encoding="utf-8"))
        for c in old["concepts"]:
            for k in HPO_FIELDS:
                c.pop(k, None)
            c.update(mapping.get(c["id"], {}))
        (folder / "concepts.yaml").write_text(yaml.safe_dump(old, sort_keys=False))
        topics_now = yaml.safe_load((DATA_DIR / "topics.yaml").read_text(encoding="utf-8"))
        topics = yaml.safe_load((folder / "topics.yaml").read_text(encoding="utf-8"))
        topics["topics"].setdefault("describe", topics_now["topics"]["describe"])
        (folder / "topics.yaml").write_text(yaml.safe_dump(topics, sort_keys=False))
        built = build_file(folder)
        (folder / OUT_NAME).write_text(json.dumps(built, indent=0, ensure_ascii=False))
        known = {c["id"] for c in old["concepts"]}
        sem = yaml.safe_load((folder / "semantic.yaml").read_text(encoding="utf-8"))
        sem["phrases"] = {k: v for k, v in (sem.get("phrases") or {}).items() if k in known}
        (folder / "semantic.yaml").write_text(yaml.safe_dump(sem, sort_keys=False))
    if threshold is not None:
        sem = yaml.safe_load((folder / "semantic.yaml").read_text(encoding="utf-8"))
        sem["threshold"] = threshold
        (folder / "semantic.yaml").write_text(yaml.safe_dump(sem, sort_keys=False))


def _load(name: str) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    from assistant.evals import triage as E

    if ":" in name and not Path(name).exists():
        which, part = name.split(":", 1)
        data, split = E.load_vignettes(which=which)
        return data, split, list(split[part])
    if name in E.SETS:
        data, split = E.load_vignettes(which=name)
        return data, split, list(split["test"])
    data, split = E.load_file(Path(name))
    return data, split, list(split["test"])


def run(args: argparse.Namespace) -> dict[str, Any]:
    from assistant.core.config import load_settings

    parse = importlib.import_module("tools.triage.parse")  # the module, not the function

    settings = load_settings()
    parse.OFF.clear()
    parse.OFF.update(x for x in (args.off or "").split(",") if x)
    out: dict[str, Any] = {"data_rev": args.data_rev, "off": sorted(parse.OFF)}
    thresholds: list[float | None] = [float(x) for x in (args.threshold or "").split(",") if x]
    margins: list[float | None] = [float(x) for x in (args.margin or "").split(",") if x]
    thresholds, margins = thresholds or [None], margins or [None]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        prepare_data(folder, args.data_rev, None)
        if args.classifier:
            # the learned safety net of this run: none (rules only) or a fold's weights
            (folder / "classifier.json").unlink(missing_ok=True)
            if args.classifier != "none":
                shutil.copy(args.classifier, folder / "classifier.json")
        use_data_dir(folder)
        try:
            for th, mg in ((a, b) for a in thresholds for b in margins):
                _tune(settings, th, mg)
                out.update(_sets(args, settings, parse, th, mg))
        finally:
            use_data_dir(None)
            parse.OFF.clear()
    return out


def _tune(settings: Any, threshold: float | None, margin: float | None) -> None:
    """Set the semantic matcher's threshold and margin for the next runs (a sweep)."""
    import dataclasses

    from assistant.core.embeddings import build_embedder
    from tools.triage.lexicon import lexicon
    from tools.triage.semantic import load_settings, matcher

    m = matcher(build_embedder(settings), lexicon())
    if m is None:
        return
    base = load_settings()
    assert base is not None
    m.settings = dataclasses.replace(
        base,
        threshold=base.threshold if threshold is None else threshold,
        margin=base.margin if margin is None else margin,
    )


def _sets(
    args: argparse.Namespace, settings: Any, parse: Any, th: float | None, mg: float | None
) -> dict[str, Any]:
    from assistant.evals import triage as E

    out: dict[str, Any] = {}
    for name in args.set:
        data, split, ids = _load(name)
        results, _d, _s = E.run_vignettes(settings, ids, loaded=(data, split))
        items = {v["id"]: v for v in data["vignettes"]}
        block = E.evaluate_split(results, items)
        m, rf = block["triage"], block["baselines"]["red_flag_rules_alone"]
        print(
            f"{name} [data {args.data_rev or 'today'}; off {','.join(sorted(parse.OFF)) or '-'}"
            f"; threshold {th or 'shipped'}; margin {mg if mg is not None else 'shipped'}]: "
            f"n={m['n']} acc={m['accuracy']:.3f} "
            f"(3-level {m['accuracy_3_levels']:.3f}) emergency recall={m['emergency_recall']} "
            f"self-care recall={m['self_care_recall']} over={m['over_triage_rate']:.3f} "
            f"under={m['under_triage_rate']:.3f} em/urg->self_care or none="
            f"{m['emergency_or_urgent_to_self_care']} no level={sum(r['pred'] is None for r in results)}"
            f" | red flags alone acc={rf['accuracy']:.3f}",
            flush=True,
        )
        if args.errors:
            for e in block["errors"]:
                print(f"  {e['id']}: gold {e['gold']}, got {e['pred']}")
        block.pop("errors")
        out[f"{name} {th} {mg}"] = block
    return out


MARK_START = "<!-- generated:eval-triage-loso -->"
MARK_END = "<!-- /generated:eval-triage-loso -->"
SET_NAMES = {
    "main:dev": "dev split",
    "main:test": "test split",
    "second": "second set",
    "third": "third set",
    "b": "set b",
    "c": "set c",
    "d": "set d",
    "e": "set e",
    "f": "set f",
    "g": "set g",
    "h": "set h",
    "i": "set i",
}


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def render_markdown(runs: list[dict[str, Any]]) -> str:
    """One table row per (run, set) from the ``--json`` files of several runs, each labelled
    (``label``: what the run is, e.g. which code and data it used)."""
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
            name = key.split(" ")[0]
            rows.append(
                f"| {run_.get('label', run_.get('data_rev') or 'today')} "
                f"| {SET_NAMES.get(name, name)} | {m['n']} | {_pct(m['accuracy'])} "
                f"| {_pct(m['accuracy_3_levels'])} | {_pct(m['emergency_recall'])} "
                f"| {_pct(m['self_care_recall'])} | {_pct(m['over_triage_rate'])} "
                f"| {_pct(m['under_triage_rate'])} | {m['emergency_or_urgent_to_self_care']} "
                f"| {_pct(b['red_flag_rules_alone']['accuracy'])} "
                f"| {_pct(b['always_see_a_doctor']['accuracy'])} |"
            )
    return head + "\n".join(rows) + "\n"


def write_docs(runs: list[dict[str, Any]], doc: Path, block: str = "eval-triage-loso") -> bool:
    """Replace the text between the ``block``'s generated markers in ``doc``."""
    start, end = f"<!-- generated:{block} -->", f"<!-- /generated:{block} -->"
    text = doc.read_text(encoding="utf-8")
    if start not in text or end not in text:
        return False
    head, _, rest = text.partition(start)
    _, _, tail = rest.partition(end)
    doc.write_text(f"{head}{start}\n{render_markdown(runs)}{end}{tail}", encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m assistant.evals.triage_loso", description=__doc__)
    ap.add_argument("--set", action="append", help="main:dev, main:test, second, third or a FILE")
    ap.add_argument("--label", help="what this run is (kept in --json, shown by --render)")
    ap.add_argument(
        "--render",
        nargs=2,
        metavar=("DOC", "JSONS"),
        help="write the table of the --json files (comma-separated) into DOC's markers; no run",
    )
    ap.add_argument(
        "--block",
        default="eval-triage-loso",
        help="--render: the generated block to write (default eval-triage-loso)",
    )
    ap.add_argument("--data-rev", help="roll the triage data back to this git revision")
    ap.add_argument("--off", help="recognisers to switch off: patterns,hpo,spelling,semantic")
    ap.add_argument("--threshold", help="semantic matching threshold(s), comma-separated: a sweep")
    ap.add_argument("--margin", help="semantic margin(s) over the background, comma-separated")
    ap.add_argument(
        "--classifier",
        help="the triage safety net's weights for this run (a triage_train --folds file), "
        "or none for the rules alone; default: the shipped ones",
    )
    ap.add_argument("--errors", action="store_true", help="list the misclassified vignettes")
    ap.add_argument("--json", type=Path, help="write the metrics here")
    args = ap.parse_args(argv)
    if args.render:
        doc, jsons = Path(args.render[0]), args.render[1].split(",")
        runs = [json.loads(Path(j).read_text(encoding="utf-8")) for j in jsons]
        if not write_docs(runs, doc, args.block):
            ap.error(f"{doc} has no generated:{args.block} block")
        return 0
    if not args.set:
        ap.error("--set is required (or --render)")
    out = run(args)
    if args.label:
        out["label"] = args.label
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
