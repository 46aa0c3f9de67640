"""Classifiers behind one small interface, and Grad-CAM with forward hooks.

- :class:`PackagedXception`: the packaged Keras 3 models, ported to plain torch (see
  :mod:`tools.imaging.xception`; Keras itself is only needed by the test that checks the port).
  A forward hook on the last feature map gives Grad-CAM and the out-of-scope guard's features.
- :class:`TorchClassifier`: a checkpoint written by :mod:`tools.imaging.train` (plain torch).

Both expose ``prepare(image) -> tensor``, ``run(x, cam_class) -> Output`` and ``classes``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from assistant.core.errors import ModelError
from tools.imaging.io import LoadedImage


@dataclass
class Output:
    logits: np.ndarray  # (n_classes,)
    features: np.ndarray  # (C,) global-average-pooled last feature map (for the guard)
    cam: np.ndarray | None  # (h, w) in [0, 1], Grad-CAM for the requested class


class Classifier(Protocol):
    classes: tuple[str, ...]

    def prepare(self, image: LoadedImage) -> Any: ...

    def run(self, x: Any, cam_class: int | str | None = None) -> Output: ...


def _torch() -> Any:
    import torch

    return torch


def resize_nearest(rgb: np.ndarray, size: int) -> np.ndarray:
    """Keras ``load_img`` resize (PIL nearest), which these models were trained with."""
    from PIL import Image

    return np.asarray(Image.fromarray(rgb).resize((size, size), Image.Resampling.NEAREST))


def grad_cam(
    model: Any,
    layer: Any,
    x: Any,
    cam_class: int | str | None,
    *,
    channels_last: bool,
) -> Output:
    """One forward pass; a forward hook on ``layer`` captures its output as a leaf tensor.

    With ``cam_class`` set (a class index, or ``"top"`` for the predicted class), that class's
    logit is back-propagated to the feature map only (the weights need no gradients), and the
    Grad-CAM map is ReLU(sum_k mean(dy/dA_k) * A_k), scaled to [0, 1]."""
    torch = _torch()
    captured: dict[str, Any] = {}
    want = cam_class is not None

    def hook(_module: Any, _inputs: Any, output: Any) -> Any:
        leaf = output.detach().requires_grad_(want)
        captured["a"] = leaf
        return leaf

    handle = layer.register_forward_hook(hook)
    try:
        with torch.set_grad_enabled(want):
            logits = model(x)
    finally:
        handle.remove()
    if cam_class == "top":
        cam_class = int(logits.detach()[0].argmax())
    acts = captured["a"]
    acts_chw = acts.permute(0, 3, 1, 2) if channels_last else acts  # -> (1, C, h, w)
    features = acts_chw.detach().mean(dim=(2, 3))[0].cpu().numpy().astype(np.float32)
    cam = None
    if isinstance(cam_class, int):
        (grad,) = torch.autograd.grad(logits[0, cam_class], acts)
        grad_chw = grad.permute(0, 3, 1, 2) if channels_last else grad
        weights = grad_chw.mean(dim=(2, 3), keepdim=True)
        raw = torch.relu((weights * acts_chw.detach()).sum(dim=1))[0].cpu().numpy()
        top = float(raw.max())
        cam = (raw / top).astype(np.float32) if top > 0 else np.zeros_like(raw, dtype=np.float32)
    return Output(
        logits=logits.detach()[0].cpu().numpy().astype(np.float64), features=features, cam=cam
    )


class PackagedXception:
    """A packaged ``model.keras`` (Xception base + dense head) run by our plain-torch port
    (:mod:`tools.imaging.xception`); the port is checked against Keras in the slow tests."""

    def __init__(self, path: Path, classes: tuple[str, ...], input_size: int = 150) -> None:
        from tools.imaging.xception import load_keras_xception

        self.net, self.info = load_keras_xception(path)
        if self.info["n_classes"] != len(classes):
            raise ModelError(
                f"{path}: the model has {self.info['n_classes']} outputs, the registry lists {len(classes)} classes"
            )
        self.classes = classes
        self.input_size = input_size
        self.path = path

    def prepare(self, image: LoadedImage) -> Any:
        """Keras ``load_img`` nearest resize to 150x150, then Xception scaling x / 127.5 - 1."""
        x = resize_nearest(image.rgb_uint8(), self.input_size).astype(np.float32) / 127.5 - 1.0
        return _torch().from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)[None]))

    def run(self, x: Any, cam_class: int | str | None = None) -> Output:
        return grad_cam(self.net, self.net.last, x, cam_class, channels_last=False)

    def base_digest(self) -> str:
        """A digest of the Xception base weights (both packaged models share one frozen base)."""
        digest = hashlib.sha256()
        for name, t in sorted(self.net.state_dict().items()):
            if not name.startswith(("dense.", "out.")):
                digest.update(name.encode())
                digest.update(t.numpy().tobytes())
        return digest.hexdigest()


class TorchClassifier:
    """A checkpoint from :mod:`tools.imaging.train` (``.pt``: architecture, classes, weights).
    For an ensemble, logits, features and Grad-CAM maps are the members' means."""

    def __init__(self, path: Path) -> None:
        from tools.imaging.nets import load_checkpoint

        self.net, self.meta = load_checkpoint(path)
        self.classes = tuple(self.meta["classes"])
        self.input_size = int(self.meta["input_size"])
        self.channels = int(self.meta.get("channels", 1))
        self.path = path

    def prepare(self, image: LoadedImage) -> Any:
        from tools.imaging.nets import to_tensor

        if self.channels == 1 and not image.is_color:  # same pixels as via RGB, 3x less work
            gray = np.clip(np.rint(image.pixels), 0, 255).astype(np.uint8)
            return to_tensor(gray, self.input_size, 1)[None]
        return to_tensor(image.rgb_uint8(), self.input_size, self.channels)[None]

    def run(self, x: Any, cam_class: int | str | None = None) -> Output:
        from tools.imaging.nets import Ensemble

        self.net.eval()
        if not isinstance(self.net, Ensemble):
            layer = self.net.cam_layer()  # type: ignore[operator]
            return grad_cam(self.net, layer, x, cam_class, channels_last=False)
        if cam_class == "top":  # the ensemble's top class, for every member
            with _torch().no_grad():
                cam_class = int(self.net(x)[0].argmax())
        members: list[Any] = list(self.net.members)
        outs = [grad_cam(m, m.cam_layer(), x, cam_class, channels_last=False) for m in members]
        cams = [o.cam for o in outs if o.cam is not None]
        cam = None
        if cams:
            mean = np.mean(cams, axis=0)
            top = float(mean.max())
            cam = (mean / top).astype(np.float32) if top > 0 else mean.astype(np.float32)
        return Output(
            logits=np.mean([o.logits for o in outs], axis=0),
            features=np.mean([o.features for o in outs], axis=0).astype(np.float32),
            cam=cam,
        )


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64) / max(temperature, 1e-6)
    z = z - z.max()
    e = np.exp(z)
    return np.asarray(e / e.sum())
