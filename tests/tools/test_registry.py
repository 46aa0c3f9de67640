"""The tool registry: lazily imported tools (a command that calls one tool imports only that
tool's module), with the same names, order, errors and schemas as eagerly registered ones."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tools.registry import TOOL_NAMES, ToolRegistry, default_registry


def test_default_registry_lists_the_contract_tools_in_order() -> None:
    assert default_registry().names() == list(TOOL_NAMES)


def test_a_tool_module_is_imported_on_first_use_only() -> None:
    code = (
        "import sys\n"
        "from tools.registry import default_registry\n"
        "r = default_registry()\n"
        "mods = ('tools.image', 'tools.ner', 'tools.knowledge', 'tools.answer', 'tools.triage')\n"
        "assert not [m for m in mods if m in sys.modules], [m for m in mods if m in sys.modules]\n"
        "assert r.spec('extract_entities').name == 'extract_entities'\n"
        "assert 'tools.ner' in sys.modules\n"
        "assert not [m for m in mods[:1] + mods[2:] if m in sys.modules]\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_lazy_and_eager_registries_agree() -> None:
    lazy = default_registry()
    from tools.knowledge import search_knowledge
    from tools.ner import extract_entities

    eager = ToolRegistry([extract_entities, search_knowledge])
    assert lazy.spec("search_knowledge") is eager.spec("search_knowledge")
    assert [s["function"]["name"] for s in lazy.schemas()] == list(TOOL_NAMES)


def test_unknown_and_duplicate_tools() -> None:
    r = default_registry()
    with pytest.raises(KeyError, match="valid tools: classify_image"):
        r.spec("nope")
    with pytest.raises(ValueError, match="already registered"):
        r.register_lazy("triage", "tools.triage:triage")
    rec = r.call("nope", {}, ctx=None)  # type: ignore[arg-type]
    assert not rec.ok and "valid tools" in (rec.error or "")


def test_a_lazy_entry_that_is_not_its_tool_is_refused() -> None:
    r = ToolRegistry()
    r.register_lazy("search_knowledge", "tools.ner:extract_entities")
    with pytest.raises(TypeError, match="is not the tool"):
        r.spec("search_knowledge")
