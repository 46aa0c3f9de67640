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


def _record() -> dict[str, object]:
    """Three stories played with the emergency raise off, and the net's readings at each turn."""
    results = [
        {"id": "a", "gold": "emergency", "pred": "urgent"},
        {"id": "b", "gold": "Self-care", "pred": "self_care"},
        {"id": "c", "gold": "urgent", "pred": "urgent"},
    ]
    log = [
        {"id": "a", "words": 30, "rules": "routine", "p_em": 0.2},
        {"id": "a", "words": 40, "rules": "urgent", "p_em": 0.8},  # a later turn raises
        {"id": "b", "words": 6, "rules": "urgent", "p_em": 0.9},  # a one-line question
        {"id": "c", "words": 50, "rules": "routine", "p_em": 0.6},
        {"id": "c", "words": 60, "rules": "urgent", "p_em": None},  # the net was off
    ]
    return {"results": results, "log": log}


def test_an_emergency_raise_is_simulated_from_the_recorded_readings() -> None:
    rec = _record()
    off = loso.simulate(rec, None)
    assert off["emergency_recall"] == 0.0 and off["false_emergencies"] == 0
    plain = loso.simulate(rec, 0.5)
    assert plain["emergency_recall"] == 1.0 and plain["false_emergencies"] == 2
    assert plain["emergency_or_urgent_to_self_care"] == 0
    # a minimum story length keeps the one-line question; the rules' agreement keeps story c
    assert loso.simulate(rec, 0.5, min_words=10)["false_emergencies"] == 1
    guarded = loso.simulate(rec, 0.5, ("urgent",), 10)
    assert guarded["false_emergencies"] == 0 and guarded["emergency_recall"] == 1.0
    assert guarded["accuracy"] == 1.0
    # a higher threshold than any reading of a: its emergency is missed
    assert loso.simulate(rec, 0.85)["emergency_recall"] == 0.0


def test_the_net_table_compares_before_and_after_per_set_and_pooled(tmp_path: Path) -> None:
    import json

    for folder in ("before", "after"):
        (tmp_path / folder).mkdir()
        for name in loso.NET_SETS:
            (tmp_path / folder / f"{name}.json").write_text(json.dumps(_record()))
    rule = {"threshold": 0.5, "rule_levels": ("urgent",), "min_words": 10}
    runs = [
        ("before", tmp_path / "before", {"threshold": 0.5}, True),
        ("after", tmp_path / "after", rule, True),
        ("off", tmp_path / "before", {"threshold": None}, False),
    ]
    table = loso.net_table(runs, ["b", "i"])
    assert "| before: P(em) ≥ 0.5 | set b | 3 | 33.3% |" in table
    assert (
        "| after: P(em) ≥ 0.5, rules' own level urgent, story ≥ 10 words | set i | 3 | 100.0% |"
        in table
    )
    assert "| off: no emergency raise | pooled | 6 |" in table
    assert table.count("\n") == 2 + 3 + 3 + 1
