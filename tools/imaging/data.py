"""Labelled image sets for training and evaluation: an ImageFolder tree, a CSV, or a MedMNIST
``.npz``; a fixed, stratified, optionally patient-grouped validation split; a tensor cache.

- ImageFolder: ``DIR/<class>/*`` (one split), or ``DIR/{train,val,test}/<class>/*``.
- CSV: a header with ``path`` and ``label`` (paths relative to the CSV), optional ``split``
  (``train``/``val``/``test``) and ``group`` (e.g. a patient id) columns.
- MedMNIST ``.npz``: ``train_images``, ``train_labels``, ``val_images``, ... as published.

Images are decoded once, converted to grayscale (or RGB), bilinear-resized to a square and kept
as uint8 (``(N, C, S, S)``); with ``cache`` set, the decoded tensors are stored in one ``.npz``
per (file list, size, channels), so later runs skip JPEG decoding.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from assistant.core.errors import UserError
from tools.imaging.nets import resize_uint8

IMAGE_EXT = {".png", ".jpg", ".jpeg", ".dcm", ".dicom"}


@dataclass
class Item:
    path: Path
    label: int
    group: str  # images of one group (patient) never straddle the train/val split


@dataclass
class Split:
    x: torch.Tensor  # (N, C, S, S) uint8; nets.scale() maps it to [-1, 1]
    y: torch.Tensor  # (N,) int64
    names: list[str] = field(default_factory=list)


@dataclass
class Dataset:
    classes: list[str]
    train: Split
    val: Split
    test: Split | None
    source: str
    val_note: str = ""  # how the validation split was made


def group_function(pattern: str | None) -> Callable[[Path], str]:
    """``pattern``'s first match in the file stem is the group (e.g. ``^(person\\d+|.*IM-\\d+)``
    for Kermany's patient ids); without a pattern (or no match) each file is its own group."""
    if not pattern:
        return lambda p: p.as_posix()
    try:
        rx = re.compile(pattern)
    except re.error as exc:
        raise UserError(
            f"--group-pattern {pattern!r} is not a valid regular expression: {exc}"
        ) from exc

    def group(p: Path) -> str:
        m = rx.search(p.stem)
        return (m.group(1) if m and m.groups() else m.group(0)) if m else p.as_posix()

    return group


def split_holdout(items: list[Item], frac: float, seed: int) -> tuple[list[Item], list[Item]]:
    """Stratified, grouped split: whole groups go to the second list, per class (a group's class
    is its first image's), until it holds ``frac`` of that class's images (at least one group)."""
    rng = random.Random(seed)
    groups: dict[str, list[Item]] = {}
    for it in items:
        groups.setdefault(it.group, []).append(it)
    first: list[Item] = []
    second: list[Item] = []
    for c in sorted({it.label for it in items}):
        keys = sorted(k for k, g in groups.items() if g[0].label == c)
        rng.shuffle(keys)
        n_class = sum(len(groups[k]) for k in keys)
        want = max(1, round(n_class * frac)) if len(keys) > 1 else 0
        taken = 0
        for k in keys:
            if taken < want:
                second += groups[k]
                taken += len(groups[k])
            else:
                first += groups[k]
    return first, second


def _folder_items(root: Path, classes: list[str], group: Callable[[Path], str]) -> list[Item]:
    items = []
    for i, c in enumerate(classes):
        for p in sorted((root / c).rglob("*")):
            if p.suffix.lower() in IMAGE_EXT and p.is_file():
                items.append(Item(p, i, group(p)))
    return items


def _class_dirs(root: Path) -> list[str]:
    return sorted(
        p.name
        for p in root.iterdir()
        if p.is_dir() and not p.name.startswith(".") and any(_images(p))
    )


def _images(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXT and p.is_file()]


def list_items(
    data: Path, group_pattern: str | None = None
) -> tuple[list[str], dict[str, list[Item]]]:
    """Classes and items per split name (``train``/``val``/``test``/``all``) of a folder or CSV.
    Raises UserError, with what to do, for a layout it cannot read."""
    group = group_function(group_pattern)
    if data.suffix.lower() == ".csv":
        try:
            rows = list(csv.DictReader(data.read_text(encoding="utf-8").splitlines()))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise UserError(f"cannot read {data} as a CSV ({exc})") from exc
        if not rows or not {"path", "label"} <= set(rows[0]):
            raise UserError(f"{data} needs a header with 'path' and 'label' columns")
        classes = sorted({r["label"] for r in rows})
        out: dict[str, list[Item]] = {}
        for r in rows:
            p = data.parent / r["path"]
            split = (r.get("split") or "").strip().lower() or "all"
            g = (r.get("group") or "").strip() or group(p)
            out.setdefault(split, []).append(Item(p, classes.index(r["label"]), g))
        missing = [it.path for its in out.values() for it in its if not it.path.is_file()]
        if missing:
            raise UserError(
                f"{data}: {len(missing)} listed image(s) do not exist (first: {missing[0]}); "
                "paths are relative to the CSV's folder"
            )
        return classes, out
    if not data.is_dir():
        raise UserError(f"{data}: give an ImageFolder directory, a .csv or a MedMNIST .npz")
    parts = {p.name.lower(): p for p in data.iterdir() if p.is_dir()}
    if "train" in parts or "test" in parts:
        ref = parts.get("train") or parts["test"]
        classes = _class_dirs(ref)
        out = {
            name: _folder_items(parts[name], classes, group)
            for name in ("train", "val", "test")
            if name in parts
        }
    else:
        classes = _class_dirs(data)
        out = {"all": _folder_items(data, classes, group)}
    if len(classes) < 2:
        raise UserError(
            f"{data}: expected one folder per class with images in it (e.g. {data}/NORMAL/*.png "
            f"and {data}/PNEUMONIA/*.png, optionally under train/ val/ test/), found "
            f"{classes or 'none'}"
        )
    return classes, out


