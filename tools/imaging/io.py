"""Load PNG, JPEG and DICOM bytes into one form: float pixels in 0–255 plus routing metadata.

- PNG/JPEG: 8- or 16-bit, grayscale, RGB, palette or alpha; EXIF orientation applied.
- DICOM: Modality LUT, then VOI LUT or window (or the full range when neither is given),
  MONOCHROME1 inverted, multi-frame -> the middle frame, colour converted to RGB; Modality,
  BodyPartExamined and ViewPosition kept for routing.
- Limits: ``MAX_PIXELS`` per frame (checked from the header, before decoding) and
  ``MIN_SIDE``. Anything undecodable raises :class:`CorruptImageError` with one clear line.
"""

from __future__ import annotations

import io
import logging
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tools.imaging.errors import (
    CorruptImageError,
    ImageError,
    ImageTooLargeError,
    NoPixelDataError,
    UnsupportedImageError,
)

log = logging.getLogger(__name__)

MAX_PIXELS = 40_000_000  # per frame: a 6,000 x 6,000 radiograph fits; decompression bombs do not
MIN_SIDE = 16  # smaller than this is not an image anyone can read
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"


@dataclass
class LoadedImage:
    """Pixels as float32 in 0–255: ``(H, W)`` for grayscale, ``(H, W, 3)`` for colour."""

    pixels: np.ndarray
    source: str  # "png", "jpeg" or "dicom"
    modality: str | None = None
    body_part: str | None = None
    view: str | None = None
    photometric: str | None = None
    frames: int = 1
    frame_used: int = 0
    bits: int = 8
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def is_color(self) -> bool:
        return self.pixels.ndim == 3

    def gray(self) -> np.ndarray:
        """(H, W) float32 luminance in 0–255."""
        if self.pixels.ndim == 2:
            return self.pixels
        r, g, b = self.pixels[..., 0], self.pixels[..., 1], self.pixels[..., 2]
        return (0.299 * r + 0.587 * g + 0.114 * b).astype(np.float32)

    def rgb_uint8(self) -> np.ndarray:
        """(H, W, 3) uint8, grayscale replicated to three channels (what the models expect)."""
        px = np.clip(np.rint(self.pixels), 0, 255).astype(np.uint8)
        if px.ndim == 2:
            px = np.repeat(px[..., None], 3, axis=2)
        return px

    def describe(self) -> dict[str, Any]:
        """A small JSON-able summary for tool results."""
        return {
            "format": self.source,
            "width": self.width,
            "height": self.height,
            "modality": self.modality,
            "body_part": self.body_part,
            "view": self.view,
            "frames": self.frames,
            "frame_used": self.frame_used,
            "bits": self.bits,
        }


def sniff_format(data: bytes, name: str = "") -> str | None:
    """ "png", "jpeg", "dicom" or None, from the magic bytes (DICOM without preamble by name)."""
    if data.startswith(PNG_MAGIC):
        return "png"
    if data.startswith(JPEG_MAGIC):
        return "jpeg"
    if len(data) >= 132 and data[128:132] == b"DICM":
        return "dicom"
    if name.lower().endswith((".dcm", ".dicom")) and data[:2] in (b"\x08\x00", b"\x02\x00"):
        return "dicom"
    return None


