"""Fuzzing the report reader (text, PDF text layer, DICOM SR): random, truncated and mutated
files give the report text or a ReportInputError with one clean line, nothing else."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from knowledge.nlp.reader import ReportInputError, report_from_bytes
from tests.fuzzing import (
    DICOM_MAGIC,
    FUZZ,
    PDF_MAGIC,
    behind,
    check_line,
    dicom_sr,
    header_then_garbage,
    mutated,
    parse_or_user_error,
    pdf_files,
    text_pdf,
    truncated,
)


def _pdfs() -> tuple[bytes, ...]:
    return tuple(data for _name, data in pdf_files())


def sr_with_unknown_vr() -> bytes:
    """A real SR whose ContentSequence (0040,A730) claims the unknown VR 'Sb': pydicom raises
    NotImplementedError only when the report's items are read."""
    sr = dicom_sr()
    i = sr.index(b"\x40\x00\x30\xa7SQ")
    return sr[: i + 4] + b"Sb" + sr[i + 6 :]


def pdf_with_object_loop() -> bytes:
    """A text PDF with its content stream unterminated and its catalogue misspelt: pypdf's
    repair follows a self-reference and raises LimitReachedError."""
    pdf = text_pdf("Findings: No pneumothorax.")
    return pdf.replace(b"ET\nendstream", b"Eeam").replace(b"/Type /Catalog", b"/Tyte /Catalog")


@pytest.mark.parametrize(
    "data", [sr_with_unknown_vr(), pdf_with_object_loop()], ids=["dicom-sr", "pdf"]
)
def test_damaged_files_that_escaped_the_reader_are_one_clear_line(data: bytes) -> None:
    with pytest.raises(ReportInputError) as info:
        report_from_bytes(data, "report")
    check_line(info.value.message)
    assert "damaged" in info.value.message


def test_the_real_files_read() -> None:
    assert "pleural effusion" in report_from_bytes(dicom_sr(), "sr.dcm")
    for name, data in pdf_files():
        if name != "pillow.pdf":  # image-only: no text layer, said in one line
            assert "pleural effusion" in report_from_bytes(data, name)
    with pytest.raises(ReportInputError, match="no text layer"):
        report_from_bytes(dict(pdf_files())["pillow.pdf"], "scan.pdf")


@FUZZ
@given(st.one_of(behind(PDF_MAGIC), behind(DICOM_MAGIC), st.binary(max_size=2048)))
def test_random_bytes_behind_each_magic_number(data: bytes) -> None:
    parse_or_user_error(lambda: report_from_bytes(data, "fuzz"))


@FUZZ
@given(st.data())
def test_truncated_and_mutated_pdfs(data: st.DataObject) -> None:
    blob = data.draw(
        st.one_of(
            truncated(_pdfs(), keep=5),
            mutated(_pdfs(), keep=5),
            header_then_garbage(_pdfs(), keep=5),
        ),
        label="pdf",
    )
    parse_or_user_error(lambda: report_from_bytes(blob, "mutated.pdf"))


@FUZZ
@given(st.data())
def test_truncated_and_mutated_dicom_srs(data: st.DataObject) -> None:
    corpus = (dicom_sr(), sr_with_unknown_vr())
    blob = data.draw(st.one_of(truncated(corpus, keep=132), mutated(corpus, keep=132)), label="sr")
    parse_or_user_error(lambda: report_from_bytes(blob, "mutated.dcm"))


@FUZZ
@given(st.text(max_size=500), st.sampled_from(["utf-8", "utf-16", "cp1252", "latin-1"]))
def test_any_text_in_any_encoding(text: str, encoding: str) -> None:
    data = text.encode(encoding, errors="replace")
    parse_or_user_error(lambda: report_from_bytes(data, "notes.txt"))
