"""Data as tensors: a split of uint8 images and their labels, and ways to cut one."""

from __future__ import annotations

from dataclasses import dataclass

import torch


class DataError(FileNotFoundError):
    """A data set that is missing or not in the expected layout; the message says where."""


@dataclass(frozen=True)
class Split:
    images: torch.Tensor  # uint8 N×C×H×W
    labels: torch.Tensor  # int64 N

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def subset(self, index: torch.Tensor) -> Split:
        return Split(self.images[index], self.labels[index])

    def to(self, device: torch.device) -> Split:
        return Split(self.images.to(device), self.labels.to(device))


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
