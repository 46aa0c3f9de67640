"""Development runs of the triage evaluation: one vignette set at a time, optionally with the
triage data rolled back to an earlier commit (leave-one-set-out: the phrasings learnt from a set
are gone) and with recognisers switched off (ablation), or another semantic threshold.

    python -m assistant.evals.triage_loso --set main:dev
    python -m assistant.evals.triage_loso --set main:test --data-rev 3860543
    python -m assistant.evals.triage_loso --set main:dev --off patterns --threshold 0.55
    python -m assistant.evals.triage_loso --set FILE.yaml
    python -m assistant.evals.triage_loso --set b --data-rev 77c90b9 --classifier folds/b.json
    python -m assistant.evals.triage_loso --render docs/triage/generalisation-early.md a.json,b.json
    python -m assistant.evals.triage_loso --record rec --set b --set c --classifier folds
    python -m assistant.evals.triage_loso --net-table docs/triage/round10.md rec rec11

Rolling back replaces concepts.yaml, rules.yaml, topics.yaml and context_rules.json with their
versions at ``--data-rev`` (read with ``git show``), keeps the mechanism data of today (the
``semantic.yaml`` settings, the open-question topic, and each concept's HPO mapping fields:
``hpo``, ``hpo_name``, ``hpo_more``, ``hpo_exclude``, ``hpo_vocabulary``) and regenerates the HPO
vocabulary for the rolled-back concepts. Prints the metrics only; ``--errors`` also lists the
misclassified vignettes (ids and levels), which is reading the set's errors: do that only for
sets that are development data.

This module is the command line only: the runs are ``triage_devrun`` (the data, the sweep and
the metrics line per set) and ``triage_net`` (recording plays and simulating the learned net's
emergency raise); the tables are ``triage_report``'s; the sets and their names ``triage_set``'s.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from assistant.evals.triage_devrun import run
from assistant.evals.triage_net import (
    NET13_BLOCK,
    NET13_SETS,
    NET14_RULES,
    NET_BLOCK,
    NET_SETS,
    record_play,
    summarise,
    write_net_table,
    write_summary_table,
)
from assistant.evals.triage_report import LOSO_BLOCK, write_runs
from assistant.evals.triage_set import SETS
from assistant.evals.triage_train import EXTRA_SETS


def parser() -> argparse.ArgumentParser:
    """The command line (the runs themselves are ``triage_devrun`` and ``triage_net``)."""
    shipped = ", ".join(name for name in SETS if name != "main")
    ap = argparse.ArgumentParser(prog="python -m assistant.evals.triage_loso", description=__doc__)
    ap.add_argument(
        "--set", action="append", help=f"main:dev, main:test, a shipped set ({shipped}) or a FILE"
    )
    ap.add_argument("--label", help="what this run is (kept in --json, shown by --render)")
    ap.add_argument(
        "--render",
        nargs=2,
        metavar=("DOC", "JSONS"),
        help="write the table of the --json files (comma-separated) into DOC's markers; no run",
    )
    ap.add_argument(
        "--block",
        help=f"the generated block to write: --render's (default {LOSO_BLOCK}) or "
        f"--net-summary-table's (default {NET13_BLOCK})",
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
    ap.add_argument(
        "--record",
        type=Path,
        metavar="DIR",
        help="play each --set with the --classifier net (a file, or a folds folder: FOLDER/SET.json)"
        " and its emergency raise off; write DIR/SET.json for simulating emergency raises",
    )
    ap.add_argument(
        "--net-table",
        nargs=3,
        metavar=("DOC", "NETS", "EXTRA"),
        help=f"write round 10's table of the emergency raise on sets {NET_SETS[0]}..{NET_SETS[-1]}"
        f" into DOC's {NET_BLOCK} block from two --record folders (NETS: the shipped training "
        f"sets' folds; EXTRA: the folds trained with {', '.join(EXTRA_SETS)} too); no run",
    )
    ap.add_argument(
        "--net-summary",
        nargs="+",
        metavar="ARG",
        help="OUT.json LABEL=DIR [LABEL=DIR ...]: keep each --record folder's metrics on sets b..l "
        "(or the --set ones) (per set for a LABEL ending in '*', else pooled) in OUT.json, the "
        "emergency raise as shipped or, for LABEL=DIR@RULE, as a round-14 variant "
        f"({', '.join(NET14_RULES)}); no run",
    )
    ap.add_argument(
        "--net-summary-table",
        nargs=2,
        metavar=("DOC", "SUMMARY"),
        help="write the kept --net-summary (several: comma-separated, rows in that order) into "
        f"DOC's --block (default {NET13_BLOCK}); no run",
    )
    ap.add_argument("--json", type=Path, help="write the metrics here")
    return ap


def main(argv: list[str] | None = None) -> int:
    ap = parser()
    args = ap.parse_args(argv)
    if args.render:
        doc, jsons = Path(args.render[0]), args.render[1].split(",")
        runs = [json.loads(Path(j).read_text(encoding="utf-8")) for j in jsons]
        block = args.block or LOSO_BLOCK
        if not write_runs(runs, doc, block):
            ap.error(f"{doc} has no generated:{block} block")
        return 0
    if args.net_table:
        doc, nets, extra = (Path(x) for x in args.net_table)
        if not write_net_table(doc, nets, extra):
            ap.error(f"{doc} has no generated:{NET_BLOCK} block")
        return 0
    if args.net_summary:
        out, *pairs = args.net_summary
        if not pairs or not all("=" in p for p in pairs):
            ap.error("--net-summary needs OUT.json and LABEL=DIR pairs")
        split = [(lab, *d.partition("@")[::2]) for lab, d in (p.split("=", 1) for p in pairs)]
        if any(r and r not in NET14_RULES for _l, _d, r in split):
            ap.error(f"a RULE after @ is one of {', '.join(NET14_RULES)}")
        chosen = [(lab.rstrip("*"), Path(d), lab.endswith("*")) for lab, d, _r in split]
        rules = {lab.rstrip("*"): r for lab, _d, r in split if r}
        rows = summarise(chosen, rules, tuple(args.set) if args.set else NET13_SETS)
        Path(out).write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
        return 0
    if args.net_summary_table:
        doc, summaries = Path(args.net_summary_table[0]), args.net_summary_table[1].split(",")
        block = args.block or NET13_BLOCK
        if not write_summary_table(doc, [Path(s) for s in summaries], block):
            ap.error(f"{doc} has no generated:{block} block")
        return 0
    if not args.set:
        ap.error("--set is required (or --render)")
    if args.record:
        if not args.classifier or args.classifier == "none":
            ap.error("--record needs --classifier (a weights file or a folds folder)")
        args.record.mkdir(parents=True, exist_ok=True)
        for name in args.set:
            given = Path(args.classifier)
            weights = given / f"{name}.json" if given.is_dir() else given
            out = record_play(name, weights)
            (args.record / f"{name}.json").write_text(json.dumps(out), encoding="utf-8")
            print(
                f"{name}: {len(out['results'])} vignettes, {len(out['log'])} readings", flush=True
            )
        return 0
    out = run(args)
    if args.label:
        out["label"] = args.label
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
