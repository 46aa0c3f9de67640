"""In-scope and out-of-scope image sets for the guard's evaluation, built offline from what
ships: pydicom's test DICOMs (pydicom-data), scikit-learn's two sample photographs, and images
generated here (noise, text documents, blank frames). Each item is (name, bytes, group)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np

# (file, group). In-scope: the adult chest CR. Out-of-scope: everything else that decodes here.
DICOM_IN_SCOPE = ("RG1_UNCR.dcm",)
DICOM_OUT_OF_SCOPE = (
    ("RG3_UNCR.dcm", "cr-extremity"),
    ("CT_small.dcm", "ct"),
    ("693_UNCR.dcm", "ct"),
    ("eCT_Supplemental.dcm", "ct"),
    ("J2K_pixelrep_mismatch.dcm", "ct"),
    ("MR_small.dcm", "mr"),
    ("MR2_UNCR.dcm", "mr"),
    ("emri_small.dcm", "mr"),
    ("MR-SIEMENS-DICOM-WithOverlays.dcm", "mr"),
    ("examples_overlay.dcm", "mr"),
    ("US1_UNCR.dcm", "us"),
    ("OBXXXX1A.dcm", "us"),
    ("examples_palette.dcm", "us"),
    ("examples_rgb_color.dcm", "us"),
    ("JPEG2000_UNC.dcm", "nm"),
    ("vlut_04.dcm", "other"),
    ("SC_rgb.dcm", "other"),
)


def dicom_bytes(name: str) -> bytes | None:
    try:
        from pydicom.data import get_testdata_file
    except ImportError:  # pragma: no cover
        return None
    path = get_testdata_file(name)
    return Path(str(path)).read_bytes() if path else None


def png_bytes(pixels: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def as_png(data: bytes, name: str) -> bytes:
    """A DICOM re-exported as an 8-bit PNG: the same pixels without any tags."""
    from tools.imaging.io import load_image

    return png_bytes(load_image(data, name).pixels)


def photos() -> Iterator[tuple[str, bytes]]:
    """scikit-learn's sample photographs (china.jpg, flower.jpg), in colour and grayscale."""
    try:
        import sklearn.datasets
    except ImportError:  # pragma: no cover
        return
    from PIL import Image

    folder = Path(sklearn.datasets.__file__).parent / "images"
    for path in sorted(folder.glob("*.jpg")):
        data = path.read_bytes()
        yield path.name, data
        buf = io.BytesIO()
        Image.open(io.BytesIO(data)).convert("L").save(buf, format="PNG")
        yield f"gray-{path.stem}.png", buf.getvalue()


def document(seed: int, size: tuple[int, int] = (600, 800)) -> bytes:
    """A rendered page of text (what a scanned report or screenshot looks like)."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    img = Image.new("L", size, 255)
    draw = ImageDraw.Draw(img)
    words = [
        "patient",
        "report",
        "findings",
        "impression",
        "chest",
        "normal",
        "date",
        "signed",
        "history",
    ]
    for y in range(30, size[1] - 30, 18 + seed % 3):
        line = " ".join(rng.choice(words, size=int(rng.integers(4, 10))))
        draw.text((30 + int(rng.integers(0, 20)), y), line, fill=int(rng.integers(0, 60)))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def generated(seed: int = 0) -> Iterator[tuple[str, bytes, str]]:
    rng = np.random.default_rng(seed)
    for i in range(3):
        yield (
            f"uniform-noise-{i}.png",
            png_bytes(rng.integers(0, 256, (512, 512)).astype(np.float64)),
            "noise",
        )
        yield f"gaussian-noise-{i}.png", png_bytes(rng.normal(128, 40, (400, 480))), "noise"
        yield f"document-{i}.png", document(i), "document"
    yield "blank-black.png", png_bytes(np.zeros((300, 300))), "blank"
    yield "blank-white.png", png_bytes(np.full((300, 300), 255.0)), "blank"


def out_of_scope() -> Iterator[tuple[str, bytes, str]]:
    """Every out-of-scope item: DICOMs, the same as tag-less PNGs, photos, generated images."""
    for name, group in DICOM_OUT_OF_SCOPE:
        data = dicom_bytes(name)
        if data is None:
            continue
        yield name, data, f"dicom-{group}"
        try:
            yield f"{name}.png", as_png(data, name), f"png-{group}"
        except Exception:  # a DICOM that does not decode here has no PNG twin
            continue
    for name, data in photos():
        yield name, data, "photo"
    yield from generated()


def in_scope_extra() -> Iterator[tuple[str, bytes, str]]:
    """In-scope images beyond the packaged samples: the adult chest CR as DICOM and as PNG."""
    for name in DICOM_IN_SCOPE:
        data = dicom_bytes(name)
        if data is not None:
            yield name, data, "cxr"
            yield f"{name}.png", as_png(data, name), "cxr"