def _read(path: Path) -> np.ndarray:
    from tools.imaging.io import load_image

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc}") from exc
    return load_image(data, str(path)).rgb_uint8()


def decode(items: list[Item], size: int, channels: int, cache: Path | None = None) -> np.ndarray:
    """(N, C, size, size) uint8 for the items, from the cache when it holds them."""
    key = hashlib.sha256(
        json.dumps(
            [size, channels, [[str(it.path.resolve()), it.path.stat().st_size] for it in items]]
        ).encode()
    ).hexdigest()[:16]
    file = cache / f"images-{size}px-{channels}ch-{key}.npy" if cache else None
    if file is not None and file.is_file():
        arr = np.load(file)
        if arr.shape == (len(items), channels, size, size):
            return arr
    arr = np.zeros((len(items), channels, size, size), dtype=np.uint8)
    for i, it in enumerate(items):
        arr[i] = resize_uint8(_read(it.path), size, channels)
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_suffix(".tmp.npy")
        np.save(tmp, arr)
        tmp.replace(file)
    return arr


def _split(items: list[Item], arr: np.ndarray, index: dict[str, int]) -> Split:
    rows = [index[str(it.path)] for it in items]
    return Split(
        torch.from_numpy(arr[rows]) if rows else torch.zeros(0, *arr.shape[1:], dtype=torch.uint8),
        torch.tensor([it.label for it in items], dtype=torch.int64),
        [str(it.path) for it in items],
    )


def load_dataset(
    data: Path,
    size: int,
    channels: int = 1,
    seed: int = 0,
    val_frac: float = 0.1,
    *,
    group_pattern: str | None = None,
    cache: Path | None = None,
) -> Dataset:
    """Training data -> uint8 tensors. Without a ``val`` split, a stratified (and, with
    ``group_pattern``, patient-grouped) ``val_frac`` of train is held out with ``seed`` (the
    split seed, fixed independently of the training seed). A ``test`` split is kept apart."""
    if not data.exists():
        raise UserError(f"training data {data} does not exist")
    if data.suffix.lower() == ".npz":
        try:
            return load_npz(data, size, channels)
        except UserError:
            raise
        except Exception as exc:  # zipfile/numpy raise many types on damaged files
            raise UserError(
                f"{data} is not a readable .npz file ({type(exc).__name__}): give a MedMNIST "
                ".npz, an ImageFolder directory or a CSV"
            ) from exc
    classes, parts = list_items(data, group_pattern)
    train = parts.get("train", []) + parts.get("all", [])
    val = parts.get("val", [])
    test = parts.get("test", [])
    note = "the data's own val split"
    if not val:
        train, val = split_holdout(train, val_frac, seed)
        note = f"stratified {val_frac:.0%} of train, seed {seed}" + (
            f", grouped by {group_pattern!r}" if group_pattern else ", by image"
        )
    everything = train + val + test
    if not train or not val:
        raise UserError(f"{data}: too few images to train ({len(train)} train, {len(val)} val)")
    arr = decode(everything, size, channels, cache)
    index = {str(it.path): i for i, it in enumerate(everything)}
    return Dataset(
        classes,
        _split(train, arr, index),
        _split(val, arr, index),
        _split(test, arr, index) if test else None,
        str(data),
        note,
    )


def load_npz(path: Path, size: int, channels: int = 1) -> Dataset:
    """A MedMNIST ``.npz`` (its official train/val/test splits), resized to ``size``."""
    try:
        npz = np.load(path)
    except (OSError, ValueError) as exc:
        raise UserError(f"{path} is not a readable .npz file ({type(exc).__name__})") from exc
    with npz:
        needed = {"train_images", "train_labels", "val_images", "val_labels"}
        if not needed <= set(npz.files):
            raise UserError(f"{path} is not a MedMNIST file (needs {', '.join(sorted(needed))})")

        def split(name: str) -> Split | None:
            if f"{name}_images" not in npz.files:
                return None
            imgs = npz[f"{name}_images"]
            labels = npz[f"{name}_labels"].reshape(-1).astype(np.int64)
            x = np.stack([resize_uint8(np.asarray(im), size, channels) for im in imgs])
            names = [f"{path.name}:{name}[{i}]" for i in range(len(labels))]
            return Split(torch.from_numpy(x), torch.from_numpy(labels), names)

        train, val, test = split("train"), split("val"), split("test")
        n_classes = int(max(int(npz["train_labels"].max()), int(npz["val_labels"].max())) + 1)
    assert train is not None and val is not None
    return Dataset(
        [str(i) for i in range(n_classes)], train, val, test, str(path), "the data's own val split"
    )
