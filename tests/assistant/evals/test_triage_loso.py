"""The leave-one-set-out runner's docs table (the runs themselves are commands)."""

from __future__ import annotations

from pathlib import Path

from assistant.evals import triage_loso as loso


def _block(acc: float) -> dict[str, object]:
    m = {
        "n": 4,
        "accuracy": acc,
        "accuracy_3_levels": 1.0,
        "emergency_recall": 1.0,
        "self_care_recall": 0.5,
        "over_triage_rate": 0.25,
        "under_triage_rate": 0.0,
        "emergency_or_urgent_to_self_care": 0,
    }
    return {
        "triage": m,
        "baselines": {
            "red_flag_rules_alone": {"accuracy": 0.25},
            "always_see_a_doctor": {"accuracy": 0.25},
        },
    }


def test_the_table_has_a_row_per_run_and_set(tmp_path: Path) -> None:
    runs = [
        {"label": "rolled back", "data_rev": "abc", "second None None": _block(0.75)},
        {"data_rev": None, "main:dev None None": _block(1.0), "off": []},
    ]
    table = loso.render_markdown(runs)
    assert "| rolled back | second set | 4 | 75.0% |" in table
    assert "| today | dev split | 4 | 100.0% |" in table
    doc = tmp_path / "T.md"
    doc.write_text(f"a\n{loso.MARK_START}\nold\n{loso.MARK_END}\nb\n")
    assert loso.write_docs(runs, doc)
    text = doc.read_text()
    assert "old" not in text and text.startswith("a\n") and text.endswith("b\n")
    (tmp_path / "none.md").write_text("no markers")
    assert not loso.write_docs(runs, tmp_path / "none.md")


def test_another_generated_block_can_be_written(tmp_path: Path) -> None:
    runs = [{"label": "net", "b None None": _block(0.5)}]
    doc = tmp_path / "T.md"
    doc.write_text("x\n<!-- generated:net -->\nold\n<!-- /generated:net -->\ny\n")
    assert loso.write_docs(runs, doc, "net")
    assert "| net | set b | 4 | 50.0% |" in doc.read_text() and "old" not in doc.read_text()
    assert not loso.write_docs(runs, doc)  # no eval-triage-loso block in this file
