"""The leave-one-set-out runner's docs tables and its emergency-raise simulation (the runs
themselves are commands)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assistant.evals import triage_loso as loso
from assistant.evals import triage_net as net
from assistant.evals.triage_report import LOSO_BLOCK, render_runs, write_runs
from assistant.evals.triage_set import BLIND_SETS, SETS, set_label


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
    table = render_runs(runs)
    assert "| rolled back | second set | 4 | 75.0% |" in table
    assert "| today | dev split | 4 | 100.0% |" in table
    doc = tmp_path / "T.md"
    doc.write_text(
        f"a\n<!-- generated:{LOSO_BLOCK} -->\nold\n<!-- /generated:{LOSO_BLOCK} -->\nb\n"
    )
    assert write_runs(runs, doc)
    text = doc.read_text()
    assert "old" not in text and text.startswith("a\n") and text.endswith("b\n")
    (tmp_path / "none.md").write_text("no markers")
    assert not write_runs(runs, tmp_path / "none.md")


def test_another_generated_block_can_be_written(tmp_path: Path) -> None:
    runs = [{"label": "net", "b None None": _block(0.5)}]
    doc = tmp_path / "T.md"
    doc.write_text("x\n<!-- generated:net -->\nold\n<!-- /generated:net -->\ny\n")
    assert write_runs(runs, doc, "net")
    assert "| net | set b | 4 | 50.0% |" in doc.read_text() and "old" not in doc.read_text()
    assert not write_runs(runs, doc)  # no eval-triage-loso block in this file


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
    off = net.simulate(rec, None)
    assert off["emergency_recall"] == 0.0 and off["false_emergencies"] == 0
    plain = net.simulate(rec, 0.5)
    assert plain["emergency_recall"] == 1.0 and plain["false_emergencies"] == 2
    assert plain["emergency_or_urgent_to_self_care"] == 0
    # a minimum story length keeps the one-line question; the rules' agreement keeps story c
    assert net.simulate(rec, 0.5, min_words=10)["false_emergencies"] == 1
    guarded = net.simulate(rec, 0.5, ("urgent",), 10)
    assert guarded["false_emergencies"] == 0 and guarded["emergency_recall"] == 1.0
    assert guarded["accuracy"] == 1.0
    # a higher threshold than any reading of a: its emergency is missed
    assert net.simulate(rec, 0.85)["emergency_recall"] == 0.0


def test_round_14s_emergency_rules_need_the_word_net_or_a_longer_story() -> None:
    rec = _record()
    # the members' P(emergency) at each reading: [word net, MiniLM net]
    words = [[0.05, 0.2], [0.3, 0.8], [0.5, 0.9], [0.02, 0.6], [0.0, 0.0]]
    rec["log"] = [{**e, "members": m} for e, m in zip(rec["log"], words, strict=True)]
    # the word net contradicts c (P 0.02 < 0.1): only a stays an emergency (b is 6 words)
    agrees = net.simulate(rec, 0.5, min_words=10, member_floor=(0, 0.1))
    assert agrees["emergency_recall"] == 1.0 and agrees["false_emergencies"] == 0
    assert net.simulate(rec, 0.5, min_words=10, member_floor=(0, 0.4))["emergency_recall"] == 0.0
    # under 45 words P 0.85 is needed: a's 0.8 at 40 words and c's 0.6 at 50 words do not raise
    short = net.simulate(rec, 0.5, min_words=10, shorter=(45, 0.85))
    assert short["emergency_recall"] == 0.0 and short["false_emergencies"] == 1
    # at the boundary (a story of exactly w words) the usual threshold holds
    assert net.simulate(rec, 0.5, min_words=10, shorter=(40, 0.85))["emergency_recall"] == 1.0


def test_the_net_table_compares_before_and_after_per_set_and_pooled(tmp_path: Path) -> None:
    import json

    for folder in ("before", "after"):
        (tmp_path / folder).mkdir()
        for name in net.NET_SETS:
            (tmp_path / folder / f"{name}.json").write_text(json.dumps(_record()))
    rule = {"threshold": 0.5, "rule_levels": ("urgent",), "min_words": 10}
    runs = [
        ("before", tmp_path / "before", {"threshold": 0.5}, True),
        ("after", tmp_path / "after", rule, True),
        ("off", tmp_path / "before", {"threshold": None}, False),
    ]
    table = net.net_table(runs, ["b", "i"])
    assert "| before: P(em) ≥ 0.5 | set b | 3 | 33.3% |" in table
    assert (
        "| after: P(em) ≥ 0.5, rules' own level urgent, story ≥ 10 words | set i | 3 | 100.0% |"
        in table
    )
    assert "| off: no emergency raise | pooled | 6 |" in table
    assert table.count("\n") == 2 + 3 + 3 + 1


def test_every_set_is_named_once_with_its_label() -> None:
    assert set_label("main:dev") == "dev split" and set_label("main:test") == "test split"
    assert set_label("second") == "second set" and set_label("l") == "set l"
    assert set_label("mine.yaml") == "mine.yaml" and set_label("second:test") == "second:test"
    assert all(set_label(name) == s.label for name, s in SETS.items())
    assert set(BLIND_SETS) == set(SETS) - {"main", "second", "third"}
    # round 10's sets: the other authors' sets among the net's training and --extra sets
    assert net.NET_SETS == ("b", "c", "d", "e", "f", "g", "h", "i")


def test_the_command_writes_the_tables_or_says_which_block_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    run = tmp_path / "run.json"
    run.write_text(json.dumps({"label": "x", "c None None": _block(0.5)}))
    doc = tmp_path / "T.md"
    doc.write_text(f"<!-- generated:{LOSO_BLOCK} -->\n<!-- /generated:{LOSO_BLOCK} -->\n")
    assert loso.main(["--render", str(doc), str(run)]) == 0
    assert "| x | set c | 4 | 50.0% |" in doc.read_text()
    for folder in ("nets", "extra"):
        (tmp_path / folder).mkdir()
        for name in net.NET_SETS:
            (tmp_path / folder / f"{name}.json").write_text(json.dumps(_record()))
    args = ["--net-table", str(doc), str(tmp_path / "nets"), str(tmp_path / "extra")]
    with pytest.raises(SystemExit) as exit_:
        loso.main(args)
    assert exit_.value.code == 2 and net.NET_BLOCK in capsys.readouterr().err
    doc.write_text(f"a\n<!-- generated:{net.NET_BLOCK} -->\n<!-- /generated:{net.NET_BLOCK} -->\n")
    assert loso.main(args) == 0
    text = doc.read_text()
    assert (
        text.startswith("a\n") and "| before (8 training sets): P(em) ≥ 0.5 | set b | 3 |" in text
    )
    assert text.count("| pooled |") == 9
    with pytest.raises(SystemExit):
        loso.main([])
    assert "--set is required" in capsys.readouterr().err


def test_part_ds_variants_veto_or_raise_the_bar_of_the_shipped_emergency_raise() -> None:
    rec = _record()
    # [word net, MiniLM net] at each reading; a's raising reading: word 0.25, MiniLM 0.8, rules
    # urgent; c's: word 0.15, MiniLM 0.6, rules routine (gold urgent: a false emergency)
    words = [[0.05, 0.2], [0.25, 0.8], [0.5, 0.9], [0.15, 0.6], [0.0, 0.0]]
    rec["log"] = [{**e, "members": m} for e, m in zip(rec["log"], words, strict=True)]

    def play(name: str) -> tuple[float, int]:
        m = net.simulate(rec, **{**net.NET13_RULE, **net.NET14_RULES[name]})
        return m["emergency_recall"], m["false_emergencies"]

    assert play("word-agrees") == (1.0, 1)  # the shipped raise: both raised
    assert play("word-0.2") == (1.0, 0)  # c vetoed, a kept
    assert play("word-0.3") == (0.0, 0)  # a vetoed too
    assert play("minilm-0.6") == (1.0, 1)  # c's 0.6 is at the bar
    assert play("minilm-0.7") == (1.0, 0)
    assert play("rules-urgent") == (1.0, 0)  # c's rules said routine
    assert play("rules-not-home") == (1.0, 1)
    # lukewarm vetoes only when word < 0.3 and MiniLM < 0.6: c's MiniLM 0.6 is not lukewarm
    assert play("lukewarm") == (1.0, 1)
    assert play("off") == (0.0, 0)
    # every part D variant keeps the shipped word net's veto (at 0.1 or higher)
    for name in ("minilm-0.6", "minilm-0.7", "rules-urgent", "rules-not-home"):
        assert net.NET14_RULES[name]["member_floor"] == (0, 0.1)
    # the rules' self-care level at the reading is no ground for rules-not-home
    rec["log"][3]["rules"] = "self_care"
    assert play("rules-not-home") == (1.0, 0)
    # both lukewarm (word 0.15, MiniLM 0.55): c vetoed; a's MiniLM 0.8 stands
    rec["log"][3]["members"] = [0.15, 0.55]
    rec["log"][3]["p_em"] = 0.55
    assert play("lukewarm") == (1.0, 0)
    # a word net at 0.3 is not lukewarm: c is raised again
    rec["log"][3]["members"] = [0.3, 0.55]
    assert play("lukewarm") == (1.0, 1)


def test_p1_is_the_lukewarm_veto_at_the_values_the_product_would_read() -> None:
    """Round 15's P1 (written down before sets w and x): the shipped raise, dropped when the word
    net reads P(emergency) below 0.3 and the MiniLM net below 0.6; the simulation reads the
    same values as the members' ``emergency_lukewarm`` would."""
    from assistant.evals.triage_train import EMERGENCY_LUKEWARM

    assert EMERGENCY_LUKEWARM == {"tfidf-words": 0.3, "minilm": 0.6}
    assert net.NET14_RULES["P1"] == net.NET14_RULES["lukewarm"]
    assert net.NET14_RULES["P1"]["member_floor"] == net.SHIPPED_VETO["member_floor"]
    rec = _record()
    # c's raising reading (gold urgent): its word net and MiniLM net readings vary below
    words = [[0.05, 0.2], [0.25, 0.8], [0.5, 0.9], [0.29, 0.59], [0.0, 0.0]]
    rec["log"] = [{**e, "members": m} for e, m in zip(rec["log"], words, strict=True)]
    rec["log"][3]["p_em"] = 0.59

    def play(rule: str) -> tuple[float, int]:
        m = net.simulate(rec, **{**net.NET13_RULE, **net.NET14_RULES[rule]})
        return m["emergency_recall"], m["false_emergencies"]

    assert play("word-agrees") == (1.0, 1)  # D2 raises c
    assert play("P1") == (1.0, 0)  # both lukewarm: c vetoed, a (word 0.25, MiniLM 0.8) stands
    rec["log"][3]["members"] = [0.3, 0.59]  # the word net at its value: not lukewarm
    assert play("P1") == (1.0, 1)
    rec["log"][3]["members"], rec["log"][3]["p_em"] = [0.29, 0.6], 0.6  # MiniLM at its value
    assert play("P1") == (1.0, 1)
    rec["log"][3]["members"] = [0.05, 0.6]  # the shipped veto (word < 0.1) still stands
    assert play("P1") == (1.0, 0)


