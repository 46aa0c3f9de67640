"""Attachments are parsed once when they arrive, before the case is touched.

A damaged or unreadable file is then bad input like any other (one clear line, exit 2 in the
CLI, nothing stored) instead of a tool failure recorded in the case. The parsers are the same
ones the tools use: images through :func:`tools.imaging.io.load_image`, reports through
:func:`knowledge.nlp.reader.report_from_bytes` (text, PDF text layer, DICOM Structured Report).
"""

from __future__ import annotations

from typing import Literal

from assistant.core.errors import AttachmentError

Kind = Literal["image", "dicom", "report"]


def check_attachment(name: str, data: bytes, kind: Kind) -> Kind:
    """Parse ``data`` as the sniffed ``kind`` and return the kind to route it by (a DICOM file
    without pixel data that holds report text is a ``report``). Raises an
    :class:`~assistant.core.errors.AttachmentError` with one line saying what to do."""
    if kind == "report":
        _check_report(name, data)
        return "report"
    from tools.imaging.errors import NoPixelDataError
    from tools.imaging.io import load_image

    try:
        load_image(data, name)
    except NoPixelDataError as exc:
        if kind != "dicom":
            raise
        try:
            _check_report(name, data)  # a DICOM Structured Report: text, no image
        except AttachmentError:
            raise exc from None
        return "report"
    return kind


def _check_report(name: str, data: bytes) -> None:
    # knowledge.nlp imports spaCy (seconds): only when a report arrives
    from knowledge.nlp.reader import ReportInputError, report_from_bytes

    try:
        report_from_bytes(data, name)
    except ReportInputError as exc:
        raise AttachmentError(f"{name}: {exc.message}") from exc
