"""The triage evaluator: the frozen set, the simulated patient, scoring and the docs table (a
small slice of vignettes; the full run is `clinassist eval triage`)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from importlib import resources
from pathlib import Path

import pytest

from assistant.core.config import Settings
from assistant.evals import triage as E
from assistant.evals import triage_set
from tests.cli_helpers import cli_env, run_cli


def test_the_vignette_set_is_frozen_large_and_varied() -> None:
    data, split = E.load_vignettes()
    raw = resources.files("assistant.data.eval").joinpath("triage_vignettes.yaml").read_bytes()
    assert hashlib.sha256(raw).hexdigest() == split["vignettes_sha256"]
    items = data["vignettes"]
    assert len(items) >= 150 and len({v["id"] for v in items}) == len(items)
    levels = Counter(v["level"] for v in items)
    assert set(levels) == set(E.LEVELS) and min(levels.values()) >= 30
    voices = Counter(v["voice"] for v in items)
    assert voices["lay"] > len(items) / 2 and voices["carer"] >= 20 and voices["clinical"] >= 5
    assert sum(bool(v.get("multi_turn")) for v in items) >= 20
    assert len({v["system"] for v in items}) >= 12
    for v in items:
        assert v["rationale"].strip()
        assert set(v.get("answers") or {}) <= set(data["topics"])
    assert set(split["dev"]).isdisjoint(split["test"])
    assert set(split["dev"]) | set(split["test"]) == {v["id"] for v in items}


@pytest.mark.parametrize("which", ["second", "third"])
def test_the_later_held_out_sets_are_frozen_and_all_test(which: str) -> None:
    data, split = E.load_vignettes(which=which)
    assert len(data["vignettes"]) >= 40 and split["dev"] == []
    assert set(split["test"]) == {v["id"] for v in data["vignettes"]}
    assert set(Counter(v["level"] for v in data["vignettes"])) == set(E.LEVELS)
    main, _ = E.load_vignettes()
    assert not {v["id"] for v in data["vignettes"]} & {v["id"] for v in main["vignettes"]}


def test_a_changed_set_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    real = triage_set._data

    def tampered(name: str) -> bytes:
        raw = real(name)
        return raw + b"\n# edited\n" if name.endswith(".yaml") else raw

    monkeypatch.setattr(triage_set, "_data", tampered)
    with pytest.raises(E.UserError, match="frozen"):
        E.load_vignettes()


def test_the_simulated_patient_follows_the_files_convention() -> None:
    vignette = {"answers": {"breathing": "yes I'm really breathless"}}
    kinds = {"breathing": "yes_no", "chest_pain": "yes_no", "duration": "value"}
    assert E.patient_answer(vignette, ["breathing"], kinds) == "yes I'm really breathless."
    assert E.patient_answer(vignette, ["chest_pain", "duration"], kinds) == "No. I'm not sure."
    assert E.patient_answer(vignette, ["not_in_vocabulary"], kinds) == "No."


def test_scoring() -> None:
    pairs = [
        ("emergency", "emergency"),
        ("urgent", "self_care"),  # unsafe under-triage
        ("routine", "urgent"),  # over-triage
        ("self_care", "self_care"),
        ("self_care", None),  # no level at all counts as under-triage
    ]
    m = E.score(pairs)
    assert m["n"] == 5 and m["accuracy"] == 0.4
    assert m["emergency_recall"] == 1.0 and m["self_care_recall"] == 0.5
    assert m["over_triage_rate"] == 0.2 and m["under_triage_rate"] == 0.4
    assert m["emergency_or_urgent_to_self_care"] == 1
    assert m["confusion"]["urgent"]["self_care"] == 1 and m["confusion"]["self_care"]["none"] == 1
    assert m["accuracy_3_levels"] == 0.6  # routine vs urgent are both "see a doctor"


def test_a_slice_end_to_end_and_the_docs_table(settings: Settings, tmp_path: Path) -> None:
    data, split = E.load_vignettes()
    ids = ["tv003", "tv017", "tv050", "tv124"]  # dev only: emergency via an answer, self-care, ...
    assert set(ids) <= set(split["dev"])
    results, _data, _split = E.run_vignettes(settings, ids)
    items = {v["id"]: v for v in data["vignettes"]}
    by_id = {r["id"]: r for r in results}
    assert by_id["tv003"]["pred"] == "emergency" and by_id["tv003"]["rounds"] >= 1
    block = E.evaluate_split(results, items)
    assert block["triage"]["n"] == 4
    assert set(block["baselines"]) == {"red_flag_rules_alone", "always_see_a_doctor"}
    metrics = {"dev": block, "test": block, "published": E.PUBLISHED}
    md = E.render_markdown(metrics)
    assert E.MARK_START not in md and E.MARK_END not in md  # the writers add the markers
    from assistant.core import evaldocs

    text, found = evaldocs.replace_block(f"{E.MARK_START}\nold\n{E.MARK_END}\n", "triage", md)
    assert found and text.count(E.MARK_START) == 1 and text.count(E.MARK_END) == 1
    assert "red-flag rules alone" in md and "Semigran" in md
    doc = tmp_path / "TRIAGE.md"
    doc.write_text(f"# x\n\n{E.MARK_START}\nOLD-BLOCK\n{E.MARK_END}\n\ntail\n")
    assert (
        E.write_docs(metrics, doc)
        and "OLD-BLOCK" not in doc.read_text()
        and "tail" in doc.read_text()
    )
    png = tmp_path / "c.png"
    assert E.plot_confusion(metrics, png) and png.read_bytes()[:4] == b"\x89PNG"
    (tmp_path / "triage.json").write_text(json.dumps(metrics))


# ---------------------------------------------------------------- --vignettes FILE


def _write_set(path: Path) -> Path:
    path.write_text(
        "vignettes:\n"
        '  - {id: a1, level: emergency, turns: ["my dad\'s face is drooping and his speech is slurred"]}\n'
        '  - {id: a2, level: self_care, turns: ["I have a cold, blocked nose, day 2"], answers: {}}\n'
        '  - {id: a3, level: urgent, turns: ["a dog bit my hand and broke the skin"]}\n'
    )
    return path


def test_another_file_is_all_test_without_a_split(tmp_path: Path) -> None:
    data, split = E.load_file(_write_set(tmp_path / "blind.yaml"))
    assert split["dev"] == [] and split["test"] == ["a1", "a2", "a3"]
    assert "breathing" in data["topics"]  # the shipped topic vocabulary by default
    (tmp_path / "split.json").write_text(json.dumps({"dev": ["a2"], "test": ["a1", "a3"]}))
    _data, split = E.load_file(tmp_path / "blind.yaml", tmp_path / "split.json")
    assert split["dev"] == ["a2"] and split["test"] == ["a1", "a3"]


def test_another_file_in_the_authors_spelling_is_read(tmp_path: Path) -> None:
    path = tmp_path / "blind.yaml"
    path.write_text(
        "topics:\n  breathing: yes_no\n  new_topic: value\n"
        "vignettes:\n"
        "  - {id: 7, level: Self-care, system: ent, voice: lay, who: adult, multi_turn: false,\n"
        "     turns: 'blocked nose', answers: {duration: 3, fever: null}, rationale: r}\n"
        "  - {id: b2, level: ' urgent ', turns: [dog bite, 38]}\n"
    )
    data, split = E.load_file(path)
    first, second = data["vignettes"]
    assert split["test"] == ["7", "b2"]
    assert first["level"] == "self_care" and first["turns"] == ["blocked nose"]
    assert first["answers"] == {"duration": 3} and second["turns"] == ["dog bite", "38"]
    assert second["level"] == "urgent" and second["rationale"] == ""
    assert data["topics"]["new_topic"] == "value" and data["topics"]["duration"] == "value"
    assert E.patient_answer(first, ["duration", "new_topic", "rash"], data["topics"]) == (
        "3. I'm not sure. No."
    )


def test_a_vignette_that_fails_to_play_counts_as_no_level() -> None:
    class Broken:
        def respond(self, *args: object, **kwargs: object) -> None:
            raise RuntimeError("boom")

    lines: list[str] = []
    v = {"id": "x", "level": "urgent", "turns": ["hi"], "rationale": ""}
    result = E.play_safely(Broken(), v, {}, lines.append)
    assert result["pred"] is None and "boom" in result["error"] and "x failed" in lines[0]
    block = E.evaluate_split([result], {"x": v})
    assert block["failed"] == ["x"] and block["triage"]["emergency_or_urgent_to_self_care"] == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("vignettes: [}", "not valid YAML"),
        ("hello: 1\n", "no `vignettes:`"),
        ("vignettes:\n  - {id: x, level: soon, turns: [hi]}\n", "x has level 'soon'"),
        ("vignettes:\n  - {id: x, level: urgent, turns: []}\n", "x has no turns"),
        ("vignettes:\n  - {level: urgent, turns: [a]}\n", "vignette 1 has no id"),
        ("vignettes:\n  - {id: x, level: urgent, turns: [a], answers: [a]}\n", "answers"),
        ("vignettes:\n  - just text\n", "not a mapping"),
        (
            "vignettes:\n  - {id: x, level: urgent, turns: [a]}\n  - {id: x, level: urgent, turns: [b]}\n",
            "unique",
        ),
    ],
)
def test_a_bad_vignette_file_is_one_clear_error(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(content)
    with pytest.raises(E.UserError, match=message):
        E.load_file(bad)
    with pytest.raises(E.UserError, match="cannot read"):
        E.load_file(tmp_path / "missing.yaml")


def test_eval_triage_vignettes_option(settings: Settings, tmp_path: Path) -> None:
    lines: list[str] = []
    metrics = E.evaluate_file(
        settings, tmp_path, _write_set(tmp_path / "blind.yaml"), echo=lines.append
    )
    printed = "\n".join(lines)
    for words in (
        "acc=",
        "emergency recall=",
        "emergency/urgent->self_care or no level=",
        "red flags alone",
    ):
        assert words in printed
    assert "per-level recall: emergency" in printed and "confusion (rows gold" in printed
    m = metrics["file"]["triage"]
    assert m["n"] == 3 and "file_dev" not in metrics
    assert m["confusion"]["emergency"]["emergency"] == 1
    assert (tmp_path / "triage_file.json").exists()
    assert "Vignette file given with --vignettes" in E.render_markdown(metrics)


def test_the_cli_option_reports_bad_input_in_one_line(tmp_path: Path) -> None:

    env = cli_env(tmp_path)
    result = run_cli(env, "eval", "triage", "--vignettes", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "cannot read the vignette file" in lines[0]
    result = run_cli(env, "eval", "safety", "--vignettes", "x.yaml")
    assert result.exit_code == 2