def test_a_false_learned_urgent_is_one_the_rules_did_not_give() -> None:
    """Round 15 counts the urgent raise's false ones: urgent where the gold level is lower and the
    rules' own level at the story's last reading was lower too; a table of such rows shows them."""
    rec = _record()
    rec["results"][2]["gold"] = "routine"  # type: ignore[index]
    off = net.simulate(rec, None)
    assert off["false_urgent"] == 0  # c's rules said urgent at its last reading
    rec["log"][4]["rules"] = "routine"  # type: ignore[index]
    assert net.simulate(rec, None)["false_urgent"] == 1
    # raised to emergency, c is a false emergency and no longer a false urgent
    raised = net.simulate(rec, 0.5, min_words=10)
    assert (raised["false_urgent"], raised["false_emergencies"]) == (0, 1)
    new = net.render_net([("U", "s", {**off, "false_urgent": 1})])
    assert new.splitlines()[0].endswith("| learned urgent, gold lower |")
    assert new.splitlines()[2].endswith("| 0 | 1 |")
    old = {k: v for k, v in off.items() if k != "false_urgent"}
    assert "learned urgent" not in net.render_net([("C6", "s", old)])


def _urgent_record() -> dict[str, Any]:
    """Readings of a play with the shipped urgent raise: [word net, MiniLM] P(today)."""
    results = [
        {"id": "a", "gold": "self_care", "pred": "urgent"},
        {"id": "b", "gold": "urgent", "pred": "urgent"},
        {"id": "c", "gold": "routine", "pred": "routine"},
    ]
    log = [
        {"id": "a", "words": 30, "rules": "self_care", "p_em": 0.1, "today": [0.2, 0.75]},
        {"id": "a", "words": 40, "rules": "self_care", "p_em": 0.1, "today": [0.4, 0.75]},
        {"id": "b", "words": 20, "rules": "routine", "p_em": 0.2, "today": [0.5, 0.85]},
        {"id": "c", "words": 20, "rules": "routine", "p_em": 0.1, "today": [0.1, 0.6]},
    ]
    for e in log[:3]:
        e["raise"] = "urgent"
    log[3]["raise"] = None
    return {"results": results, "log": log}


