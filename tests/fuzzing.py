"""Fuzzing helpers shared by the parser tests: real files to mutate, hypothesis strategies that
damage them, and the one check every parser must pass (a user error with one clean line).

The real files: pydicom's and pydicom-data's DICOMs (several transfer syntaxes, multi-frame,
colour, a plan without pixels), a DICOM Structured Report written with pydicom,
scikit-learn's two sample photographs (JPEG), PNGs and JPEGs written with Pillow, and PDFs
written three ways (plain and compressed text layer, Pillow's image-only PDF).
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from assistant.core.errors import UserError

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
"""Bounded: every fuzz test stays within a few seconds on two loaded cores."""

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
DICOM_MAGIC = b"\x00" * 128 + b"DICM"
PDF_MAGIC = b"%PDF-1.4\n"

DICOM_FILES = (
    "CT_small.dcm",  # explicit VR little endian, MONOCHROME2
    "MR_small.dcm",
    "MR_small_RLE.dcm",  # RLE lossless
    "SC_rgb_rle.dcm",
    "SC_rgb_small_odd.dcm",  # odd-sized RGB
    "image_dfl.dcm",  # deflated transfer syntax
    "JPEG2000.dcm",  # a codec not installed here: must say so, not crash
    "SC_rgb_jpeg_gdcm.dcm",  # JPEG lossless
    "emri_small.dcm",  # multi-frame
    "rtplan.dcm",  # implicit VR, no pixel data
)


def check_line(message: str) -> None:
    """What a user may be shown: one non-empty, printable, short line, no traceback."""
    assert message.strip(), "empty error message"
    assert "\n" not in message and "\r" not in message, message
    assert "Traceback" not in message, message
    assert message.isprintable(), repr(message)
    assert len(message) <= 400, message


def parse_or_user_error(parse: Callable[[], Any]) -> Any:
    """Run a parser on hostile bytes: it returns, or raises a UserError with one clean line;
    any other exception fails the test (it would reach the user as an internal error)."""
    try:
        return parse()
    except UserError as exc:
        check_line(exc.message)
        return None


@cache
def dicom_bytes(name: str) -> bytes:
    from pydicom.data import get_testdata_file

    path = get_testdata_file(name)
    assert path is not None, f"{name} is not in pydicom's or pydicom-data's test files"
    return Path(str(path)).read_bytes()


def dicom_sr(text: str | None = "No pneumothorax. Small left pleural effusion.") -> bytes:
    """A DICOM Basic Text SR with one TEXT item (no item when ``text`` is None)."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence
    from pydicom.uid import ExplicitVRLittleEndian

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.88.11"
    meta.MediaStorageSOPInstanceUID = "1.2.826.0.1.3680043.8.498.1"
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "SR"
    if text is not None:
        item = Dataset()
        item.ValueType = "TEXT"
        name = Dataset()
        name.CodeMeaning = "Findings"
        item.ConceptNameCodeSequence = Sequence([name])
        item.TextValue = text
        ds.ContentSequence = Sequence([item])
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def corrupt_dicom() -> bytes:
    """A real DICOM (valid preamble and DICM marker) whose Rows element has an odd length:
    pydicom raises BytesLengthException when the value is read."""
    data = dicom_bytes("CT_small.dcm")
    rows = b"\x28\x00\x10\x00US\x02\x00"  # (0028,0010) Rows, US, length 2
    i = data.index(rows)
    return data[: i + 6] + b"\x03\x00" + b"\x00\x02\x07" + data[i + 10 :]


