"""From cached uint8 images to the model's input: augment, crop, repeat channels, normalise.

The normalisation is the model's, not only the data's: a model fine-tuned from ImageNet
weights sees ImageNet's statistics, one fine-tuned from a checkpoint written by ``training``
sees the statistics stored in it, any other the training images' own. Grey images given to
an RGB model are repeated to three channels *before* normalising, so that the statistics
always have the model's channel count.
"""

from __future__ import annotations

import torch

from training.augment import (
    center_crop,
    center_crop_whole,
    random_resized_crop_flip,
    random_translate_flip,
)
from training.config import TrainConfig
from training.data import DataBundle
from training.splits import Split

#: Pretrained torchvision weights expect inputs standardised with ImageNet's statistics.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

Stats = tuple[torch.Tensor, torch.Tensor]


def stats_tensor(values: list[float] | tuple[float, ...] | torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(values, dtype=torch.float32).reshape(-1, 1, 1)


def input_stats(
    config: TrainConfig, data: DataBundle, channels: int, stored: Stats | None
) -> Stats:
    """The per-channel mean and std (``channels``×1×1, in [0, 1] units) the model is fed with.

    ``stored``: the statistics saved in the pretrained checkpoint, when it has them.
    """
    if config.pretrained and stored is not None:
        mean, std = stored
    elif config.pretrained and channels == 3:
        mean, std = stats_tensor(IMAGENET_MEAN), stats_tensor(IMAGENET_STD)
    else:
        mean, std = data.mean.cpu(), data.std.cpu()
    if mean.shape[0] != channels:
        if mean.shape[0] != 1:
            raise ValueError(
                f"input statistics for {mean.shape[0]} channels cannot feed {channels} channels"
            )
        mean, std = mean.repeat(channels, 1, 1), std.repeat(channels, 1, 1)
    return mean, std


class InputPipeline:
    """Batches of cached uint8 images → normalised float input on the device."""

    def __init__(
        self,
        config: TrainConfig,
        data: DataBundle,
        channels: int,
        stats: Stats,
        generator: torch.Generator,
        device: torch.device,
    ) -> None:
        self.config = config
        self.data = data
        self.repeat = channels // data.channels
        self.mean, self.std = stats[0].to(device), stats[1].to(device)
        self.generator = generator
        self.channels_last = device.type == "cuda"
        self._flip_base: torch.Tensor | None = None  # per stored image, for alternating flips

    def train(self, split: Split, index: torch.Tensor, epoch: int = 1) -> torch.Tensor:
        """The training batch at positions ``index`` of ``split``: augmented (when asked),
        normalised. ``epoch`` (from 1) sets the alternating flips."""
        c, d = self.config, self.data
        images = split.take(index)
        if not c.augment:
            return self.prepare(self._center(images, split.aspects(index)))
        if d.stored_resolution == d.resolution:
            pad = max(1, d.resolution // 8) if c.translate is None else c.translate
            flips = self._alternating(split, index, epoch) if c.alternate_flip else None
            x = random_translate_flip(
                images,
                pad,
                self.generator,
                flip=d.flip,
                reflect=c.pad_mode == "reflect",
                flips=flips if d.flip else None,
            )
        else:
            x = random_resized_crop_flip(
                images, d.resolution, self.generator, aspect=split.aspects(index), flip=d.flip
            )
        return self.prepare(x)

    def _alternating(self, split: Split, index: torch.Tensor, epoch: int) -> torch.Tensor:
        """Each image flipped in every other epoch, starting at random (airbench): over two
        epochs every image is seen both ways, which random flips only promise on average."""
        if self._flip_base is None or self._flip_base.shape[0] != split.images.shape[0]:
            n = split.images.shape[0]
            device = split.labels.device  # the training device, wherever the images are
            # Its own generator from the seed: a resumed run flips as the stopped one did.
            seeded = torch.Generator(device=device).manual_seed(self.config.seed)
            self._flip_base = torch.rand(n, generator=seeded, device=device) < 0.5
        base = self._flip_base[split.source_rows(index)]
        return base if epoch % 2 else ~base

    def eval(self, split: Split, index: torch.Tensor) -> torch.Tensor:
        """The evaluation batch at positions ``index``: the centre crop, normalised."""
        return self.prepare(self._center(split.take(index), split.aspects(index)))

    def _center(self, images: torch.Tensor, aspect: torch.Tensor | None) -> torch.Tensor:
        d = self.data
        if aspect is None:
            return center_crop(images, d.resolution)
        return center_crop_whole(images, aspect, d.resolution, d.stored_resolution)

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        """uint8 (or float pixels in [0, 255]) → the model's channels, normalised."""
        if self.repeat > 1:
            x = x.repeat(1, self.repeat, 1, 1)
        # Converting uint8 on the device is the cheap way; crops already come as float.
        x = (x.to(torch.float32) / 255.0 - self.mean) / self.std
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x
