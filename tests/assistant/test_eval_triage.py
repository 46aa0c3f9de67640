"""The triage evaluator: the frozen set, the simulated patient, scoring and the docs table (a
small slice of vignettes; the full run is `clinassist eval triage`)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from importlib import resources
from pathlib import Path

import pytest

from assistant import eval_triage as E
from assistant.config import Settings


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
    real = E._data

    def tampered(name: str) -> bytes:
        raw = real(name)
        return raw + b"\n# edited\n" if name.endswith(".yaml") else raw

    monkeypatch.setattr(E, "_data", tampered)
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
    assert md.startswith(E.MARK_START) and md.endswith(E.MARK_END)
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
