"""Data as tensors: a split of uint8 images and their labels, and ways to cut one.

Cutting copies no image: a validation split carved from the training set, or a per-class
subset, keeps the decoded tensor it came from and the list of its rows. A data set therefore
costs its decoded size once, however it is split (and moves to a device once).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from training.placement import HostBatches


class DataError(FileNotFoundError):
    """A data set that is missing or not in the expected layout; the message says where."""


@dataclass(frozen=True)
class Split:
    images: torch.Tensor  # uint8 N×C×H×W, possibly shared with other splits
    labels: torch.Tensor  # int64, one per image of this split
    rows: torch.Tensor | None = None  # this split's rows of ``images`` (None: all, in order)
    # Width / height of each original image (one per row of ``images``), when the images are
    # stored whole (squeezed to a square) for random-resized crops; None: stored as seen.
    aspect: torch.Tensor | None = None
    # Set when ``images`` stay on the host while the rest is on the device (the host and
    # stream paths of ``placement``): batches are gathered there and copied over.
    host: HostBatches | None = None

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def source_rows(self, index: torch.Tensor) -> torch.Tensor:
        """Rows of ``images`` for positions ``index`` of this split."""
        return index if self.rows is None else self.rows[index]

    def take(self, index: torch.Tensor) -> torch.Tensor:
        """The images at positions ``index`` (a copy of just those, on ``index``'s device)."""
        if self.host is not None:
            return self.host.take(self.images, self.source_rows(index))
        return self.images[self.source_rows(index)]

    def aspects(self, index: torch.Tensor) -> torch.Tensor | None:
        return None if self.aspect is None else self.aspect[self.source_rows(index)]

    def positions(self, start: int, stop: int) -> torch.Tensor:
        return torch.arange(start, min(stop, len(self)), device=self.labels.device)

    def all_images(self) -> torch.Tensor:
        """Every image of the split in order (a copy, unless the split is its whole tensor)."""
        return self.images if self.rows is None else self.images[self.rows]

    def compact(self) -> Split:
        """The split with its own tensor holding just its images (for writing a cache)."""
        if self.rows is None:
            return self
        aspect = None if self.aspect is None else self.aspect[self.rows]
        return Split(self.images[self.rows], self.labels, None, aspect)

    def subset(self, index: torch.Tensor) -> Split:
        rows = self.source_rows(index)
        return Split(self.images, self.labels[index], rows, self.aspect, self.host)

    def on(
        self,
        images: torch.Tensor,
        aspect: torch.Tensor | None,
        device: torch.device,
        host: HostBatches | None = None,
    ) -> Split:
        """The same split over ``images`` (its tensor, moved to ``device`` unless ``host``
        gathers its batches on the host)."""
        rows = None if self.rows is None else self.rows.to(device)
        return Split(images, self.labels.to(device), rows, aspect, host)


@dataclass(frozen=True)
class RawData:
    """What a loader returns: splits as stored; val or test may be absent."""

    train: Split
    val: Split | None
    test: Split | None
    classes: tuple[str, ...]


def carve_validation(train: Split, fraction: float, seed: int = 0) -> tuple[Split, Split]:
    """A stratified validation split taken from the training set, the same on every run.

    With CIFAR-10's 5,000 training images per class and ``fraction=0.1`` this gives the
    CIFAR-10 simple-CNN report's 4,500 / 500 per class.
    """
    generator = torch.Generator().manual_seed(seed)
    keep: list[torch.Tensor] = []
    held: list[torch.Tensor] = []
    for label in torch.unique(train.labels):
        index = torch.nonzero(train.labels == label).flatten()
        index = index[torch.randperm(len(index), generator=generator)]
        n_val = max(1, round(len(index) * fraction)) if len(index) > 1 else 0
        held.append(index[:n_val])
        keep.append(index[n_val:])
    train_index = torch.sort(torch.cat(keep)).values
    val_index = torch.sort(torch.cat(held)).values
    return train.subset(train_index), train.subset(val_index)


def per_class_subset(split: Split, per_class: int, seed: int = 0) -> Split:
    generator = torch.Generator().manual_seed(seed)
    chosen = []
    for label in torch.unique(split.labels):
        index = torch.nonzero(split.labels == label).flatten()
        chosen.append(index[torch.randperm(len(index), generator=generator)[:per_class]])
    return split.subset(torch.sort(torch.cat(chosen)).values)
