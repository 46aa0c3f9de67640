"""`bench startup`: which cold commands it times, and where their inputs come from."""

from __future__ import annotations

from pathlib import Path

from assistant.bench import runner as bench
from assistant.core.config import Settings, load_settings


def test_cold_commands_cover_the_issue_list_with_real_inputs(
    settings: Settings, tmp_path: Path
) -> None:
    cmds = bench.cold_commands(settings, tmp_path)
    assert {"ask (no model)", "kb search", "ner", "history", "cases"} <= set(cmds)
    ner_args, _ = cmds["ner"]
    assert Path(ner_args[-1]).read_text() == bench.COLD_REPORT
    assert cmds["kb search"][1] is True  # reads the built knowledge base
    assert not any(user for name, (_, user) in cmds.items() if name != "kb search")
    assert set(bench.FLOORS) == {"python -c pass", "import numpy", "import assistant.cli"}


def test_classify_is_timed_on_a_packaged_sample_when_one_is_fetched(tmp_path: Path) -> None:
    cache = tmp_path / "models"
    settings = load_settings(None, environ={}, models={"cache_dir": str(cache)})
    assert "classify" not in bench.cold_commands(settings, tmp_path)
    sample = cache / "xception-pneumonia-0.3.0" / "samples" / "NORMAL" / "a.jpeg"
    sample.parent.mkdir(parents=True)
    sample.write_bytes(b"\xff\xd8\xff")
    assert bench.cold_commands(settings, tmp_path)["classify"][0] == ["classify", str(sample)]