def load_image(data: bytes, name: str = "image", *, max_pixels: int = MAX_PIXELS) -> LoadedImage:
    """Decode image bytes. Raises an :class:`ImageError` subclass with a user-facing line."""
    if not data:
        raise CorruptImageError(f"{name} is empty (0 bytes): attach the image file itself")
    fmt = sniff_format(data, name)
    if fmt is None:
        raise UnsupportedImageError(
            f"{name} is not a PNG, JPEG or DICOM image: export the image in one of these formats"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # decoders warn about every odd value on stderr
            if fmt == "dicom":
                img = _load_dicom(data, name, max_pixels)
            else:
                img = _load_pil(data, name, fmt, max_pixels)
    except ImageError:
        raise
    except MemoryError as exc:
        raise ImageTooLargeError(
            f"{name} is too large to decode here: downscale it or export a smaller image"
        ) from exc
    except Exception as exc:  # a decoder's own exception on damaged bytes (pydicom, Pillow, zlib…)
        log.debug("decoding %s failed", name, exc_info=True)
        raise CorruptImageError(
            f"{name} looks like a {fmt.upper()} file but is damaged or truncated "
            f"({reason(exc)}): export it again"
        ) from exc
    if min(img.height, img.width) < MIN_SIDE:
        raise UnsupportedImageError(
            f"{name} is only {img.width}x{img.height} pixels: attach the full-resolution image"
        )
    return img


def _printable(value: object, limit: int = 64) -> str:
    """A header value for a message: printable characters only (a damaged file's UID may hold
    control bytes), at most ``limit`` characters."""
    text = "".join(ch for ch in str(value) if ch.isprintable()).strip()
    return text[:limit] or "?"


def reason(exc: BaseException, limit: int = 80) -> str:
    """An exception as a short, printable, one-line reason for a user-facing message (decoders
    put raw bytes and multi-line detail in theirs)."""
    lines = str(exc).strip().splitlines()
    text = "".join(ch if ch.isprintable() else " " for ch in (lines[0] if lines else ""))
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _too_large(name: str, width: int, height: int, max_pixels: int) -> ImageTooLargeError:
    return ImageTooLargeError(
        f"{name} is {width}x{height} pixels ({width * height:,}), over the limit of "
        f"{max_pixels:,}: downscale it or export a smaller image"
    )


def _load_pil(data: bytes, name: str, fmt: str, max_pixels: int) -> LoadedImage:
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im: Any = Image.open(io.BytesIO(data))
            width, height = im.size
            if width * height > max_pixels:
                raise _too_large(name, width, height, max_pixels)
            im.load()
            im = ImageOps.exif_transpose(im)
    except ImageTooLargeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLargeError(
            f"{name} is too large to decode safely ({reason(exc)}): export a smaller image"
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise CorruptImageError(
            f"{name} looks like a {fmt.upper()} but cannot be decoded ({reason(exc)}): the file is "
            "damaged or truncated; export it again"
        ) from exc
    assert im is not None
    bits = 8
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(im, dtype=np.float64)
        bits = 16 if mode.startswith("I;16") or float(arr.max(initial=0)) > 255 else 8
        pixels = _rescale(arr)
    elif mode in ("L", "1", "P", "LA", "PA") and _palette_is_gray(im):
        pixels = np.asarray(im.convert("L"), dtype=np.float32)
    else:
        rgb = np.asarray(im.convert("RGB"), dtype=np.float32)
        pixels = rgb if not _channels_equal(rgb) else rgb[..., 0].copy()
    return LoadedImage(pixels=pixels.astype(np.float32), source=fmt, bits=bits, photometric=mode)


def _palette_is_gray(im: Any) -> bool:
    if im.mode not in ("P", "PA"):
        return True
    return _channels_equal(np.asarray(im.convert("RGB"), dtype=np.float32))


def _channels_equal(rgb: np.ndarray) -> bool:
    return bool(
        np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2])
    )


def _rescale(arr: np.ndarray, lo: float | None = None, hi: float | None = None) -> np.ndarray:
    """Linear map of [lo, hi] (default: the data's min and max) to [0, 255], clipped."""
    arr = arr.astype(np.float64)
    lo = float(np.min(arr)) if lo is None else lo
    hi = float(np.max(arr)) if hi is None else hi
    if hi <= lo:
        return np.zeros(arr.shape, dtype=np.float32)
    return np.clip((arr - lo) * (255.0 / (hi - lo)), 0, 255).astype(np.float32)


