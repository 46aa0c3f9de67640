"""MiniLM on onnxruntime gives sentence-transformers' vectors (so an index built with one
serves queries from the other), and the configured embedder picks it without importing torch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.core import onnx_minilm
from assistant.core.config import load_settings
from assistant.core.embeddings import MiniLMEmbedder, build_embedder
from assistant.core.models import minilm_dir

MODEL_CACHE = Path("~/.cache/clinassist/models").expanduser()
TEXTS = [
    "shortness of breath",
    "What is the ICD-10 code for tension pneumothorax?",
    "Pleural effusion. Fluid in the pleural space around the lung.",
    "no",
    "Patient denies chest pain; takes metformin 500 mg twice daily. " * 12,  # > 256 tokens
    "",
]


def test_onnx_is_the_default_runtime_and_loads_nothing_until_used() -> None:
    settings = load_settings(None, environ={}, models={"cache_dir": str(MODEL_CACHE)})
    if minilm_dir() is None:
        pytest.skip("the embedding model package is not installed")
    emb = build_embedder(settings)
    assert isinstance(emb, onnx_minilm.OnnxMiniLMEmbedder)
    assert emb.name == MiniLMEmbedder().name and emb.dim == 384 and emb._session is None
    assert emb.embed([]).shape == (0, 384)


@pytest.mark.slow
def test_onnx_vectors_equal_sentence_transformers(tmp_path: Path) -> None:
    model_dir = minilm_dir()
    if model_dir is None:
        pytest.skip("the embedding model package is not installed")
    exported = onnx_minilm.onnx_path(MODEL_CACHE, quantized=False)
    cache = MODEL_CACHE if onnx_minilm.is_current(exported, model_dir) else tmp_path
    onnx = onnx_minilm.OnnxMiniLMEmbedder(model_dir, cache, threads=1).embed(TEXTS)
    torch = MiniLMEmbedder().embed(TEXTS)
    assert onnx.shape == torch.shape == (len(TEXTS), 384)
    assert np.abs(onnx - torch).max() < 1e-4
    assert float((onnx * torch).sum(axis=1).min()) > 0.9999
