"""``clinassist bench image``: ms/image and peak memory, cold and warm, with Grad-CAM and
without, plus the Keras-on-torch baseline our plain-torch port replaces (full run only)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from assistant.config import Settings
from tools.imaging import registry
from tools.imaging.io import load_image

Echo = Callable[[str], None]

_COLD = """
import json, resource, sys, time
t0 = time.perf_counter()
from assistant.config import load_settings
from tools.imaging.io import load_image
from tools.imaging.pipeline import ImagingEngine
s = load_settings(None, environ={{}}, data_dir={data_dir!r}, models={{"cache_dir": {cache!r}}})
e = ImagingEngine(s)
r = e.classify(load_image(open({image!r}, "rb").read(), "x"), heatmap=True)
print(json.dumps({{"cold_ms": (time.perf_counter() - t0) * 1000, "label": r["label"],
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""

_KERAS = """
import os, json, time
os.environ["KERAS_BACKEND"] = "torch"
import numpy as np, torch, keras
m = keras.saving.load_model({path!r}, compile=False)
x = torch.zeros(1, 150, 150, 3)
with torch.no_grad():
    m(x, training=False)
    ts = []
    for _ in range({n}):
        t = time.perf_counter(); m(x, training=False); ts.append((time.perf_counter() - t) * 1000)
print(json.dumps({{"keras_torch_backend_ms": sorted(ts)[len(ts) // 2]}}))
"""


def _run_json(code: str, env: dict[str, str]) -> dict[str, Any]:
    """Run a Python snippet in a fresh process (a cold start) and read its last JSON line."""
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1:]}
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def bench(settings: Settings, *, quick: bool, echo: Echo) -> dict[str, Any]:
    from tools.imaging.pipeline import ImagingEngine

    entry = registry.get(registry.DEFAULT)
    images = registry.samples(settings, entry)
    n = 4 if quick else len(images)
    engine = ImagingEngine(settings)
    engine.centroids()  # guard references (cached on disk after the first run)
    decoded = [load_image(p.read_bytes(), p.name) for p, _ in images[:n]]
    engine.classify(decoded[0], heatmap=False)  # warm-up
    out: dict[str, Any] = {"n_images": n, "device": "cpu", "torch_threads": _threads()}
    for cam in (False, True):
        times = []
        for img in decoded:
            t = time.perf_counter()
            engine.classify(img, heatmap=cam)
            times.append((time.perf_counter() - t) * 1000)
        key = "warm_ms_with_heatmap" if cam else "warm_ms"
        out[key] = {"p50": round(statistics.median(times), 1), "max": round(max(times), 1)}
        echo(f"image[{key}]: p50 {out[key]['p50']} ms, max {out[key]['max']} ms over {n} images")
    env = dict(os.environ, KERAS_BACKEND="torch")
    cold = _run_json(
        _COLD.format(
            data_dir=str(settings.data_dir),
            cache=str(settings.models.cache_dir),
            image=str(images[0][0]),
        ),
        env,
    )
    out["cold"] = cold
    if "error" not in cold:
        echo(
            f"image[cold]: {cold['cold_ms']:.0f} ms to the first result, "
            f"peak RSS {cold['peak_rss_mb']:.0f} MB"
        )
    if not quick:  # baseline: the same network through Keras 3 on the torch backend
        path = registry.model_dir(settings, entry) / "model.keras"
        base = _run_json(_KERAS.format(path=str(path), n=5), env)
        if "error" not in base:
            out["baseline"] = base
            echo(f"image[baseline keras/torch forward]: {base['keras_torch_backend_ms']:.0f} ms")
    return out


def _threads() -> int:
    import torch

    return int(torch.get_num_threads())
