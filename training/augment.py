"""Batched augmentation on uint8 tensors, on whatever device holds them.

Small images (≤ 64 px, e.g. CIFAR-10) get a random translation by up to 1/8 of their size
(4 pixels at 32 px: pad and crop, as in the fast ResNet-9 report's recipe) and a horizontal
flip where the data set allows it (not for digits). Large images are stored whole at 8/7 of
the model's resolution (256 for 224) with their aspect ratios, and get a random-resized crop
from anywhere in the photo plus flip for training, a centre crop for evaluation. All of it
works on the whole batch at once, on the GPU when the data lives there: no per-image Python.
The random numbers come from a generator on the same device, so that a training step never
waits for the host (no copy, no sync).
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

#: Area range of a random-resized crop. Narrower than ImageNet's (0.08, 1): course data sets
#: are small and fine-tuning from pretrained weights prefers whole objects.
CROP_SCALE = (0.25, 1.0)
CROP_RATIO = (3 / 4, 4 / 3)


def random_translate_flip(
    images: torch.Tensor,
    pad: int,
    generator: torch.Generator,
    *,
    flip: bool = True,
    reflect: bool = False,
    flips: torch.Tensor | None = None,
) -> torch.Tensor:
    """Shift each image by up to ``pad`` pixels and flip half of them (or those ``flips``
    says). The edge brought in is zeros, or the image mirrored (``reflect``)."""
    n, c, h, w = images.shape
    device = images.device
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=generator, device=device)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=generator, device=device)
    rows = dy[:, None] + torch.arange(h, device=device)[None, :]
    cols = dx[:, None] + torch.arange(w, device=device)[None, :]
    if reflect:  # index the image itself, mirrored at its edges: no padded copy
        source = images
        rows, cols = _reflect(rows - pad, h), _reflect(cols - pad, w)
    else:
        source = F.pad(images, (pad, pad, pad, pad))
    batch = torch.arange(n, device=device)[:, None, None, None]
    channel = torch.arange(c, device=device)[None, :, None, None]
    shifted = source[batch, channel, rows[:, None, :, None], cols[:, None, None, :]]
    if flips is not None:
        return torch.where(flips[:, None, None, None], shifted.flip(-1), shifted)
    return _flip_half(shifted, generator) if flip else shifted


def _reflect(index: torch.Tensor, size: int) -> torch.Tensor:
    """Indices outside 0..size-1 mirrored back inside (as ``F.pad(mode="reflect")``)."""
    index = index.abs()
    return torch.where(index >= size, 2 * (size - 1) - index, index)


def random_resized_crop_flip(
    images: torch.Tensor,
    size: int,
    generator: torch.Generator,
    *,
    aspect: torch.Tensor | None = None,
    flip: bool = True,
) -> torch.Tensor:
    """A random crop of each image (area and aspect ratio in CROP_SCALE / CROP_RATIO of the
    *original* photo), resized to ``size`` with one batched ``roi_align``; half of them
    flipped. Returns float pixels in [0, 255].

    ``aspect``: width / height of each original when the images are stored whole, squeezed
    to a square (see ``decode``): the crop is drawn in the original's geometry, from anywhere
    in it, and unsqueezed by the resampling. None: the stored images are the originals.
    """
    n, _, h, w = images.shape
    device = images.device
    scale = torch.empty(n, device=device).uniform_(*CROP_SCALE, generator=generator)
    log_ratio = torch.empty(n, device=device).uniform_(
        math.log(CROP_RATIO[0]), math.log(CROP_RATIO[1]), generator=generator
    )
    ratio = torch.exp(log_ratio)
    a = torch.ones(n, device=device) if aspect is None else aspect.float()
    # Crop sides as fractions of the original's sides: area scale·W·H, width / height = ratio.
    frac_w = torch.sqrt(scale * ratio / a).clamp(max=1.0)
    frac_h = torch.sqrt(scale * a / ratio).clamp(max=1.0)
    x0 = torch.rand(n, generator=generator, device=device) * (1.0 - frac_w)
    y0 = torch.rand(n, generator=generator, device=device) * (1.0 - frac_h)
    crops = _resample(images, x0 * w, y0 * h, frac_w * w, frac_h * h, size)
    return _flip_half(crops, generator) if flip else crops


def center_crop_whole(
    images: torch.Tensor, aspect: torch.Tensor, size: int, stored: int
) -> torch.Tensor:
    """The evaluation crop of images stored whole: the centre ``size`` of the original resized
    to ``stored`` on its short side (resize 256, crop 224), as float pixels in [0, 255]."""
    h, w = images.shape[-2:]
    a = aspect.float()
    short = size / stored
    frac_w = torch.where(a >= 1, short / a, torch.full_like(a, short))
    frac_h = torch.where(a >= 1, torch.full_like(a, short), short * a)
    x0, y0 = (1.0 - frac_w) / 2, (1.0 - frac_h) / 2
    return _resample(images, x0 * w, y0 * h, frac_w * w, frac_h * h, size)


def _resample(
    images: torch.Tensor,
    x0: torch.Tensor,
    y0: torch.Tensor,
    width: torch.Tensor,
    height: torch.Tensor,
    size: int,
) -> torch.Tensor:
    """Each image's box (in stored pixels) resampled to ``size``×``size``."""
    from torchvision.ops import roi_align

    n = images.shape[0]
    first = torch.arange(n, dtype=torch.float32, device=images.device)
    boxes = torch.stack([first, x0, y0, x0 + width, y0 + height], dim=1)
    crops: torch.Tensor = roi_align(
        images.float(),
        boxes,
        output_size=size,
        spatial_scale=1.0,
        sampling_ratio=2,
        aligned=True,
    )
    return crops


def center_crop(images: torch.Tensor, size: int) -> torch.Tensor:
    h, w = images.shape[-2:]
    if (h, w) == (size, size):
        return images
    top, left = (h - size) // 2, (w - size) // 2
    return images[..., top : top + size, left : left + size]


def _flip_half(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    flip = torch.rand(images.shape[0], generator=generator, device=images.device) < 0.5
    return torch.where(flip[:, None, None, None], images.flip(-1), images)