def test_a_stricter_urgent_raise_replays_only_the_stories_whose_first_raise_it_vetoes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    rec = _urgent_record()
    # U1: a's first raise had the word net at 0.2 (a later 0.4 does not matter: the play has
    # changed by then); b's both nets at 0.3 or more; c was never raised
    assert net.urgent_changed(rec, net.URGENT_RULES["U1"]) == ["a"]
    # U2: the MiniLM net at 0.8: a (0.75) changes, b (0.85) does not
    assert net.urgent_changed(rec, net.URGENT_RULES["U2"]) == ["a"]
    rec["log"][2]["today"] = [0.85, 0.1]  # the word net raises b alone, from 15 words: kept
    assert net.urgent_changed(rec, net.URGENT_RULES["U2"]) == ["a"]
    rec["log"][2]["words"] = 14
    assert net.urgent_changed(rec, net.URGENT_RULES["U2"]) == ["a", "b"]
    again = {
        "results": [{"id": "a", "gold": "self_care", "pred": "self_care"}],
        "log": [{"id": "a", "words": 30, "rules": "self_care", "p_em": 0.1, "raise": None}],
    }
    merged = net.with_replayed(rec, again)
    assert [r["id"] for r in merged["results"]] == ["b", "c", "a"]
    assert [e["id"] for e in merged["log"]] == ["b", "c", "a"]
    assert merged["results"][-1]["pred"] == "self_care"
    # the command: only the changed stories are played, into the record of the rest
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "s.json").write_text(json.dumps(_urgent_record()))
    played: list[tuple[str, object]] = []

    def fake_play(name: str, weights: Path, only: object = None) -> dict[str, Any]:
        played.append((name, only))
        return again

    monkeypatch.setattr(loso, "record_play", fake_play)
    out = tmp_path / "u1"
    args = ["--record", str(out), "--classifier", str(tmp_path / "w.json"), "--set", "s"]
    assert loso.main([*args, "--replay", f"{tmp_path / 'base'}@U1"]) == 0
    assert played == [("s", ["a"])]
    kept = json.loads((out / "s.json").read_text())
    assert {r["id"]: r["pred"] for r in kept["results"]} == {
        "a": "self_care",
        "b": "urgent",
        "c": "routine",
    }
    with pytest.raises(SystemExit):
        loso.main([*args, "--replay", f"{tmp_path / 'base'}@U9"])