def _load_dicom(data: bytes, name: str, max_pixels: int) -> LoadedImage:
    import pydicom
    from pydicom.errors import InvalidDicomError
    from pydicom.pixels import apply_modality_lut, apply_voi_lut

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(io.BytesIO(data), force=data[128:132] != b"DICM")
    except (InvalidDicomError, OSError, ValueError, EOFError, KeyError, TypeError) as exc:
        raise CorruptImageError(
            f"{name} is not a readable DICOM file ({reason(exc)}): export it again"
        ) from exc
    if "PixelData" not in ds and "FloatPixelData" not in ds and "DoubleFloatPixelData" not in ds:
        raise NoPixelDataError(f"{name} is a DICOM file without an image (no pixel data)")
    try:
        rows, cols = int(ds.Rows), int(ds.Columns)
        frames = int(ds.get("NumberOfFrames", 1) or 1)
    except (AttributeError, ValueError, TypeError) as exc:
        raise CorruptImageError(
            f"{name}: DICOM header lacks a valid Rows/Columns ({reason(exc)}): export it again"
        ) from exc
    if rows * cols > max_pixels:
        raise _too_large(name, cols, rows, max_pixels)
    frame = frames // 2 if frames > 1 else 0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if frames > 1:
                from pydicom.pixels import pixel_array

                arr = pixel_array(ds, index=frame)
            else:
                arr = ds.pixel_array
    except (NotImplementedError, RuntimeError) as exc:
        raise UnsupportedImageError(
            f"{name}: this DICOM's compression ({_printable(ds.file_meta.get('TransferSyntaxUID', '?'))}) "
            f"cannot be decoded here ({reason(exc)}); export it uncompressed"
        ) from exc
    except (ValueError, AttributeError, KeyError, TypeError, OSError, EOFError) as exc:
        raise CorruptImageError(
            f"{name}: the DICOM pixel data is damaged ({reason(exc)}): export it again"
        ) from exc
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).upper()
    bits = int(ds.get("BitsStored", ds.get("BitsAllocated", 8)) or 8)
    if photometric.startswith("MONOCHROME"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = apply_modality_lut(arr, ds)
            has_voi = "VOILUTSequence" in ds or (
                "WindowCenter" in ds and not _trivial_window(ds, bits)
            )
            if has_voi:
                values = apply_voi_lut(values, ds, index=0, prefer_lut=True)
        values = np.asarray(values, dtype=np.float64)
        if has_voi:
            lo, hi = float(values.min()), float(values.max())
        else:  # no (useful) window: robust full range, ignoring 0.5% tails (labels, collimation)
            lo, hi = (float(v) for v in np.percentile(values, [0.5, 99.5]))
        pixels = _rescale(values, lo, hi)
        if photometric == "MONOCHROME1":
            pixels = 255.0 - pixels
    else:
        rgb = np.asarray(arr)
        if photometric == "PALETTE COLOR":
            from pydicom.pixels import apply_color_lut

            rgb = apply_color_lut(rgb, ds)
        if rgb.ndim != 3 or rgb.shape[-1] != 3:
            raise UnsupportedImageError(
                f"{name}: unsupported DICOM photometric interpretation {photometric}"
            )
        if rgb.dtype == np.uint8:
            top = 255.0
        elif photometric == "PALETTE COLOR":
            top = 65535.0 if float(rgb.max(initial=0)) > 255 else 255.0
        else:
            top = float(2 ** min(bits, 16) - 1)
        pixels = _rescale(rgb.astype(np.float64), 0.0, top)
    if not np.isfinite(pixels).all():
        raise CorruptImageError(f"{name}: the DICOM pixel data holds invalid values")
    return LoadedImage(
        pixels=pixels.astype(np.float32),
        source="dicom",
        modality=_tag(ds, "Modality"),
        body_part=_tag(ds, "BodyPartExamined"),
        view=_tag(ds, "ViewPosition"),
        photometric=photometric,
        frames=frames,
        frame_used=frame,
        bits=bits,
        meta={
            "transfer_syntax": str(ds.file_meta.get("TransferSyntaxUID", ""))
            if "file_meta" in dir(ds)
            else ""
        },
    )


def _trivial_window(ds: Any, bits: int) -> bool:
    """True when the window spans (nearly) the whole stored range, i.e. carries no contrast
    choice (e.g. RG1: centre 15000, width 30000 for 15-bit data); auto-windowing is used then."""
    try:
        width = float(np.ravel([ds.WindowWidth])[0])
    except (AttributeError, TypeError, ValueError, IndexError):
        return True
    slope = float(ds.get("RescaleSlope", 1) or 1)
    return width >= 0.9 * (2**bits) * abs(slope)


def _tag(ds: Any, keyword: str) -> str | None:
    value = ds.get(keyword)
    text = str(value).strip().upper() if value is not None else ""
    return text or None
