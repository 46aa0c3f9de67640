"""The out-of-scope guard's three layers, on generated images and pydicom fixtures."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from pydicom.data import get_testdata_file

from tools.imaging import fixtures, guard
from tools.imaging.io import LoadedImage, load_image


def _img(pixels: np.ndarray, **kw: object) -> LoadedImage:
    return LoadedImage(pixels=pixels.astype(np.float32), source=str(kw.pop("source", "png")), **kw)  # type: ignore[arg-type]


def _anatomy_like(seed: int = 0, size: int = 256) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size] / size
    rng = np.random.default_rng(seed)
    return 120 + 80 * np.sin(6 * xx) * np.cos(4 * yy) + rng.normal(0, 2, (size, size))


@pytest.mark.parametrize(
    ("modality", "part", "view", "accepted", "reason"),
    [
        ("CT", None, None, False, "CT image"),
        ("US", None, None, False, "ultrasound"),
        ("CR", "EXTREMITY", "AP", False, "extremity"),
        ("CR", "CHEST", "LL", False, "frontal"),
        ("MR", "ABDOMEN", None, False, "abdomen"),
        ("CR", "CHEST", "PA", True, None),
        ("DX", None, None, True, None),
        ("MR", "HEAD", None, True, None),
    ],
)
def test_dicom_tags(
    modality: str, part: str | None, view: str | None, accepted: bool, reason: str | None
) -> None:
    v = guard.check_tags(
        _img(np.zeros((200, 200)), source="dicom", modality=modality, body_part=part, view=view)
    )
    assert v is not None and v.in_distribution is accepted
    if reason:
        assert reason in (v.reason or "")
    else:
        assert v.domain == guard.DICOM_MODALITY_DOMAIN[modality]


def test_png_has_no_tag_verdict() -> None:
    assert guard.check_tags(_img(np.zeros((200, 200)))) is None


def test_real_fixture_tags() -> None:
    ct = load_image(Path(str(get_testdata_file("CT_small.dcm"))).read_bytes(), "ct.dcm")
    cr = load_image(Path(str(get_testdata_file("RG1_UNCR.dcm"))).read_bytes(), "rg1.dcm")
    assert guard.check_tags(ct).in_distribution is False  # type: ignore[union-attr]
    assert guard.check_tags(cr).domain == "cxr"  # type: ignore[union-attr]


def test_content_blank_colour_noise_small() -> None:
    assert "blank" in (guard.check_content(_img(np.full((300, 300), 7.0))).reason or "")  # type: ignore[union-attr]
    colour = np.stack([_anatomy_like(), _anatomy_like(1) * 0.2, _anatomy_like(2) * 0.5], axis=-1)
    assert "colour" in (guard.check_content(_img(colour)).reason or "")  # type: ignore[union-attr]
    noise = np.random.default_rng(0).integers(0, 256, (400, 400)).astype(float)
    assert "noise" in (guard.check_content(_img(noise)).reason or "")  # type: ignore[union-attr]
    assert "pixels" in (guard.check_content(_img(_anatomy_like(size=64))).reason or "")  # type: ignore[union-attr]
    assert guard.check_content(_img(_anatomy_like())) is None


def test_neighbour_correlation_separates_smooth_from_noise() -> None:
    assert guard.neighbour_correlation(_anatomy_like()) > 0.9
    assert abs(guard.neighbour_correlation(np.random.default_rng(1).normal(size=(100, 100)))) < 0.2


def test_feature_layer_threshold_and_restriction() -> None:
    cxr = np.zeros(8)
    cxr[0] = 1
    brain = np.zeros(8)
    brain[1] = 1
    cents = {"cxr": cxr, "brain-mri": brain}
    near_cxr = np.array([0.9, 0.1, 0.1, 0, 0, 0, 0, 0])
    v = guard.check_features(near_cxr, cents)
    assert v.in_distribution and v.domain == "cxr" and v.similarity["cxr"] > 0.9
    assert guard.check_features(near_cxr, cents, allowed="brain-mri").in_distribution is False
    far = np.array([0, 0, 1.0, 1, 0, 0, 0, 0])
    v = guard.check_features(far, cents)
    assert not v.in_distribution and "does not resemble" in (v.reason or "")


def test_centroid_is_unit_length() -> None:
    c = guard.centroid(np.random.default_rng(0).normal(size=(5, 16)))
    assert np.linalg.norm(c) == pytest.approx(1.0)


def test_fixture_sets_are_built_offline() -> None:
    items = list(fixtures.generated())
    groups = {g for _, _, g in items}
    assert {"noise", "document", "blank"} <= groups
    for name, data, _ in items:
        load_image(data, name)  # every generated image decodes
    doc = load_image(fixtures.document(0), "doc.png")
    assert guard.check_content(doc) is None or "noise" not in (
        guard.check_content(doc).reason or ""
    )  # type: ignore[union-attr]
    assert (
        io.BytesIO(
            fixtures.as_png(Path(str(get_testdata_file("CT_small.dcm"))).read_bytes(), "ct")
        ).read(8)
        == b"\x89PNG\r\n\x1a\n"
    )
