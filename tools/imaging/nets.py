"""Our own networks in plain torch (no torchvision), their input tensors and checkpoints.

- :class:`ResNet`: the ResNet-18 layout (basic blocks, 2-2-2-2 by default) with a configurable
  width and depth; ``width=64`` is the ResNet-18 that MedMNIST v2 reports as its baseline.
- :class:`Ensemble`: several trained networks whose logits are averaged (members differ only in
  their training seed); one checkpoint holds them all.

A checkpoint (``.pt``, written by :mod:`tools.imaging.train`) is ``{"meta", "state_dict",
"result"}``: ``meta`` says how to rebuild the network and prepare its input, so a checkpoint
loads without the code that trained it (``torch.load(..., weights_only=True)``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from assistant.core.errors import UserError


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short: nn.Module = nn.Identity()
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(y)) + self.short(x))


INPUT_NORMS = ("none", "zscore", "histeq")


class Standardize(nn.Module):
    """Per-image intensity standardisation, the network's first step (so training, ``classify``
    and ``eval`` all apply it): ``zscore`` maps each image to mean 0 and standard deviation 1
    (brightness and contrast no longer matter); ``histeq`` replaces each pixel by its rank in the
    image's 256-bin histogram (the empirical CDF mapped to [-1, 1]; any monotone intensity change
    -- gamma, window, exposure -- gives the same input). ``none`` passes the input through."""

    def __init__(self, mode: str = "none") -> None:
        super().__init__()
        if mode not in INPUT_NORMS:
            raise UserError(f"input normalisation {mode!r}: use one of {', '.join(INPUT_NORMS)}")
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "zscore":
            mean = x.mean(dim=(1, 2, 3), keepdim=True)
            std = x.std(dim=(1, 2, 3), keepdim=True)
            return (x - mean) / (std + 1e-3)
        if self.mode == "histeq":
            n = x.shape[0]
            bins = ((x.clamp(-1, 1) + 1) * 127.5).round().long().reshape(n, -1)
            counts = torch.zeros(n, 256, dtype=x.dtype, device=x.device)
            counts.scatter_add_(1, bins, torch.ones_like(bins, dtype=x.dtype))
            # mid-rank of each grey level: the share of pixels below it plus half its own
            cdf = (counts.cumsum(1) - counts / 2) / bins.shape[1]
            return (cdf.gather(1, bins) * 2 - 1).reshape(x.shape)
        return x


class ResNet(nn.Module):
    """ResNet layout (basic blocks; ``blocks`` per stage, 4 stages doubling the width) with a
    configurable width. Small inputs (<= 64 px) use a 3x3 stem without max-pooling, as
    MedMNIST's 28 px ResNet does; larger inputs the usual 7x7/2 stem and 3x3/2 max-pool."""

    def __init__(
        self,
        n_classes: int,
        channels: int = 1,
        width: int = 64,
        small_input: bool = True,
        blocks: tuple[int, ...] = (2, 2, 2, 2),
        dropout: float = 0.0,
        input_norm: str = "none",
    ) -> None:
        super().__init__()
        self.norm = Standardize(input_norm)
        if small_input:
            self.stem: nn.Module = nn.Sequential(
                nn.Conv2d(channels, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU()
            )
        else:
            self.stem = nn.Sequential(
                nn.Conv2d(channels, width, 7, 2, 3, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(),
                nn.MaxPool2d(3, 2, 1),
            )
        layers: list[nn.Module] = []
        cin = width
        for i, n in enumerate(blocks):
            w = width * 2**i
            stage = [BasicBlock(cin, w, 1 if i == 0 else 2)]
            stage += [BasicBlock(w, w, 1) for _ in range(max(0, n - 1))]
            layers.append(nn.Sequential(*stage))
            cin = w
        self.stages = nn.Sequential(*layers)
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(cin, n_classes)

    def cam_layer(self) -> nn.Module:
        """Grad-CAM hooks the last stage."""
        return self.stages[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stages(self.stem(self.norm(x)))
        return self.fc(self.drop(x.mean(dim=(2, 3))))


class Ensemble(nn.Module):
    """Members with the same architecture; the output is the mean of their logits."""

    def __init__(self, members: list[nn.Module]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([m(x) for m in self.members]).mean(dim=0)


def build(meta: dict[str, Any]) -> nn.Module:
    """The network a checkpoint's ``meta`` describes (one ResNet, or an ensemble of them)."""

    def one() -> ResNet:
        return ResNet(
            len(meta["classes"]),
            int(meta.get("channels", 1)),
            int(meta["width"]),
            bool(meta["small_input"]),
            tuple(int(b) for b in meta.get("blocks", (2, 2, 2, 2))),
            float(meta.get("dropout", 0.0)),
            str(meta.get("input_norm", "none")),
        )

    members = int(meta.get("members", 0))
    return Ensemble([one() for _ in range(members)]) if members else one()


def state_for_save(model: nn.Module, half: bool = False) -> dict[str, torch.Tensor]:
    """The state dict to save; floating tensors as float16 with ``half`` (loaded as float32)."""
    sd = model.state_dict()
    return {k: v.half() if half and v.is_floating_point() else v for k, v in sd.items()}


def resize_uint8(rgb: np.ndarray, size: int, channels: int = 1) -> np.ndarray:
    """(H, W[, 3]) uint8 -> (C, size, size) uint8: grayscale (or RGB), bilinear resize to a
    square (the aspect ratio is not kept, as in the training images)."""
    from PIL import Image

    img = Image.fromarray(rgb.astype(np.uint8))
    img = img.convert("L" if channels == 1 else "RGB").resize(
        (size, size), Image.Resampling.BILINEAR
    )
    arr = np.array(img, dtype=np.uint8)  # a writable copy
    return arr[None] if channels == 1 else arr.transpose(2, 0, 1)


def scale(x: torch.Tensor | np.ndarray) -> torch.Tensor:
    """uint8 0–255 -> float32 in [-1, 1]."""
    t = torch.as_tensor(x)
    return t.to(torch.float32) / 127.5 - 1.0


def to_tensor(rgb: np.ndarray, size: int, channels: int = 1) -> torch.Tensor:
    """(H, W[, 3]) uint8 -> (C, size, size) float in [-1, 1] (bilinear resize)."""
    return scale(np.ascontiguousarray(resize_uint8(rgb, size, channels)))


def load_checkpoint(path: Path) -> tuple[nn.Module, dict[str, Any]]:
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        meta = dict(ckpt["meta"])
        net = build(meta)
        net.load_state_dict(ckpt["state_dict"])
    except (OSError, RuntimeError, EOFError, KeyError, TypeError, ValueError) as exc:
        raise UserError(
            f"{path} is not a checkpoint written by `clinassist train image`: {exc}"
        ) from exc
    net.eval()
    return net, meta