@cache
def image_files() -> tuple[tuple[str, bytes], ...]:
    """Real PNG and JPEG files: scikit-learn's photographs and Pillow-written images."""
    import sklearn.datasets
    from PIL import Image

    out: list[tuple[str, bytes]] = []
    folder = Path(sklearn.datasets.__file__).parent / "images"
    for name in ("china.jpg", "flower.jpg"):
        out.append((name, (folder / name).read_bytes()))
    rng = np.random.default_rng(0)
    gray = (rng.random((48, 64)) * 255).astype(np.uint8)
    variants: list[tuple[str, Any, str, dict[str, Any]]] = [
        ("gray8.png", Image.fromarray(gray), "PNG", {}),
        ("gray16.png", Image.fromarray(gray.astype(np.uint16) * 257), "PNG", {}),
        ("rgb.png", Image.fromarray(np.dstack([gray, gray[::-1], gray])), "PNG", {}),
        ("rgba.png", Image.fromarray(np.dstack([gray] * 4)), "PNG", {}),
        ("palette.png", Image.fromarray(gray).convert("P"), "PNG", {}),
        ("gray.jpg", Image.fromarray(gray), "JPEG", {"quality": 90}),
        ("progressive.jpg", Image.fromarray(gray), "JPEG", {"progressive": True}),
    ]
    for name, im, fmt, kw in variants:
        buf = io.BytesIO()
        im.save(buf, format=fmt, **kw)
        out.append((name, buf.getvalue()))
    return tuple(out)


def text_pdf(text: str, *, compress: bool = False) -> bytes:
    """A one-page PDF whose text layer is ``text``; the content stream optionally deflated."""
    content = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    filt = b""
    if compress:
        content, filt = zlib.compress(content), b" /Filter /FlateDecode"
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d%s >>\nstream\n" % (len(content), filt) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(PDF_MAGIC)
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    )
    return out.getvalue()


@cache
def pdf_files() -> tuple[tuple[str, bytes], ...]:
    """PDFs from three writers: a plain and a deflated text layer, and Pillow's image PDF."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.full((40, 60), 200, np.uint8)).save(buf, format="PDF")
    report = "Findings: No pneumothorax. Small left pleural effusion."
    return (
        ("plain.pdf", text_pdf(report)),
        ("deflated.pdf", text_pdf(report, compress=True)),
        ("pillow.pdf", buf.getvalue()),
    )


@st.composite
def mutated(draw: st.DrawFn, corpus: tuple[bytes, ...], keep: int = 0) -> bytes:
    """One of ``corpus`` damaged by 1–6 edits (bit flips, overwrites, inserted or deleted runs,
    duplicated spans, a truncation); the first ``keep`` bytes (the magic number) stay."""
    data = bytearray(draw(st.sampled_from(corpus)))
    for _ in range(draw(st.integers(1, 6))):
        if len(data) <= keep + 1:
            break
        i = draw(st.integers(keep, len(data) - 1))
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "duplicate", "truncate"]))
        if op == "flip":
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "set":
            data[i] = draw(st.sampled_from([0x00, 0xFF, 0x7F, 0x80, 0x20]))
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=64))
        elif op == "delete":
            del data[i : i + draw(st.integers(1, 64))]
        elif op == "duplicate":
            data[i:i] = data[i : i + draw(st.integers(1, 256))]
        else:
            del data[i:]
    return bytes(data)


@st.composite
def truncated(draw: st.DrawFn, corpus: tuple[bytes, ...], keep: int = 0) -> bytes:
    """A prefix of one of ``corpus`` (at least ``keep`` bytes long)."""
    data = draw(st.sampled_from(corpus))
    return data[: draw(st.integers(keep, max(keep, len(data) - 1)))]


@st.composite
def header_then_garbage(draw: st.DrawFn, corpus: tuple[bytes, ...], keep: int = 0) -> bytes:
    """A real file's first bytes (its header) followed by random bytes."""
    data = draw(st.sampled_from(corpus))
    cut = draw(st.integers(keep, max(keep, min(len(data), 4096))))
    return data[:cut] + draw(st.binary(max_size=512))


def behind(magic: bytes) -> st.SearchStrategy[bytes]:
    """Random bytes behind a format's magic number."""
    return st.binary(max_size=2048).map(lambda tail: magic + tail)
