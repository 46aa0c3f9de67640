"""Fuzzing the user-document reader of `kb ingest` (Markdown, text, HTML, PDF): a file either
becomes chunks or a DocumentError with one clean line, never an internal error."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from knowledge.kb.sources import DocumentError
from knowledge.kb.sources.documents import DocumentSource
from tests.fuzzing import (
    FUZZ,
    PDF_MAGIC,
    behind,
    check_line,
    mutated,
    parse_or_user_error,
    pdf_files,
    truncated,
)

HTML_BITS = st.sampled_from(
    [
        "<html>",
        "<head><title>T</title></head>",
        "<body>",
        "<h1>Effusion</h1>",
        "<p>",
        "</p>",
        "<script>x()</script>",
        "<![CDATA[x]]>",
        "<![if !IE]>",
        "<!-- c -->",
        "<!DOCTYPE html>",
        "&amp;",
        "&#x2603;",
        "&bogus;",
        "<br/>",
        "<a href='x'>",
        "</div>",
        "<",
        ">",
        "</",
        "<!",
        "<?xml?>",
        "Pleural effusion is fluid. ",
    ]
)


def ingest(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"doc{suffix}"
        path.write_bytes(data)
        source = parse_or_user_error(lambda: DocumentSource(path))
        if source is not None:
            assert list(source.chunks())


def test_malformed_html_is_a_document_error(tmp_path: Path) -> None:
    """html.parser raises AssertionError on an unknown marked section: it escaped before."""
    path = tmp_path / "page.html"
    path.write_text("<html><body><![foo[ Pleural effusion ]]></body></html>")
    with pytest.raises(DocumentError) as info:
        DocumentSource(path)
    check_line(info.value.message)
    assert "malformed" in info.value.message


def test_unreadable_file_is_a_document_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "notes.md"
    path.write_text("# Effusion\n\nFluid.")

    def denied(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", denied)  # tests run as root: chmod alone won't do
    with pytest.raises(DocumentError, match="cannot read the file"):
        DocumentSource(path)


@FUZZ
@given(st.lists(HTML_BITS, max_size=30).map("".join))
def test_html_soup(html: str) -> None:
    ingest(html.encode(), ".html")


@FUZZ
@given(st.binary(max_size=2048), st.sampled_from([".md", ".txt", ".html", ".pdf"]))
def test_random_bytes_in_every_format(data: bytes, suffix: str) -> None:
    ingest(data, suffix)


@FUZZ
@given(st.data())
def test_pdfs_behind_magic_truncated_and_mutated(data: st.DataObject) -> None:
    corpus = tuple(d for _n, d in pdf_files())
    blob = data.draw(
        st.one_of(behind(PDF_MAGIC), truncated(corpus, keep=5), mutated(corpus, keep=5)),
        label="pdf",
    )
    ingest(blob, ".pdf")
