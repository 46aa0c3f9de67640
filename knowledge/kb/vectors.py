"""Precomputed all-MiniLM-L6-v2 vectors of the default corpus, shipped with the repository.

Embedding the default corpus (~115k distinct passage, name and synonym texts, ~2.4M tokens)
takes ~5.5 min on 2 idle cores, more than everything else in an ingest together. So the
repository ships every one of those vectors once (``knowledge/data/kb/minilm-vectors.npz``):

- keyed by text, not by passage: an 8-byte BLAKE2b hash of the exact string the embedder
  would see (a passage's ``embed_text``, a name, a synonym), so a changed source only misses
  the texts that changed, and those are embedded as usual;
- int8 per row with a float32 scale (cosine to the fp32 vector >= 0.9999; ``dequantize``
  restores unit length), ~41 MB, zip-compressed;
- stamped (``minilm-vectors.json``) with the embedder name, a hash of the model files it was
  computed with, and the file's SHA-256: a table whose checksum fails, or that another model
  (other weights, another runtime's name such as the int8 export) would not reproduce, is
  ignored and every text is embedded.

``python -m knowledge.kb.vectors`` recomputes the file from the current default sources with the
packaged model (~6 min); see docs/KNOWLEDGE.md.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.core.embeddings import Embedder

log = logging.getLogger(__name__)

FORMAT = 1
DATA = Path(__file__).resolve().parents[1] / "data" / "kb"
TABLE = DATA / "minilm-vectors.npz"
STAMP = DATA / "minilm-vectors.json"
MODEL_FILES = ("model.safetensors", "tokenizer.json", "config.json")
"""What decides a MiniLM vector: the weights, the tokenizer, the architecture."""


def text_keys(texts: Iterable[str]) -> np.ndarray:
    """uint64 key per text (8-byte BLAKE2b of its UTF-8)."""
    return np.fromiter(
        (
            int.from_bytes(hashlib.blake2b(t.encode("utf-8"), digest_size=8).digest(), "little")
            for t in texts
        ),
        dtype=np.uint64,
    )


def model_key(model_dir: Path) -> str:
    """Hash of the files that decide the vectors (the packaged model's)."""
    h = hashlib.sha256()
    for name in MODEL_FILES:
        path = Path(model_dir) / name
        if path.is_file():
            h.update(name.encode())
            with path.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
    return h.hexdigest()[:32]


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def quantize(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows -> (int8 rows, float32 scale per row): ``row ~= int8 * scale``."""
    vecs = np.asarray(vectors, dtype=np.float32)
    scale = np.abs(vecs).max(axis=1) / 127.0 if len(vecs) else np.zeros(0, np.float32)
    scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
    q = np.clip(np.rint(vecs / scale[:, None]), -127, 127).astype(np.int8)
    return q, scale


def dequantize(q: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Unit-length float32 rows (as the embedders return)."""
    vecs = q.astype(np.float32) * np.asarray(scale, np.float32)[:, None]
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    return vecs / np.maximum(norms, 1e-12)


@dataclass
class VectorTable:
    keys: np.ndarray
    """Sorted uint64 text keys."""
    vectors: np.ndarray
    """int8, one row per key."""
    scales: np.ndarray
    model: str
    model_key: str

    def lookup(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(found mask, unit float32 rows for the found texts, in order)."""
        if not len(texts) or not len(self.keys):
            return np.zeros(len(texts), bool), np.zeros((0, self.vectors.shape[1]), np.float32)
        keys = text_keys(texts)
        pos = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        found = self.keys[pos] == keys
        rows = pos[found]
        return found, dequantize(self.vectors[rows], self.scales[rows])


def save(
    vectors: np.ndarray, texts: Sequence[str], *, model: str, key: str, out: Path = TABLE
) -> dict[str, object]:
    """Write the table for ``texts`` (distinct) and its stamp, atomically; the stamp's dict."""
    keys = text_keys(texts)
    if len(np.unique(keys)) != len(keys):
        raise ValueError("texts must be distinct (or two of them share a key)")
    order = np.argsort(keys)
    q, scale = quantize(np.asarray(vectors)[order])
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".npz")
    os.close(fd)
    try:
        np.savez_compressed(tmp, keys=keys[order], vectors=q, scales=scale)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    stamp: dict[str, object] = {
        "format": FORMAT,
        "model": model,
        "model_key": key,
        "texts": len(keys),
        "dim": int(q.shape[1]) if q.ndim == 2 else 0,
        "sha256": file_sha256(out),
    }
    out.with_suffix(".json").write_text(json.dumps(stamp, indent=1) + "\n", encoding="utf-8")
    return stamp


def load(path: Path = TABLE) -> VectorTable | None:
    """The table when its stamp and checksum hold, else None (logged)."""
    try:
        stamp = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        if stamp.get("format") != FORMAT:
            log.info("precomputed vectors %s: format %s, not %s", path, stamp.get("format"), FORMAT)
            return None
        if file_sha256(path) != stamp["sha256"]:
            log.warning("precomputed vectors %s fail their checksum: embedding every text", path)
            return None
        with np.load(path) as npz:
            table = VectorTable(
                npz["keys"], npz["vectors"], npz["scales"], str(stamp["model"]), stamp["model_key"]
            )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.info("no precomputed vectors at %s (%s)", path, exc)
        return None
    return table


def for_embedder(embedder: Embedder, path: Path = TABLE) -> VectorTable | None:
    """The shipped table when ``embedder`` is the model that computed it (same name, same model
    files), else None: its vectors would not be the ones ``embedder`` gives queries."""
    model_dir = getattr(embedder, "model_dir", None)
    if model_dir is None or not path.with_suffix(".json").is_file():
        return None
    try:
        stamp = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if stamp.get("model") != embedder.name or stamp.get("model_key") != model_key(model_dir):
        log.info("precomputed vectors are for %s: embedding every text", stamp.get("model"))
        return None
    return load(path)


class PrecomputedEmbedder:
    """``inner`` with the table's vectors for the texts it holds (only the rest is embedded)."""

    def __init__(self, inner: Embedder, table: VectorTable) -> None:
        self.inner = inner
        self.table = table
        self.name = inner.name
        self.dim = inner.dim
        self.hits = 0
        self.misses = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        found, vecs = self.table.lookup(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        out[found] = vecs
        missing = [t for t, f in zip(texts, found, strict=True) if not f]
        if missing:
            out[~found] = np.asarray(self.inner.embed(missing), dtype=np.float32)
        self.hits += int(found.sum())
        self.misses += len(missing)
        return out


def corpus_texts(names: Sequence[str] | None = None) -> list[str]:
    """Every distinct text the default corpus's ingest embeds (passages, names, synonyms), in
    a stable order. Sources not installed here are left out (with a log line)."""
    from knowledge.kb.sources import DEFAULT_SOURCES, SourceUnavailableError, get_source

    seen: dict[str, None] = {}
    for name in names or DEFAULT_SOURCES:
        try:
            src = get_source(name)
        except SourceUnavailableError as exc:
            log.warning("%s: left out of the precomputed vectors: %s", name, exc.message)
            continue
        for chunk in src.chunks():
            seen.setdefault(chunk.embed_text or chunk.text)
            for alias in chunk.aliases:
                if alias.strip():
                    seen.setdefault(alias)
    return list(seen)


def main(argv: Sequence[str] | None = None) -> int:
    """Recompute the shipped table with the packaged model (onnxruntime, fp32)."""
    import argparse
    import time

    from assistant.core.config import load_settings
    from assistant.core.embeddings import build_embedder

    parser = argparse.ArgumentParser(prog="python -m knowledge.kb.vectors", description=__doc__)
    parser.add_argument("--out", type=Path, default=TABLE)
    parser.add_argument("sources", nargs="*", help="default: the default corpus")
    args = parser.parse_args(argv)
    embedder = build_embedder(load_settings())
    model_dir = getattr(embedder, "model_dir", None)
    if model_dir is None:
        parser.error("the configured embedder is not the packaged MiniLM model")
    t0 = time.perf_counter()
    texts = corpus_texts(args.sources)
    vecs = np.zeros((len(texts), embedder.dim), np.float32)
    step = 4096
    for start in range(0, len(texts), step):
        vecs[start : start + step] = embedder.embed(texts[start : start + step])
        print(f"{min(start + step, len(texts))}/{len(texts)}", flush=True)
    stamp = save(vecs, texts, model=embedder.name, key=model_key(Path(model_dir)), out=args.out)
    print(f"{args.out}: {stamp['texts']} texts in {time.perf_counter() - t0:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
