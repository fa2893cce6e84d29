"""``airbench``: the design of the fastest public CIFAR-10 recipes (Keller Jordan's airbench94),
written anew for this package.

- A frozen 2×2 patch-whitening convolution, initialised from the statistics of training
  patches (the eigenvectors of their covariance, scaled by 1/√eigenvalue, and their
  negatives), so that the first trained layer sees decorrelated inputs from step one.
- Three conv groups (conv 3×3, max-pool 2, BatchNorm, GELU, conv 3×3, BatchNorm, GELU) of
  widths 64 / 256 / 256 times ``width``; convolutions start as identities on their first
  channels (Dirac), BatchNorm with a high momentum and no trained scale.
- A 3×3 max-pool head into a linear layer scaled by 1/9.

The recipe around it is params: label smoothing 0.2, Nesterov SGD, batch 1,024, about 10
epochs, flip and 2-px reflect-translate augmentation with alternating flips, and flip-and-
translate test-time augmentation (``tta``). See ``search_spaces/cifar10_speedrun.json``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import torch
from torch import nn
from torch.nn import functional as F

if TYPE_CHECKING:
    from training.models import ModelSpec

WHITEN_KERNEL = 2
WHITEN_EPS = 5e-4
WHITEN_PATCH_IMAGES = 5000  # training images whose patches set the whitening
WIDTHS = (64, 256, 256)
BATCHNORM_MOMENTUM = 0.4  # PyTorch's convention: 1 − airbench's 0.6
HEAD_SCALE = 1 / 9


class _Conv(nn.Conv2d):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__(c_in, c_out, kernel_size=3, padding="same", bias=False)
        with torch.no_grad():  # start as the identity on the first channels
            nn.init.dirac_(self.weight[: min(c_in, c_out)])


def _batch_norm(channels: int) -> nn.BatchNorm2d:
    norm = nn.BatchNorm2d(channels, eps=1e-12, momentum=BATCHNORM_MOMENTUM)
    norm.weight.requires_grad_(False)  # the scale stays 1: only the shift is learnt
    return norm


class _ConvGroup(nn.Sequential):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__(
            _Conv(c_in, c_out), nn.MaxPool2d(2), _batch_norm(c_out), nn.GELU(),
            _Conv(c_out, c_out), _batch_norm(c_out), nn.GELU(),
        )  # fmt: skip


class AirbenchNet(nn.Module):
    """About 2 M parameters at width 1 and 10 classes; 32-px inputs (any size ≥ 16 works)."""

    def __init__(self, s: ModelSpec) -> None:
        super().__init__()
        widths = [max(8, round(w * s.width)) for w in WIDTHS]
        whiten_width = 2 * s.in_channels * WHITEN_KERNEL**2
        self.whiten = nn.Conv2d(s.in_channels, whiten_width, WHITEN_KERNEL, padding=0)
        self.whiten.weight.requires_grad_(False)
        self.features = nn.Sequential(
            nn.GELU(),
            _ConvGroup(whiten_width, widths[0]),
            _ConvGroup(widths[0], widths[1]),
            _ConvGroup(widths[1], widths[2]),
            nn.AdaptiveMaxPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Linear(widths[2], s.num_classes, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.head(self.features(self.whiten(x))) * HEAD_SCALE
        return out


def init_whitening(model: nn.Module, images: torch.Tensor) -> None:
    """Set the whitening convolution from the 2×2 patches of normalised training images."""
    assert isinstance(model, AirbenchNet)
    weight = model.whiten.weight
    c, h, w = weight.shape[1:]
    x = images[:WHITEN_PATCH_IMAGES].float()
    patches = x.unfold(2, h, 1).unfold(3, w, 1).transpose(1, 3).reshape(-1, c * h * w)
    covariance = patches.T @ patches / patches.shape[0]
    eigenvalues, eigenvectors = torch.linalg.eigh(covariance)
    scaled = eigenvectors.T / torch.sqrt(eigenvalues.clamp_min(0) + WHITEN_EPS)[:, None]
    kernels = scaled.reshape(c * h * w, c, h, w).flip(0)  # the largest eigenvalue first
    with torch.no_grad():
        weight.copy_(torch.cat([kernels, -kernels]).to(weight.device))


def flip_translate_logits(
    model: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor
) -> torch.Tensor:
    """Test-time augmentation: the mean of the logits of the image and its mirror, averaged
    with those of the image shifted one pixel up-left and down-right (reflect padding)."""

    def mirrored(inputs: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = 0.5 * model(inputs) + 0.5 * model(inputs.flip(-1))
        return out

    h, w = x.shape[-2:]
    padded = F.pad(x, (1, 1, 1, 1), mode="reflect")
    shifted = [padded[..., 0:h, 0:w], padded[..., 2 : h + 2, 2 : w + 2]]
    translated = torch.stack([mirrored(s) for s in shifted]).mean(0)
    return 0.5 * mirrored(x) + 0.5 * translated
