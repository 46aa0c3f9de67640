"""Report text from what users send: plain text, .txt/.md, PDF text layer, DICOM SR text.

Every failure is a :class:`ReportInputError` with one line saying what was wrong and what to do.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

from assistant.core.errors import AttachmentError

MAX_REPORT_CHARS = 200_000  # a long discharge summary is ~30k; 5 MB of text is not a report
PDF_MAX_PAGES = 50


class ReportInputError(AttachmentError):
    """The input is not a readable report."""

    code = "E501"


def _binary(data: bytes) -> bool:
    head = data[:4096]
    if b"\x00" in head:
        return True
    printable = sum(32 <= b < 127 or b in (9, 10, 13) or b >= 128 for b in head)
    return printable < 0.9 * len(head)


def pdf_text(data: bytes) -> str:
    """The text layer of a PDF (pypdf); no OCR."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if len(reader.pages) > PDF_MAX_PAGES:
            raise ReportInputError(
                f"this PDF has {len(reader.pages)} pages; send a report of at most {PDF_MAX_PAGES} pages"
            )
        text = "\n\n".join((page.extract_text() or "") for page in reader.pages)
    except ReportInputError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise ReportInputError(
            f"this PDF could not be read ({type(exc).__name__}); send the report as text instead"
        ) from exc
    except Exception as exc:  # pypdf raises many other types on damaged files
        raise ReportInputError(
            f"this PDF is damaged and could not be read ({type(exc).__name__}); "
            "send the report as text instead"
        ) from exc
    if not text.strip():
        raise ReportInputError(
            "this PDF has no text layer (a scan?); paste the report text instead"
        )
    return text


def _sr_items(item: Any, out: list[str], depth: int = 0) -> None:
    if depth > 20:
        return
    name = ""
    if "ConceptNameCodeSequence" in item and len(item.ConceptNameCodeSequence):
        name = str(item.ConceptNameCodeSequence[0].get("CodeMeaning", "") or "")
    if "TextValue" in item:
        text = str(item.TextValue).strip()
        if text:
            out.append(f"{name.upper()}: {text}" if name else text)
    for child in item.get("ContentSequence", []) or []:
        _sr_items(child, out, depth + 1)


def dicom_sr_text(data: bytes) -> str:
    """Text items of a DICOM Structured Report (headed by their concept names)."""
    import pydicom

    out: list[str] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydicom warns about every odd value
            ds = pydicom.dcmread(io.BytesIO(data), force=False)
            _sr_items(ds, out)  # values are parsed lazily: damage can surface here too
    except Exception as exc:  # pydicom raises many types on damaged files
        raise ReportInputError(
            f"this DICOM file is damaged and could not be read ({type(exc).__name__}); "
            "send the report as text instead"
        ) from exc
    if not out:
        raise ReportInputError(
            "this DICOM file has no report text (it is an image, not a Structured Report)"
        )
    return "\n".join(out)


def is_dicom(data: bytes) -> bool:
    return len(data) > 132 and data[128:132] == b"DICM"


def report_from_bytes(data: bytes, name: str = "") -> str:
    """The report text in an attachment (by content, then by name)."""
    if not data:
        raise ReportInputError(
            "the attachment is empty: send a report as text, .txt, .md, .pdf or DICOM SR"
        )
    if data[:5] == b"%PDF-":
        return check_text(pdf_text(data))
    if is_dicom(data):
        return check_text(dicom_sr_text(data))
    if _binary(data):
        raise ReportInputError(
            f"{name or 'the attachment'} is not a text report (binary data): send .txt, .md, .pdf (text layer) or DICOM SR"
        )
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return check_text(data.decode(encoding))
        except UnicodeDecodeError:
            continue
    raise ReportInputError("the report's text encoding is not supported: save it as UTF-8")


def check_text(text: str) -> str:
    """Reject empty and oversized text with a clear message."""
    if not text or not text.strip():
        raise ReportInputError("the report is empty: paste the report text or attach a file")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates from undecodable input
        raise ReportInputError(
            f"the report holds bytes that are not text (at character {exc.start}): "
            "send it as UTF-8 text"
        ) from exc
    if len(text) > MAX_REPORT_CHARS:
        raise ReportInputError(
            f"the report is too long ({len(text):,} characters; at most {MAX_REPORT_CHARS:,}): send one report at a time"
        )
    return text
