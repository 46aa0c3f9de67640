"""docs/NER.md's tables are rendered from the eval JSON and written between the markers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from knowledge.nlp.eval_docs import END, START, render_markdown, write
from knowledge.nlp.lexicon import LABELS
from knowledge.nlp.observations import FINDINGS
from knowledge.nlp.openi import PUBLISHED, score


def _entity_result() -> dict[str, Any]:
    prf = {"precision": 0.9, "recall": 0.8, "f1": 0.847, "tp": 8, "fp": 1, "fn": 2}
    mods = {k: {"accuracy": 0.95} for k in ("negated", "uncertain", "historical", "family")}
    abbrev = {
        "in_table": {"found": 3, "total": 3, "recall": 1.0},
        "not_in_table": {"found": 0, "total": 2, "recall": 0.0},
    }
    res = {
        "overlap": {lab: prf for lab in (*LABELS, "micro")},
        "exact": {lab: prf for lab in (*LABELS, "micro")},
        "modifiers": mods,
        "abbreviations": abbrev,
    }
    return {"dev": res, "test": res, "test_reports": res, "test_sentences": res}


def _openi() -> dict[str, Any]:
    records = [{"labels": {f: int(f == "Effusion") for f in FINDINGS} | {"normal": 0}}]
    ours = score(records, [{"Effusion": "positive"}])
    split = {
        "n_reports": 1,
        "gold_positives": {f: int(f == "Effusion") for f in FINDINGS},
        "clinassist": ours,
        "clinassist_uncertain_as_positive": ours,
        "clinassist_without_hernia": ours,
        "no_finding_vs_normal": ours["micro"],
        "baseline_medspacy_default": ours,
        "baseline_keyword": ours,
        "misses": 0,
        "misses_listed_as_gold_disagreements": 0,
    }
    return {"published": PUBLISHED, "splits": {"dev": split, "test": split}}


@pytest.fixture
def results() -> dict[str, Any]:
    return {
        "systems": {"clinassist": _entity_result(), "baseline": _entity_result()},
        "openi": _openi(),
        "openi_targets": {"micro_f1": 0.92, "common_finding_f1": 0.85},
    }


def test_render_has_every_finding_and_the_verdict(results: dict[str, Any]) -> None:
    text = render_markdown(results)
    for finding in FINDINGS:
        assert f"| {finding} |" in text
    assert "**micro (14)**" in text and "Wang et al., CVPR 2017" in text
    assert "NOT met" in text  # Cardiomegaly etc. have no true positive in this toy run
    assert "| test | 3/3 (1.000) | 0/2 (0.000) |" in text


def test_write_replaces_only_the_generated_block(results: dict[str, Any], tmp_path: Path) -> None:
    metrics = tmp_path / "ner.json"
    metrics.write_text(json.dumps(results))
    doc = tmp_path / "NER.md"
    doc.write_text(f"intro\n{START}\nold table\n{END}\noutro\n")
    write(metrics, doc)
    out = doc.read_text()
    assert out.startswith("intro\n") and out.endswith(f"{END}\noutro\n")
    assert "old table" not in out and "### Observations on real reports (OpenI)" in out
    doc.write_text("no markers")
    with pytest.raises(SystemExit):
        write(metrics, doc)
