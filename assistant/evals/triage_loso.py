"""Development runs of the triage evaluation: one vignette set at a time, optionally with the
triage data rolled back to an earlier commit (leave-one-set-out: the phrasings learnt from a set
are gone) and with recognisers switched off (ablation), or another semantic threshold.

    python -m assistant.evals.triage_loso --set main:dev
    python -m assistant.evals.triage_loso --set main:test --data-rev 3860543
    python -m assistant.evals.triage_loso --set main:dev --off patterns --threshold 0.55
    python -m assistant.evals.triage_loso --set FILE.yaml
    python -m assistant.evals.triage_loso --set b --data-rev 77c90b9 --classifier folds/b.json
    python -m assistant.evals.triage_loso --render docs/TRIAGE.md a.json,b.json
    python -m assistant.evals.triage_loso --record rec --set b --set c --classifier folds
    python -m assistant.evals.triage_loso --net-table docs/TRIAGE.md rec rec11

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

from tools.triage.classifier import story_words
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
    "j": "set j",
    "k": "set k",
    "l": "set l",
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


# The learned net's emergency raise, simulated exactly. A play records, at every turn the net
# reads the story, its P(emergency), the story's length and the rules' own level; the emergency
# raise is switched off. A raise at a turn makes the episode an emergency for good (a learned
# floor stands, and an emergency asks nothing more), and the turns before it are the same with or
# without it; without one, the played level stands. So any emergency-raise rule (threshold, the
# rules' agreement, a story's minimum length) is scored from one play per set and net.
NET_BLOCK = "eval-triage-net-round10"
NET_SETS = ("b", "c", "d", "e", "f", "g", "h", "i")


def record_play(name: str, classifier: Path) -> dict[str, Any]:
    """Play set ``name`` through the whole assistant with the net of ``classifier`` (its emergency
    raise off), keeping each vignette's result and each net reading."""
    from unittest import mock

    import tools.triage as triage
    from assistant.core.config import load_settings
    from assistant.evals import triage as E

    raw = json.loads(classifier.read_text(encoding="utf-8"))
    raw["emergency_threshold"] = None
    log: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    decide, assess_story, play = triage.decide, triage.assess_story, E.play_safely

    def rules(*a: Any, **k: Any) -> Any:  # the rules' own decision (no learned floor or gate)
        d = decide(*a, **k)
        if d is not None and not k.get("learned_floor") and not k.get("home_care"):
            current["rules"] = d.level
        return d

    def net(text: str, embedder: Any, model: Any = None) -> Any:
        view = assess_story(text, embedder, model)
        p = None if view is None else view["probabilities"]["emergency"]
        log.append(
            {"id": current["id"], "words": story_words(text), "rules": current["rules"], "p_em": p}
        )
        return view

    def played(bot: Any, v: dict[str, Any], kinds: Any, echo: Any) -> dict[str, Any]:
        current["id"] = v["id"]
        return play(bot, v, kinds, echo)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        prepare_data(folder, None, None)
        (folder / "classifier.json").write_text(json.dumps(raw), encoding="utf-8")
        use_data_dir(folder)
        try:
            with (
                mock.patch.object(triage, "decide", rules),
                mock.patch.object(triage, "assess_story", net),
                mock.patch.object(E, "play_safely", played),
            ):
                data, split, ids = _load(name)
                results, _d, _s = E.run_vignettes(
                    load_settings(), ids, loaded=(data, split), echo=lambda *a: None
                )
        finally:
            use_data_dir(None)
    return {"set": name, "classifier": str(classifier), "results": results, "log": log}


def simulate(
    record: dict[str, Any],
    threshold: float | None,
    rule_levels: tuple[str, ...] = (),
    min_words: int = 0,
) -> dict[str, Any]:
    """The metrics of ``record``'s set under an emergency raise at ``threshold`` (None: off) that
    needs the rules' level among ``rule_levels`` (empty: any) and ``min_words`` words, plus the
    false emergencies (emergency given where the gold level is lower)."""
    from assistant.evals.triage_play import score

    def fires(e: dict[str, Any]) -> bool:
        return (
            threshold is not None
            and e["p_em"] is not None
            and e["p_em"] >= threshold
            and e["words"] >= min_words
            and (not rule_levels or e["rules"] in rule_levels)
        )

    raised = {e["id"] for e in record["log"] if fires(e)}
    pairs = []
    for r in record["results"]:
        gold = str(r["gold"]).strip().lower().replace("-", "_").replace(" ", "_")
        pairs.append((gold, "emergency" if r["id"] in raised else r["pred"]))
    m = score(pairs)
    m["false_emergencies"] = sum(p == "emergency" and g != "emergency" for g, p in pairs)
    return m