def test_a_summary_may_be_of_other_sets_and_tables_join_summaries(tmp_path: Path) -> None:
    import json

    (tmp_path / "st").mkdir()
    rec = _record()
    rec["log"] = [{**e, "members": [0.3, e["p_em"]]} for e in rec["log"]]  # type: ignore[attr-defined]
    for name in ("s", "t"):
        (tmp_path / "st" / f"{name}.json").write_text(json.dumps(rec))
    out = tmp_path / "st.json"
    args = [
        "--net-summary",
        str(out),
        f"E1*={tmp_path / 'st'}@word-0.2",
        "--set",
        "s",
        "--set",
        "t",
    ]
    assert loso.main(args) == 0
    rows = json.loads(out.read_text())
    assert [(r["candidate"], r["set"]) for r in rows] == [
        ("E1", "s"),
        ("E1", "t"),
        ("E1", "pooled"),
    ]
    # without --set the sets are b to l: a folder without them is an error
    with pytest.raises(FileNotFoundError):
        loso.main(["--net-summary", str(out), f"E1={tmp_path / 'st'}"])
    other = tmp_path / "other.json"
    other.write_text(json.dumps([{**rows[-1], "candidate": "D2"}]))
    doc = tmp_path / "T.md"
    doc.write_text("x\n<!-- generated:later -->\n<!-- /generated:later -->\n")
    joined = f"{out},{other}"
    assert loso.main(["--net-summary-table", str(doc), joined, "--block", "later"]) == 0
    text = doc.read_text()
    assert text.index("| E1 | pooled |") < text.index("| D2 | pooled |")
    assert "| E1 | set s |" in text


