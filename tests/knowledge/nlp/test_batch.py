"""Batch use: many files/folders -> one JSON object (or CSV row) per report; bad files are
per-file errors, exit code 2; the CLI wires it up."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spacy.language import Language

from knowledge.nlp import batch
from knowledge.nlp.observations import FINDINGS
from tests.cli_helpers import cli_env, run_cli


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    (tmp_path / "a.txt").write_text("FINDINGS: No pneumothorax. Small left pleural effusion.\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.md").write_text("IMPRESSION: Possible pneumonia.")
    (tmp_path / "bad.txt").write_bytes(b"\x00\x01\x02\xff" * 10)
    (tmp_path / ".hidden.txt").write_text("No pneumonia.")
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    return tmp_path


def run(nlp: Language, args: list[str], fmt: str) -> tuple[int, list[str], list[str]]:
    out: list[str] = []
    err: list[str] = []
    code = batch.run(nlp, args, fmt, out=out.append, err=err.append, limit=10_000)
    return code, out, err


def test_json_one_object_per_file_and_error_objects(tiny_nlp: Language, reports: Path) -> None:
    code, out, err = run(tiny_nlp, [str(reports)], "json")
    rows = [json.loads(line) for line in out]
    assert code == 2 and not err
    by_file = {Path(r["file"]).name: r for r in rows}
    assert set(by_file) == {"a.txt", "b.md", "bad.txt"}  # hidden and non-report files skipped
    assert "not a text report" in by_file["bad.txt"]["error"]
    effusion = next(o for o in by_file["a.txt"]["observations"] if o["finding"] == "Effusion")
    assert effusion["status"] == "positive" and by_file["a.txt"]["entities"]
    pneumonia = next(o for o in by_file["b.md"]["observations"] if o["finding"] == "Pneumonia")
    assert pneumonia["status"] == "uncertain"


def test_csv_in_the_chexpert_layout(tiny_nlp: Language, reports: Path) -> None:
    code, out, err = run(tiny_nlp, [str(reports / "a.txt"), str(reports / "sub")], "csv")
    rows = list(csv.reader(io.StringIO("\n".join(out) + "\n")))
    assert code == 0 and not err
    assert rows[0] == ["Reports", "No Finding", *FINDINGS, "File"]
    a = dict(zip(rows[0], rows[1], strict=True))
    assert a["Reports"].startswith("FINDINGS: No pneumothorax")
    assert a["Effusion"] == "1.0" and a["Pneumothorax"] == "0.0" and a["Mass"] == ""
    assert a["No Finding"] == "" and a["File"].endswith("a.txt")
    b = dict(zip(rows[0], rows[2], strict=True))
    assert b["Pneumonia"] == "-1.0"


def test_missing_paths_and_empty_folders_are_one_line_each(
    tiny_nlp: Language, tmp_path: Path
) -> None:
    (tmp_path / "empty").mkdir()
    code, out, err = run(tiny_nlp, [str(tmp_path / "nope"), str(tmp_path / "empty")], "text")
    assert code == 2 and out == []
    assert len(err) == 2 and all(line.startswith("error: ") for line in err)
    assert "no such file" in err[0] and "no report files" in err[1]


def test_unknown_format(tiny_nlp: Language) -> None:
    with pytest.raises(ValueError, match="unknown format"):
        run(tiny_nlp, [], "xml")


def test_cli_batch(
    tiny_nlp: Language, reports: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    monkeypatch.setattr("tools.ner.pipeline", lambda settings, resources: tiny_nlp)
    env = cli_env(tmp_path)
    res = run_cli(env, "ner", "--json", str(reports / "a.txt"), str(reports / "sub"))
    assert res.exit_code == 0, res.stderr
    assert [
        json.loads(line)["file"].endswith(("a.txt", "b.md")) for line in res.stdout.splitlines()
    ] == [
        True,
        True,
    ]
    res = run_cli(env, "ner", "--csv", str(reports / "bad.txt"))
    assert res.exit_code == 2 and res.stdout.startswith("Reports,No Finding,")
    assert res.stderr.startswith("error: ") and "Traceback" not in res.stderr
    res = run_cli(env, "ner", "--csv", "--json", str(reports / "a.txt"))
    assert res.exit_code == 2 and "one of --json and --csv" in res.stderr


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40), max_size=6)
)
def test_csv_lines_round_trip(cells: list[str]) -> None:
    """Any report text (commas, quotes, newlines) survives as one CSV record."""
    cells = [c.replace("\r", "") for c in cells]
    line = batch._csv_line(cells)
    rows = list(csv.reader(io.StringIO(line + "\n")))
    assert rows == [cells]
