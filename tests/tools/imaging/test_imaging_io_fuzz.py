"""Fuzzing the image loader (PNG, JPEG, DICOM): random bytes behind each magic number,
truncated and mutated real files. Whatever arrives, ``load_image`` returns an image or raises
an ImageError (a user error) with one clean line, never anything else."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzzing import (
    DICOM_FILES,
    DICOM_MAGIC,
    FUZZ,
    JPEG_MAGIC,
    PNG_MAGIC,
    behind,
    check_line,
    corrupt_dicom,
    dicom_bytes,
    dicom_sr,
    header_then_garbage,
    image_files,
    mutated,
    parse_or_user_error,
    truncated,
)
from tools.imaging.errors import CorruptImageError, ImageError, NoPixelDataError
from tools.imaging.io import load_image, reason


def _dicoms() -> tuple[bytes, ...]:
    return tuple(dicom_bytes(n) for n in DICOM_FILES)


def _images() -> tuple[bytes, ...]:
    return tuple(data for _name, data in image_files())


def test_corrupt_dicom_is_one_clear_corrupt_image_error() -> None:
    """The bytes that made classify_image fail "unexpectedly" (BytesLengthException)."""
    with pytest.raises(CorruptImageError) as info:
        load_image(corrupt_dicom(), "chest.dcm")
    check_line(info.value.message)
    assert "chest.dcm" in info.value.message and "damaged" in info.value.message


def test_dicom_without_pixels_says_so() -> None:
    with pytest.raises(NoPixelDataError, match="no pixel data"):
        load_image(dicom_sr(), "report.dcm")


def test_reason_is_one_short_printable_line() -> None:
    text = reason(ValueError("bad\nvalue b'\\x00\x01' " + "x" * 500))
    check_line(text)
    assert text.startswith("ValueError: bad") and len(text) < 100


@FUZZ
@given(st.one_of(behind(PNG_MAGIC), behind(JPEG_MAGIC), behind(DICOM_MAGIC)))
def test_random_bytes_behind_each_magic_number(data: bytes) -> None:
    parse_or_user_error(lambda: load_image(data, "fuzz"))


@FUZZ
@given(st.data())
def test_truncated_real_files(data: st.DataObject) -> None:
    blob = data.draw(
        st.one_of(truncated(_dicoms(), keep=132), truncated(_images(), keep=8)), label="file"
    )
    parse_or_user_error(lambda: load_image(blob, "cut.dcm"))


@FUZZ
@given(st.data())
def test_dicom_header_then_garbage(data: st.DataObject) -> None:
    blob = data.draw(header_then_garbage(_dicoms(), keep=132), label="file")
    parse_or_user_error(lambda: load_image(blob, "garbage.dcm"))


@FUZZ
@given(st.data())
def test_mutated_real_dicoms(data: st.DataObject) -> None:
    blob = data.draw(mutated(_dicoms(), keep=132), label="file")
    parse_or_user_error(lambda: load_image(blob, "mutated.dcm"))


@FUZZ
@given(st.data())
def test_mutated_real_pngs_and_jpegs(data: st.DataObject) -> None:
    blob = data.draw(mutated(_images(), keep=8), label="file")
    parse_or_user_error(lambda: load_image(blob, "mutated.png"))


def test_every_real_file_still_loads_or_says_why() -> None:
    """The corpus itself: the photographs and Pillow files decode; each DICOM decodes or is
    refused with a reason (no pixel data, a codec not installed here)."""
    for name, data in image_files():
        assert load_image(data, name).width > 0, name
    for name in DICOM_FILES:
        try:
            load_image(dicom_bytes(name), name)
        except ImageError as exc:
            check_line(exc.message)
