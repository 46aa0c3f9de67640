"""``clinassist bench image``: ms/image and peak memory, cold and warm, with Grad-CAM and
without, plus the Keras-on-torch baseline our plain-torch port replaces (full run only)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

from assistant.core.config import Settings
from assistant.core.types import Echo
from tools.imaging import registry
from tools.imaging.io import load_image

_COLD = """
import json, resource, sys, time
t0 = time.perf_counter()
from assistant.core.config import load_settings
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

    entry = registry.get(registry.GUARD_MODEL)
    images = registry.samples(settings, entry)
    n = 4 if quick else len(images)
    engine = ImagingEngine(settings)
    engine.centroids()  # guard references (cached on disk after the first run)
    decoded = [load_image(p.read_bytes(), p.name) for p, _ in images[:n]]
    out: dict[str, Any] = {
        "n_images": n,
        "device": "cpu",
        "torch_threads": _threads(),
        "load_avg_start": [round(v, 2) for v in os.getloadavg()],
        "default_cxr_model": registry.DEFAULTS["cxr"],
    }
    out["models"] = _models(engine, decoded, echo)
    for cam in (False, True):  # the whole pipeline: guard (Xception features) + default model
        engine.classify(decoded[0], heatmap=cam)  # warm-up
        times = []
        for img in decoded:
            t = time.perf_counter()
            engine.classify(img, heatmap=cam)
            times.append((time.perf_counter() - t) * 1000)
        key = "warm_ms_with_heatmap" if cam else "warm_ms"
        out[key] = {"p50": round(statistics.median(times), 1), "max": round(max(times), 1)}
        echo(
            f"image[pipeline {key}, {registry.DEFAULTS['cxr']}]: p50 {out[key]['p50']} ms, "
            f"max {out[key]['max']} ms over {n} images"
        )
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
    out["load_avg_end"] = [round(v, 2) for v in os.getloadavg()]
    return out


def _models(engine: Any, decoded: list[Any], echo: Echo) -> dict[str, Any]:
    """Each chest model alone, warm, per image: input preparation, forward pass, forward +
    Grad-CAM (p50 over the images, each timed 3 times, interleaved so load hits all alike)."""
    loaded = {k: engine.model(k) for k, e in registry.REGISTRY.items() if e.domain == "cxr"}
    times: dict[str, dict[str, list[float]]] = {
        k: {"prepare": [], "forward": [], "forward_gradcam": []} for k in loaded
    }
    for lm in loaded.values():  # warm-up
        lm.model.run(lm.model.prepare(decoded[0]), "top")
    for _ in range(3):
        for img in decoded:
            for key, lm in loaded.items():
                t0 = time.perf_counter()
                x = lm.model.prepare(img)
                t1 = time.perf_counter()
                lm.model.run(x)
                t2 = time.perf_counter()
                lm.model.run(x, "top")
                t3 = time.perf_counter()
                times[key]["prepare"].append((t1 - t0) * 1000)
                times[key]["forward"].append((t2 - t1) * 1000)
                times[key]["forward_gradcam"].append((t3 - t2) * 1000)
    out: dict[str, Any] = {}
    for key, lm in loaded.items():
        row = {k: round(statistics.median(v), 1) for k, v in times[key].items()}
        row["params"] = sum(int(p.numel()) for p in _net(lm.model).parameters())
        out[key] = row
        echo(
            f"image[model {key}]: prepare {row['prepare']} ms + forward {row['forward']} ms "
            f"(with Grad-CAM {row['forward_gradcam']} ms), {row['params']:,} parameters"
        )
    return out


def _net(model: Any) -> Any:
    return model.net


def _threads() -> int:
    import torch

    return int(torch.get_num_threads())
