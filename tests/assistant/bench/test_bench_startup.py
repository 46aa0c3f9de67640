"""`bench startup`: which cold commands it times, and where their inputs come from."""

from __future__ import annotations

import json
import subprocess
import sys
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


def test_the_docs_table_is_rendered_from_the_bench_json(tmp_path: Path) -> None:
    row = {"median_s": 1.234, "min_s": 1.1, "max_s": 1.9, "over_floor_s": 1.2}
    result = {
        "machine": {"date": "2026-11-30T03:00:00+00:00", "cores": 2},
        "startup": {
            "commands": {
                "python -c pass": {**row, "median_s": 0.03, "over_floor_s": 0.0},
                "ner": {**row, "cpu_s": 0.987},
                "something new": row,
            },
            "failed": {"kb search": "error: the knowledge base is empty"},
            "reps": 7,
            "load_before": [0.5, 0.4, 0.3],
            "load_after": [0.9, 0.5, 0.3],
        },
    }
    table = bench.startup_markdown(result)
    assert "load average 0.5 before and 0.9 after, median of 7 rounds" in table
    assert "| `ner REPORT` | **1.23 s** (1.10–1.90) | 1.20 s | 0.99 s |" in table
    assert "| something new | **1.23 s** (1.10–1.90) | 1.20 s |  |" in table  # no CPU recorded
    assert "| something new | **1.23 s**" in table
    assert "not measured: error: the knowledge base is empty" in table
    doc = tmp_path / "BENCH.md"
    doc.write_text(
        "before\n<!-- generated:eval-bench-startup -->\nold\n<!-- /generated:eval-bench-startup -->\n"
    )
    src = tmp_path / "startup.json"
    src.write_text(json.dumps(result))
    subprocess.run([sys.executable, "-m", "assistant.bench.runner", str(src), str(doc)], check=True)
    assert table in doc.read_text() and "old" not in doc.read_text()
