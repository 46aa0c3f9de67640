"""Cold commands import only what they use: `ner` and `kb search` (answered from the knowledge
base's read snapshot) never import torch, Chroma or LangChain. Each command runs in a fresh
interpreter, as a user's would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = (
    "torch",
    "transformers",
    "sentence_transformers",
    "chromadb",
    "langchain_core",
    "langgraph",
    "presidio_analyzer",
    "llama_cpp",
)

RUNNER = """
import json, os, runpy, sys
sys.argv = ["clinassist", *json.loads(os.environ["LAZY_ARGS"])]
code = 0
try:
    runpy.run_module("assistant", run_name="__main__")
except SystemExit as exc:
    code = exc.code or 0
heavy = json.loads(os.environ["LAZY_HEAVY"])
with open(os.environ["LAZY_OUT"], "w") as fh:
    json.dump({"code": code, "loaded": [n for n in heavy if sys.modules.get(n) is not None]}, fh)
"""


def run_cold(
    tmp_path: Path, args: list[str], env: dict[str, str], heavy: tuple[str, ...] = HEAVY
) -> dict[str, object]:
    out = tmp_path / "loaded.json"
    full = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CLINASSIST_")},
        **env,
        "LAZY_ARGS": json.dumps(args),
        "LAZY_HEAVY": json.dumps(heavy),
        "LAZY_OUT": str(out),
        "OMP_NUM_THREADS": "1",
    }
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER], env=full, capture_output=True, text=True, timeout=300
    )
    assert out.exists(), proc.stderr[-2000:]
    got: dict[str, object] = json.loads(out.read_text())
    assert got["code"] == 0, proc.stderr[-2000:]
    return got


def test_ner_imports_no_torch_chroma_or_langchain(tmp_path: Path, cli_env: dict[str, str]) -> None:
    report = tmp_path / "report.txt"
    report.write_text("No pleural effusion. The patient denies chest pain.\n")
    got = run_cold(tmp_path, ["ner", "--json", str(report)], cli_env)
    assert got["loaded"] == []


def test_ner_imports_no_spacy_command_line(tmp_path: Path, cli_env: dict[str, str]) -> None:
    """spaCy's CLI (jinja2, requests, the training commands), h5py and langcodes' tag tables
    are not needed to read a report (~0.2 s of a cold `ner`)."""
    report = tmp_path / "report.txt"
    report.write_text("No pleural effusion. The patient denies chest pain.\n")
    extras = ("spacy.cli", "jinja2", "requests", "weasel", "h5py", "langcodes.data_dicts")
    got = run_cold(tmp_path, ["ner", "--json", str(report)], cli_env, heavy=extras)
    assert got["loaded"] == []


def test_spacy_imported_without_its_cli_still_has_it() -> None:
    """`spacy.info`, `spacy.cli` read as an attribute (Presidio's model download) and a later
    `import spacy.cli` are the real ones (fresh interpreter)."""
    code = (
        "from assistant.core.importing import import_spacy; import_spacy(); import sys, spacy; "
        "assert 'spacy.cli' not in sys.modules; assert callable(spacy.cli.download); "
        "import spacy.cli; "
        "assert callable(spacy.cli.setup_cli); "
        "assert spacy.info()['spacy_version'] == spacy.__version__; print('ok')"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.stdout.strip().endswith("ok"), proc.stderr[-2000:]


def test_kb_search_from_the_snapshot_imports_no_chroma(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "dyspnea.md").write_text(
        "# Dyspnea\n\nDyspnea is shortness of breath: difficult or laboured breathing.\n"
    )
    (docs / "effusion.md").write_text(
        "# Pleural effusion\n\nA pleural effusion is fluid in the pleural space.\n"
    )
    run_cold(tmp_path, ["kb", "ingest", str(docs)], cli_env)  # writes the snapshot
    assert (tmp_path / "var" / "kb" / "snapshot" / "CURRENT").exists()
    got = run_cold(tmp_path, ["kb", "search", "--json", "shortness of breath"], cli_env)
    assert got["loaded"] == []


def test_ask_imports_no_torch_or_transformers(tmp_path: Path, cli_env: dict[str, str]) -> None:
    """A cold `ask` loads the PHI detector (Presidio over spaCy) before it stores the turn, but
    not Presidio's optional Hugging Face engine (transformers, torch: ~5 s), thinc's torch
    wrappers, or the drug-name package's own search index (its data file is read directly)."""
    heavy = (
        "torch",
        "transformers",
        "sentence_transformers",
        "drug_named_entity_recognition",
        "spacy.cli",
    )
    got = run_cold(tmp_path, ["ask", "--json", "hello"], cli_env, heavy=heavy)
    assert got["loaded"] == []
    presidio = run_cold(tmp_path, ["ask", "hello"], cli_env, heavy=("presidio_analyzer",))
    assert presidio["loaded"] == ["presidio_analyzer"]  # the turn was de-identified by it


@pytest.mark.parametrize(
    "build",
    [
        "from tools.answer.segment import sentences; sentences('One. Two.')",
        "from tools.triage.context import _pipeline; _pipeline()",
    ],
)
def test_spacy_pipelines_built_in_a_turn_import_no_torch(build: str) -> None:
    """The answer tool's sentencizer and triage's ConText pipeline must not import every installed
    package's spaCy factories (Presidio's pulls transformers and torch: ~5 s on a first turn)."""
    code = (
        f"import sys; {build}; "
        "print(sorted(n for n in ('torch', 'transformers') if sys.modules.get(n) is not None))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    assert proc.stdout.strip() == "[]", proc.stderr[-2000:]
