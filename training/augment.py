"""Batched augmentation on uint8 tensors, on whatever device holds them.

Small images (≤ 64 px, e.g. CIFAR-10) get a random translation by up to 1/8 of their size
(4 pixels at 32 px: pad and crop, as in the fast ResNet-9 report's recipe) and a horizontal
flip where the data set allows it (not for digits). Large images are stored
at 8/7 of the model's resolution (256 for 224) and get a random-resized crop plus flip for
training, a centre crop for evaluation. All of it works on the whole batch at once, on the
GPU when the data lives there: no per-image Python.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

#: Area range of a random-resized crop. Narrower than ImageNet's (0.08, 1): course data sets
#: are small and fine-tuning from pretrained weights prefers whole objects.
CROP_SCALE = (0.25, 1.0)
CROP_RATIO = (3 / 4, 4 / 3)


def channel_stats(images: torch.Tensor, chunk: int = 4096) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std of uint8 images in [0, 1] units, shape C×1×1."""
    total = torch.zeros(images.shape[1], dtype=torch.float64)
    total_sq = torch.zeros_like(total)
    count = 0
    for start in range(0, images.shape[0], chunk):
        x = images[start : start + chunk].to(torch.float64) / 255.0
        total += x.sum(dim=(0, 2, 3)).cpu()
        total_sq += (x * x).sum(dim=(0, 2, 3)).cpu()
        count += x.shape[0] * x.shape[2] * x.shape[3]
    mean = total / count
    std = (total_sq / count - mean * mean).clamp_min(1e-12).sqrt()
    return mean.float().view(-1, 1, 1), std.float().view(-1, 1, 1)


def random_translate_flip(
    images: torch.Tensor, pad: int, generator: torch.Generator, *, flip: bool = True
) -> torch.Tensor:
    """Shift each image by up to ``pad`` pixels (zero fill) and flip half of them."""
    n, c, h, w = images.shape
    device = images.device
    padded = F.pad(images, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=generator).to(device)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=generator).to(device)
    rows = (dy[:, None] + torch.arange(h, device=device)[None, :])[:, None, :, None]
    cols = (dx[:, None] + torch.arange(w, device=device)[None, :])[:, None, None, :]
    batch = torch.arange(n, device=device)[:, None, None, None]
    channel = torch.arange(c, device=device)[None, :, None, None]
    shifted = padded[batch, channel, rows, cols]
    return _flip_half(shifted, generator) if flip else shifted


def random_resized_crop_flip(
    images: torch.Tensor, size: int, generator: torch.Generator, *, flip: bool = True
) -> torch.Tensor:
    """A random crop of each image (area and aspect ratio in CROP_SCALE / CROP_RATIO),
    resized to ``size`` with one batched ``roi_align``; half of them flipped. Returns float
    pixels in [0, 255]."""
    from torchvision.ops import roi_align

    n, _, h, w = images.shape
    area = torch.empty(n).uniform_(*CROP_SCALE, generator=generator) * h * w
    log_ratio = torch.empty(n).uniform_(
        torch.log(torch.tensor(CROP_RATIO[0])).item(),
        torch.log(torch.tensor(CROP_RATIO[1])).item(),
        generator=generator,
    )
    ratio = torch.exp(log_ratio)
    crop_w = torch.sqrt(area * ratio).clamp(max=w)
    crop_h = torch.sqrt(area / ratio).clamp(max=h)
    x0 = torch.rand(n, generator=generator) * (w - crop_w)
    y0 = torch.rand(n, generator=generator) * (h - crop_h)
    boxes = torch.stack(
        [torch.arange(n, dtype=torch.float32), x0, y0, x0 + crop_w, y0 + crop_h], dim=1
    )
    crops = roi_align(
        images.float(),
        boxes.to(images.device),
        output_size=size,
        spatial_scale=1.0,
        sampling_ratio=2,
        aligned=True,
    )
    return _flip_half(crops, generator) if flip else crops


def center_crop(images: torch.Tensor, size: int) -> torch.Tensor:
    h, w = images.shape[-2:]
    if (h, w) == (size, size):
        return images
    top, left = (h - size) // 2, (w - size) // 2
    return images[..., top : top + size, left : left + size]


def _flip_half(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    flip = (torch.rand(images.shape[0], generator=generator) < 0.5).to(images.device)
    return torch.where(flip[:, None, None, None], images.flip(-1), images)
