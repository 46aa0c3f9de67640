"""The held-out runs' table in docs/TRIAGE.md is generated from the kept run files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.core.evaldocs import replace_block
from assistant.evals import triage_report
from assistant.evals.triage_report import HELDOUT_AREA, load_heldout, render_heldout

ROOT = Path(__file__).resolve().parents[3]


def _run(accuracy: float, sent_home: int) -> dict[str, object]:
    per_level = {lv: {"n": 40, "recall": 0.5} for lv in ("emergency", "urgent", "routine")}
    per_level["self_care"] = {"n": 40, "recall": 0.25}
    return {
        "set": "z",
        "code": "abc1234",
        "when": "before round 99",
        "triage": {
            "accuracy": accuracy,
            "accuracy_3_levels": 0.9,
            "emergency_recall": 0.5,
            "self_care_recall": 0.25,
            "per_level": per_level,
            "emergency_or_urgent_to_self_care": sent_home,
            "over_triage_rate": 0.1,
            "under_triage_rate": 0.2,
        },
        "baselines": {
            "red_flag_rules_alone": {"accuracy": 0.3},
            "always_see_a_doctor": {"accuracy": 0.25},
        },
    }


def test_a_row_shows_the_run_and_its_baselines() -> None:
    table = render_heldout([_run(0.775, 3)])
    row = table.splitlines()[-1]
    assert row.startswith("| z | abc1234 | before round 99 | 77.5% | 90.0% | 50.0% |")
    assert "| 3 of 80 |" in row and "| 10.0% / 20.0% |" in row
    assert row.endswith("| 30.0% | 25.0% |")


def test_the_docs_table_is_the_kept_runs_rendered() -> None:
    runs = load_heldout(ROOT / "docs" / "triage_runs" / "heldout")
    assert runs and all(r["triage"]["n"] == r["n"] for r in runs)
    doc = (ROOT / "docs" / "TRIAGE.md").read_text(encoding="utf-8")
    rendered, found = replace_block(doc, HELDOUT_AREA, render_heldout(runs))
    assert found and rendered == doc, "run `python -m assistant.evals.triage_report`"


def test_the_kept_runs_hold_metrics_only() -> None:
    for path in (ROOT / "docs" / "triage_runs" / "heldout").glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        assert set(data) == {
            "set",
            "code",
            "when",
            "vignettes",
            "vignettes_sha256",
            "n",
            "triage",
            "baselines",
        }, path.name


def test_the_command_says_when_the_doc_has_no_block(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = tmp_path / "TRIAGE.md"
    doc.write_text("# no block here\n", encoding="utf-8")
    assert triage_report.main([str(doc)]) == 2
    assert "generated:eval-triage-heldout" in capsys.readouterr().err
