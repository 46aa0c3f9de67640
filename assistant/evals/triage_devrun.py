"""A development run of the triage evaluation (``python -m assistant.evals.triage_loso``): the
triage data of today or rolled back to an earlier commit, recognisers switched off, a sweep of the
semantic matcher's threshold and margin, and the safety net of a fold; one metrics line per set."""

from __future__ import annotations

import argparse
import importlib
import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml

from assistant.evals.triage_set import load_set
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
        data, split, ids = load_set(name)
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
