"""Image loading: formats, bit depths, orientation, DICOM LUTs, limits and clear errors."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pydicom
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from pydicom.data import get_testdata_file

from assistant.core.errors import AttachmentError, UserError
from tools.imaging.errors import (
    CorruptImageError,
    ImageError,
    ImageTooLargeError,
    UnsupportedImageError,
)
from tools.imaging.io import MAX_PIXELS, load_image


def _png(arr: np.ndarray, mode: str | None = None) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr, mode=mode).save(buf, format="PNG")
    return buf.getvalue()


def _dicom(name: str) -> bytes:
    path = get_testdata_file(name)
    assert path is not None, f"pydicom-data lacks {name}"
    return open(path, "rb").read()


def test_errors_are_user_errors() -> None:
    assert issubclass(ImageError, AttachmentError) and issubclass(ImageError, UserError)


def test_gray_png_8bit() -> None:
    arr = np.tile(np.arange(64, dtype=np.uint8) * 4, (40, 1))
    img = load_image(_png(arr), "g.png")
    assert (img.source, img.height, img.width, img.is_color) == ("png", 40, 64, False)
    assert img.pixels[0, 10] == 40.0
    assert img.rgb_uint8().shape == (40, 64, 3)


def test_png_16bit_is_rescaled_to_full_range() -> None:
    arr = (np.tile(np.arange(100, dtype=np.uint16), (30, 1)) * 600).astype(np.uint16)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")  # uint16 -> a 16-bit grayscale PNG
    img = load_image(buf.getvalue(), "deep.png")
    assert img.bits == 16
    assert img.pixels.min() == 0.0 and img.pixels.max() == pytest.approx(255.0)


def test_rgb_gray_content_becomes_gray_and_colour_stays_colour() -> None:
    gray = np.repeat(np.full((32, 32, 1), 90, np.uint8), 3, axis=2)
    assert not load_image(_png(gray), "a.png").is_color
    colour = np.zeros((32, 32, 3), np.uint8)
    colour[..., 0] = 200
    assert load_image(_png(colour), "b.png").is_color


def test_exif_orientation_is_applied() -> None:
    arr = np.zeros((20, 60), np.uint8)
    arr[:, :10] = 255  # a bright band on the left
    im = Image.fromarray(arr)
    exif = im.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    buf = io.BytesIO()
    im.save(buf, format="JPEG", exif=exif.tobytes(), quality=95)
    img = load_image(buf.getvalue(), "phone.jpg")
    assert (img.height, img.width) == (60, 20)
    assert img.pixels[:10].mean() > 200  # the band is now at the top


def test_dicom_monochrome1_is_inverted_and_tags_kept() -> None:
    data = _dicom("RG1_UNCR.dcm")
    img = load_image(data, "RG1_UNCR.dcm")
    assert (img.modality, img.body_part, img.view, img.photometric) == (
        "CR",
        "CHEST",
        "PA",
        "MONOCHROME1",
    )
    raw = pydicom.dcmread(io.BytesIO(data)).pixel_array.astype(float)
    # MONOCHROME1: high stored values are dark on display.
    hi = np.unravel_index(np.argmax(raw), raw.shape)
    lo = np.unravel_index(np.argmin(raw), raw.shape)
    assert img.pixels[hi] < img.pixels[lo]


def test_dicom_monochrome2_ct_is_not_inverted() -> None:
    data = _dicom("CT_small.dcm")
    img = load_image(data, "CT_small.dcm")
    raw = pydicom.dcmread(io.BytesIO(data)).pixel_array.astype(float)
    assert img.modality == "CT"
    assert np.corrcoef(raw.ravel(), img.pixels.ravel())[0, 1] > 0.5


def test_dicom_multiframe_uses_middle_frame() -> None:
    img = load_image(_dicom("emri_small.dcm"), "emri_small.dcm")
    assert (img.frames, img.frame_used, img.modality, img.body_part) == (10, 5, "MR", "HEAD")


def test_dicom_colour_ultrasound_decodes_to_rgb() -> None:
    img = load_image(_dicom("US1_UNCR.dcm"), "us.dcm")
    assert img.modality == "US" and img.pixels.shape == (480, 640, 3)


def test_truncated_png_is_a_clear_corrupt_error() -> None:
    data = _png(np.zeros((64, 64), np.uint8))
    with pytest.raises(CorruptImageError, match="damaged or truncated"):
        load_image(data[: len(data) // 2], "cut.png")


def test_truncated_dicom_is_a_clear_error() -> None:
    data = _dicom("CT_small.dcm")
    with pytest.raises(ImageError):
        load_image(data[:2000], "cut.dcm")


def test_not_an_image_and_empty() -> None:
    with pytest.raises(UnsupportedImageError, match="not a PNG, JPEG or DICOM"):
        load_image(b"hello world", "notes.txt")
    with pytest.raises(CorruptImageError, match="empty"):
        load_image(b"", "empty.png")


def test_pixel_limit_checked_before_decoding() -> None:
    data = _png(np.zeros((200, 300), np.uint8))
    with pytest.raises(ImageTooLargeError, match="over the limit"):
        load_image(data, "big.png", max_pixels=10_000)
    assert MAX_PIXELS >= 6000 * 6000


def test_dicom_pixel_limit_from_header() -> None:
    with pytest.raises(ImageTooLargeError):
        load_image(_dicom("RG1_UNCR.dcm"), "RG1.dcm", max_pixels=1_000_000)


def test_tiny_image_rejected() -> None:
    with pytest.raises(UnsupportedImageError, match="pixels"):
        load_image(_png(np.zeros((4, 4), np.uint8)), "dot.png")


@settings(max_examples=60, deadline=None)
@given(
    st.binary(max_size=400),
    st.sampled_from([b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"\x00" * 128 + b"DICM"]),
)
def test_garbage_after_magic_raises_only_image_errors(tail: bytes, magic: bytes) -> None:
    with contextlib.suppress(ImageError):
        load_image(magic + tail, "fuzz")