def render_net(rows: list[tuple[str, str, dict[str, Any]]]) -> str:
    """One table row per (mechanism, set, metrics)."""
    head = (
        "| net and emergency raise | set | n | accuracy | emergency recall | self-care recall "
        "| emergency/urgent → self-care or no level | false emergencies |\n" + "|---" * 8 + "|\n"
    )
    body = [
        f"| {label} | {SET_NAMES.get(name, name)} | {m['n']} | {_pct(m['accuracy'])} "
        f"| {_pct(m['emergency_recall'])} | {_pct(m['self_care_recall'])} "
        f"| {m['emergency_or_urgent_to_self_care']} | {m['false_emergencies']} |"
        for label, name, m in rows
    ]
    return head + "\n".join(body) + "\n"


def net_table(runs: list[tuple[str, Path, dict[str, Any], bool]], sets: list[str]) -> str:
    """Rows for each (label, records folder, emergency-raise rule: ``simulate``'s keywords, per
    set or pooled only) over ``sets`` (FOLDER/SET.json each), pooled last."""
    rows: list[tuple[str, str, dict[str, Any]]] = []
    for label, folder, rule, per_set in runs:
        label = f"{label}: {_describe(rule)}"
        pooled: dict[str, Any] = {"results": [], "log": []}
        for name in sets:
            rec = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
            if per_set:
                rows.append((label, name, simulate(rec, **rule)))
            for key in ("results", "log"):
                pooled[key] += [{**x, "id": f"{name}/{x['id']}"} for x in rec[key]]
        rows.append((label, "pooled", simulate(pooled, **rule)))
    return render_net(rows)


def _describe(rule: dict[str, Any]) -> str:
    if rule["threshold"] is None:
        return "no emergency raise"
    parts = [f"P(em) ≥ {rule['threshold']}"]
    if rule.get("rule_levels"):
        parts.append("rules' own level " + " or ".join(rule["rule_levels"]))
    if rule.get("min_words"):
        parts.append(f"story ≥ {rule['min_words']} words")
    return ", ".join(parts)


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
        help="write round 10's table of the emergency raise on sets b..i into DOC's "
        "eval-triage-net-round10 block from two --record folders (NETS: the shipped training "
        "sets' folds; EXTRA: the folds trained with g, h and i too); no run",
    )
    ap.add_argument("--json", type=Path, help="write the metrics here")
    args = ap.parse_args(argv)
    if args.render:
        doc, jsons = Path(args.render[0]), args.render[1].split(",")
        runs = [json.loads(Path(j).read_text(encoding="utf-8")) for j in jsons]
        if not write_docs(runs, doc, args.block):
            ap.error(f"{doc} has no generated:{args.block} block")
        return 0
    if args.net_table:
        from assistant.evals import triage_train as tt

        doc, nets, extra = (Path(x) for x in args.net_table)
        chosen = {"threshold": tt.EMERGENCY_THRESHOLD, "min_words": tt.EMERGENCY_MIN_WORDS}
        runs = [
            ("before (8 training sets)", nets, {"threshold": 0.5}, True),
            ("after (8 training sets)", nets, chosen, True),
            ("8 training sets", nets, {"threshold": None}, False),
            ("8 training sets", nets, {"threshold": 0.6}, False),
            ("8 training sets", nets, {"threshold": 0.7}, False),
            ("8 training sets", nets, {"threshold": 0.5, "rule_levels": ("urgent",)}, False),
            ("11 training sets", extra, {"threshold": 0.5}, False),
            ("11 training sets", extra, {**chosen, "rule_levels": ("urgent",)}, False),
            ("11 training sets", extra, chosen, False),
        ]
        start, end = f"<!-- generated:{NET_BLOCK} -->", f"<!-- /generated:{NET_BLOCK} -->"
        text = doc.read_text(encoding="utf-8")
        if start not in text or end not in text:
            ap.error(f"{doc} has no generated:{NET_BLOCK} block")
        table = net_table(runs, list(NET_SETS))
        head, _, rest = text.partition(start)
        doc.write_text(f"{head}{start}\n{table}{end}{rest.partition(end)[2]}", encoding="utf-8")
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
