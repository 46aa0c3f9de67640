"""Training data that cannot be read is a user error with one line, not an internal error."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.core.errors import UserError
from tests.fuzzing import FUZZ, check_line, mutated, truncated
from tools.imaging.train import load_dataset


def medmnist_npz() -> bytes:
    rng = np.random.default_rng(0)
    arrays = {}
    for split in ("train", "val", "test"):
        arrays[f"{split}_images"] = (rng.random((6, 28, 28)) * 255).astype(np.uint8)
        arrays[f"{split}_labels"] = np.array([[0], [1]] * 3)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04garbage",
        medmnist_npz()[:300],
        b"",
        medmnist_npz().replace(b"{'descr'", b"z'descr'", 1),  # numpy raises TokenError
    ],
    ids=["not-a-zip", "truncated", "empty", "bad-array-header"],
)
def test_unreadable_npz_is_one_clear_line(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "data.npz"
    path.write_bytes(data)
    with pytest.raises(UserError) as info:
        load_dataset(path, 28)
    check_line(info.value.message)


def test_object_arrays_are_never_unpickled(tmp_path: Path) -> None:
    path = tmp_path / "data.npz"
    arrays = {k: np.load(io.BytesIO(medmnist_npz()))[k] for k in ("train_labels", "val_labels")}
    arrays["train_images"] = arrays["val_images"] = np.array([Path("x")], dtype=object)
    np.savez(path, **arrays)
    with pytest.raises(UserError, match=r"not a readable \.npz"):
        load_dataset(path, 28)


@FUZZ
@given(st.data())
def test_damaged_npz_files(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    corpus = (medmnist_npz(),)
    blob = data.draw(st.one_of(truncated(corpus, keep=4), mutated(corpus, keep=4)), label="npz")
    path = tmp_path_factory.mktemp("npz") / "data.npz"
    path.write_bytes(blob)
    try:
        load_dataset(path, 28)
    except UserError as exc:
        check_line(exc.message)
