"""Many reports at once (``clinassist ner --json|--csv FILE... | FOLDER``).

Files are read like attachments (text, .md, PDF text layer, DICOM SR), processed with
``nlp.pipe`` and written one line per report:

- ``json``: one JSON object per file per line, ``{"file": ..., **extract_entities result}``;
  a file that cannot be read gives ``{"file": ..., "error": "..."}`` on that line instead;
- ``csv``: the CheXpert labeler's layout — a header ``Reports,No Finding,<14 findings>,File``,
  then one row per report: the report text, ``1.0`` positive, ``0.0`` negative, ``-1.0``
  uncertain, blank when not mentioned (No Finding: ``1.0`` or blank); unreadable files are
  reported on stderr, one line each;
- ``text``: the summary and the observations line under each file's name.

The exit code is 0 when every file was read, 2 when any was not (the rest are still processed).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from spacy.language import Language

from assistant.core.types import Echo
from knowledge.nlp.observations import FINDINGS, NO_FINDING, chexpert_row, observations_line
from knowledge.nlp.pipeline import result_of
from knowledge.nlp.reader import ReportInputError, report_from_bytes

FORMATS = ("json", "csv", "text")
REPORT_SUFFIXES = frozenset({".txt", ".md", ".text", ".pdf", ".dcm", ".dicom", ".sr"})
CSV_HEADER = ["Reports", NO_FINDING, *FINDINGS, "File"]
BATCH_SIZE = 64


def collect(args: list[str]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Files named, plus report files inside named folders (sorted, hidden files skipped);
    and (argument, problem) for arguments that are neither."""
    files: list[Path] = []
    problems: list[tuple[str, str]] = []
    for arg in args:
        path = Path(arg).expanduser()
        if path.is_dir():
            inside = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in REPORT_SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not inside:
                problems.append((arg, "this folder holds no report files (.txt, .md, .pdf, .dcm)"))
            files.extend(inside)
        elif path.is_file():
            files.append(path)
        else:
            problems.append((arg, "no such file or folder"))
    return files, problems


def read_report(path: Path, limit: int) -> str:
    """The report text of one file; :class:`ReportInputError` (one line) when it has none."""
    try:
        size = path.stat().st_size
        if size > limit:
            raise ReportInputError(f"{size:,} bytes is over the {limit:,}-byte limit")
        data = path.read_bytes()
    except OSError as exc:
        raise ReportInputError(f"cannot be read ({exc.strerror or type(exc).__name__})") from exc
    return report_from_bytes(data, path.name)


def _readable(
    files: list[Path], limit: int, failed: list[tuple[str, str]]
) -> Iterator[tuple[str, str]]:
    for path in files:
        try:
            yield read_report(path, limit), str(path)
        except ReportInputError as exc:
            failed.append((str(path), exc.message))


def run(
    nlp: Language,
    args: list[str],
    fmt: str,
    *,
    out: Echo,
    err: Echo,
    limit: int,
) -> int:
    """Process every report named in ``args``; returns the exit code (0, or 2 if any failed)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: use {', '.join(FORMATS)}")
    files, problems = collect(args)
    failed: list[tuple[str, str]] = list(problems)
    if fmt == "csv":
        out(_csv_line(CSV_HEADER))
    reported = 0

    def flush_failures() -> None:
        nonlocal reported
        for name, message in failed[reported:]:
            if fmt == "json":
                out(json.dumps({"file": name, "error": message}, ensure_ascii=False))
            else:
                err(f"error: {name}: {message}")
        reported = len(failed)

    flush_failures()
    texts = _readable(files, limit, failed)
    for doc, name in nlp.pipe(texts, as_tuples=True, batch_size=BATCH_SIZE):
        flush_failures()
        result = result_of(doc, doc.text)
        out(_format(fmt, name, doc.text, result))
    flush_failures()
    return 2 if failed else 0


def _format(fmt: str, name: str, text: str, result: dict[str, Any]) -> str:
    if fmt == "json":
        return json.dumps({"file": name, **result, "chars": len(text)}, ensure_ascii=False)
    if fmt == "csv":
        return _csv_line([text, *chexpert_row(result["observations"]), name])
    return f"== {name}\n{result['summary']}\n{observations_line(result['observations'])}"


def _csv_line(row: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(row)
    return buf.getvalue().rstrip("\n")
