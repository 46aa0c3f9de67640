"""Evaluation tables are generated into the docs from the eval JSON."""

from __future__ import annotations

import json
from pathlib import Path

from assistant.core import evaldocs
from assistant.evals import runner as evaluation


def test_replace_block_only_touches_its_markers() -> None:
    text = "a\n<!-- generated:eval-x -->\nold\n<!-- /generated:eval-x -->\nb\n"
    new, found = evaldocs.replace_block(text, "x", "| new |")
    assert found and new == "a\n<!-- generated:eval-x -->\n| new |\n<!-- /generated:eval-x -->\nb\n"
    assert evaldocs.replace_block(text, "y", "z") == (text, False)
    again, _ = evaldocs.replace_block(new, "x", "| new |")
    assert again == new  # idempotent


def test_write_docs_renders_each_area_through_its_render_markdown(tmp_path: Path) -> None:
    out, docs = tmp_path / "eval-out", tmp_path / "docs"
    out.mkdir()
    docs.mkdir()
    metrics = {
        "minilm": {"n": 41, "intent_accuracy": 0.951, "tool_accuracy": 0.9, "ms_per_message": 16.1}
    }
    (out / "routing.json").write_text(json.dumps(metrics))
    page = docs / "EVAL.md"
    page.write_text("# x\n<!-- generated:eval-routing -->\n<!-- /generated:eval-routing -->\n")
    lines: list[str] = []
    changed = evaldocs.write_docs(
        ["routing", "safety"], out, docs, entries=evaluation.AREAS, echo=lines.append
    )
    assert changed == [page]
    assert "| 41 | 0.951 | 0.900 | 16.1 |" in page.read_text()
    assert any("safety.json is missing" in line for line in lines)


def test_every_own_area_has_a_renderer() -> None:
    for area in ("routing", "safety", "phi"):
        assert evaldocs.renderer(evaluation.AREAS[area]) is not None
