from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from assistant import models
from assistant.config import load_settings
from assistant.errors import ModelError


def fake_catalogue(monkeypatch: pytest.MonkeyPatch, parts: list[bytes], sha: str) -> None:
    spec = models.ModelSpec(
        id="tiny",
        file="tiny.gguf",
        sha256=sha,
        size=sum(map(len, parts)),
        license="test",
        roles=("test",),
        pieces=tuple(
            models.Piece(package=f"pkg{i}==1", member=f"pkg{i}/data/part{i}.bin")
            for i in range(len(parts))
        ),
    )
    monkeypatch.setattr(models, "catalogue", lambda: {"tiny": spec})


def downloader(parts: list[bytes], calls: list[str]):  # type: ignore[no-untyped-def]
    def download(package: str, dest: Path) -> Path:
        calls.append(package)
        i = int(package[3])
        wheel = dest / f"pkg{i}-1-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as zf:
            zf.writestr(f"pkg{i}/data/part{i}.bin", parts[i])
        return wheel

    return download


def test_fetch_joins_pieces_verifies_and_caches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = [b"GGUF" + b"a" * 100, b"b" * 50]
    sha = hashlib.sha256(b"".join(parts)).hexdigest()
    fake_catalogue(monkeypatch, parts, sha)
    settings = load_settings(None, environ={}, models={"cache_dir": str(tmp_path)})
    calls: list[str] = []
    path = models.fetch(settings, "tiny", downloader=downloader(parts, calls))
    assert path.read_bytes() == b"".join(parts) and calls == ["pkg0==1", "pkg1==1"]
    models.fetch(settings, "tiny", downloader=downloader(parts, calls))
    assert len(calls) == 2  # cached: no second download
    assert models.resolve_model_path(settings, "tiny") == path


def test_checksum_mismatch_discards_the_download(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = [b"GGUF" + b"a" * 10]
    fake_catalogue(monkeypatch, parts, "0" * 64)
    settings = load_settings(None, environ={}, models={"cache_dir": str(tmp_path)})
    with pytest.raises(ModelError, match="checksum mismatch"):
        models.fetch(settings, "tiny", downloader=downloader(parts, []))
    assert not list(tmp_path.iterdir())
    with pytest.raises(ModelError, match="not fetched"):
        models.resolve_model_path(settings, "tiny")


def test_unknown_model_and_catalogue_shape() -> None:
    settings = load_settings(None, environ={})
    with pytest.raises(ModelError, match="unknown model"):
        models.fetch(settings, "nope")
    cat = models.catalogue()
    assert cat["qwen2.5-coder-0.5b-instruct-q5_0"].size == 491_400_064
    assert all(len(m.sha256) == 64 for m in cat.values())