def test_round_13s_candidates_are_kept_as_metrics_and_rendered(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    for folder in ("a", "c4"):
        (tmp_path / folder).mkdir()
        for name in net.NET13_SETS:
            (tmp_path / folder / f"{name}.json").write_text(json.dumps(_record()))
    out = tmp_path / "summary.json"
    pairs = [f"A, before*={tmp_path / 'a'}", f"C4={tmp_path / 'c4'}"]
    assert loso.main(["--net-summary", str(out), *pairs]) == 0
    rows = json.loads(out.read_text())
    # per set for a label ending in '*', pooled for every candidate; metrics only, no story
    assert [(r["candidate"], r["set"]) for r in rows][-2:] == [
        ("A, before", "pooled"),
        ("C4", "pooled"),
    ]
    assert len(rows) == len(net.NET13_SETS) + 2
    assert all(set(r) == {"candidate", "set", *net._KEPT} for r in rows)
    # the shipped emergency raise (P >= 0.5, 15 words): only story c's 50-word reading raises
    pooled = rows[-1]
    assert pooled["n"] == 3 * len(net.NET13_SETS)
    assert pooled["false_emergencies"] == len(net.NET13_SETS)
    doc = tmp_path / "T.md"
    doc.write_text(
        f"x\n<!-- generated:{net.NET13_BLOCK} -->\n<!-- /generated:{net.NET13_BLOCK} -->\n"
    )
    assert loso.main(["--net-summary-table", str(doc), str(out)]) == 0
    assert (
        "| candidate | set | n |" in doc.read_text() and "| C4 | pooled | 33 |" in doc.read_text()
    )
    # a later round's table goes into its own block (--block); a missing block is an error
    doc.write_text("y\n<!-- generated:later -->\n<!-- /generated:later -->\n")
    assert loso.main(["--net-summary-table", str(doc), str(out), "--block", "later"]) == 0
    assert "| C4 | pooled | 33 |" in doc.read_text()
    with pytest.raises(SystemExit):
        loso.main(["--net-summary-table", str(doc), str(out), "--block", "absent"])
    assert "generated:absent" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        loso.main(["--net-summary", str(out), "no-pair"])
    assert "LABEL=DIR" in capsys.readouterr().err
    # LABEL=DIR@RULE: a round-14 variant of the emergency raise (the records' log has no
    # members' readings here, so the word net's agreement is asked of none: a rule's name only)
    assert loso.main(["--net-summary", str(out), f"D3={tmp_path / 'c4'}@short-0.6"]) == 0
    (d3,) = json.loads(out.read_text())
    assert d3["candidate"] == "D3" and d3["false_emergencies"] == len(net.NET13_SETS)
    with pytest.raises(SystemExit):
        loso.main(["--net-summary", str(out), f"D9={tmp_path / 'c4'}@no-such-rule"])
    assert "word-agrees" in capsys.readouterr().err


def test_the_docs_round_13_table_is_the_kept_summary() -> None:
    import json

    root = Path(__file__).resolve().parents[3]
    rows = json.loads((root / "docs/triage_runs/round13_net.json").read_text(encoding="utf-8"))
    doc = (root / "docs/triage/round13.md").read_text(encoding="utf-8")
    block = doc.split(f"<!-- generated:{net.NET13_BLOCK} -->")[1]
    block = block.split(f"<!-- /generated:{net.NET13_BLOCK} -->")[0]
    assert block.strip() == net.render_summary(rows).strip()


def test_the_docs_round_14_table_is_the_kept_summary() -> None:
    import json

    root = Path(__file__).resolve().parents[3]
    rows = json.loads((root / "docs/triage_runs/round14_net.json").read_text(encoding="utf-8"))
    doc = (root / "docs/triage/round14.md").read_text(encoding="utf-8")
    block = doc.split("<!-- generated:eval-triage-net-round14 -->")[1]
    block = block.split("<!-- /generated:eval-triage-net-round14 -->")[0]
    assert block.strip() == net.render_summary(rows).strip()
    # the shipped candidate: no emergency lost and no more sent home than C6, fewer false
    # emergencies, pooled
    pooled = {r["candidate"].split(" ")[0]: r for r in rows if r["set"] == "pooled"}
    c6, d2 = pooled["C6"], pooled["D2"]
    assert d2["emergency_recall"] >= c6["emergency_recall"]
    assert d2["emergency_or_urgent_to_self_care"] <= c6["emergency_or_urgent_to_self_care"]
    assert d2["false_emergencies"] < c6["false_emergencies"]


def test_a_record_switches_every_emergency_raise_off_and_names_the_members_that_raise() -> None:
    from tools.triage.classifier import _model

    raw = {
        "emergency_threshold": 0.5,
        "members": [{"emergency_threshold": None}, {}, {"emergency_threshold": 0.5}],
    }
    assert net.emergency_off(raw) == [1, 2]
    assert raw["emergency_threshold"] is None
    assert all(m["emergency_threshold"] is None for m in raw["members"])
    # a single net: no members; its own raise is switched off
    single = {"emergency_threshold": 0.5}
    assert net.emergency_off(single) == [] and single["emergency_threshold"] is None
    # a member raising at its own threshold cannot be judged at the ensemble's
    with pytest.raises(ValueError, match="own threshold"):
        net.emergency_off({"emergency_threshold": 0.5, "members": [{"emergency_threshold": 0.6}]})
    # the shipped file: only the MiniLM member raises to emergency, at the shipped threshold
    import json

    root = Path(__file__).resolve().parents[3]
    shipped = json.loads((root / "tools/triage/data/classifier.json").read_text(encoding="utf-8"))
    kinds = [m["features"] for m in shipped["members"]]
    assert [kinds[i] for i in net.emergency_off(shipped)] == ["minilm"]
    assert _model(shipped).members[1].emergency_threshold is None


def test_the_docs_part_d_table_is_the_kept_summaries_and_d2_stays() -> None:
    import json

    root = Path(__file__).resolve().parents[3]
    runs = root / "docs/triage_runs"
    rows = [
        r
        for f in ("round14d_bl.json", "round14d_st.json")
        for r in json.loads((runs / f).read_text(encoding="utf-8"))
    ]
    doc = (root / "docs/triage/round14.md").read_text(encoding="utf-8")
    block = doc.split("<!-- generated:eval-triage-net-round14d -->")[1]
    block = block.split("<!-- /generated:eval-triage-net-round14d -->")[0]
    assert block.strip() == net.render_summary(rows).strip()
    # no candidate kept every emergency of D2 on b to l: the shipped setting stays D2's
    pooled = {r["candidate"]: r for r in rows if r["set"] == "pooled"}
    d2 = pooled["D2 (shipped), b-l folds"]
    for label, r in pooled.items():
        if label.startswith("E") and label.endswith("b-l folds"):
            assert r["emergency_recall"] < d2["emergency_recall"]


def _round15_rows(files: tuple[str, ...]) -> list[dict[str, Any]]:
    import json

    runs = Path(__file__).resolve().parents[3] / "docs/triage_runs"
    return [r for f in files for r in json.loads((runs / f).read_text(encoding="utf-8"))]


def _round15_block(block: str) -> str:
    root = Path(__file__).resolve().parents[3]
    doc = (root / "docs/triage/round15-net.md").read_text(encoding="utf-8")
    return doc.split(f"<!-- generated:{block} -->")[1].split(f"<!-- /generated:{block} -->")[0]


def test_round_15s_p1_table_is_the_kept_summaries_and_p1_passed_as_written() -> None:
    rows = _round15_rows(("round15a_wx.json", "round15a_bl.json", "round15a_st.json"))
    assert _round15_block("eval-triage-net-round15a").strip() == net.render_summary(rows).strip()
    by = {
        (r["candidate"].split(",")[0].split(":")[0], r["candidate"].split(", ")[-1], r["set"]): r
        for r in rows
    }
    # the pre-registered acceptance on w and x: no emergency lost, none more sent home (per set
    # and pooled), fewer false emergencies pooled; and no emergency lost on b-l or s, t
    for s in ("w", "x", "pooled"):
        d2, p1 = by[("D2 (shipped before)", "w and x", s)], by[("P1", "w and x", s)]
        assert p1["emergency_recall"] >= d2["emergency_recall"]
        assert p1["emergency_or_urgent_to_self_care"] <= d2["emergency_or_urgent_to_self_care"]
    assert (
        by[("P1", "w and x", "pooled")]["false_emergencies"]
        < by[("D2 (shipped before)", "w and x", "pooled")]["false_emergencies"]
    )
    for where in ("b-l folds", "s and t"):
        d2, p1 = by[("D2 (shipped before)", where, "pooled")], by[("P1", where, "pooled")]
        assert p1["emergency_recall"] >= d2["emergency_recall"]


def test_round_15s_urgent_table_is_the_kept_summaries_and_no_candidate_passed() -> None:
    files = ("round15b_bl.json", "round15b_st.json", "round15b_wx.json")
    rows = _round15_rows(files)
    assert _round15_block("eval-triage-net-round15b").strip() == net.render_summary(rows).strip()
    # each stricter urgent raise sends one more urgent story home on some set than the fresh
    # plays: neither ships, and the shipped file keeps no urgent veto
    base = {(r["candidate"].split(", ")[-1], r["set"]): r for r in rows if r["candidate"][0] == "D"}
    for name in ("U1", "U2"):
        worse = [
            r["set"]
            for r in rows
            if r["candidate"].startswith(name)
            and r["emergency_or_urgent_to_self_care"]
            > base[(r["candidate"].split(", ")[-1], r["set"])]["emergency_or_urgent_to_self_care"]
        ]
        assert worse and "pooled" in worse
    from tools.triage.classifier import load

    shipped = load()
    assert shipped is not None and shipped.urgent_agreement == 0.0
    assert [m.threshold for m in shipped.members] == [0.8, 0.7]


def test_round_15s_before_and_after_table_is_the_kept_runs() -> None:
    import json

    root = Path(__file__).resolve().parents[3]
    runs = [
        json.loads((root / "docs/triage_runs" / name).read_text(encoding="utf-8"))
        for name in ("round15_before.json", "round15_after.json")
    ]
    doc = (root / "docs/triage/round15.md").read_text(encoding="utf-8")
    block = "eval-triage-loso15"
    body = doc.split(f"<!-- generated:{block} -->")[1].split(f"<!-- /generated:{block} -->")[0]
    assert body.strip() == render_runs(runs).strip()
    # the round's own claim: no development set lost an emergency or sent more home
    before, after = runs
    for key, row in after.items():
        if isinstance(row, dict) and "triage" in row:
            was, now = before[key]["triage"], row["triage"]
            assert now["emergency_recall"] >= was["emergency_recall"], key
