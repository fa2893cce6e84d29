"""Checkpoints written by training: weights that name their architecture and input statistics.

Such a file serves as is as a distillation teacher or as pretrained weights: it says which
model to build (name, classes, channels, width) and how its inputs were normalised (the
per-channel mean and std it was trained with), so that whoever loads it feeds it the inputs
it knows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from training.models import ModelSpec
from training.state import save_whole

CHECKPOINT_FORMAT = "hpo-training-checkpoint"


@dataclass(frozen=True)
class Checkpoint:
    model: str
    num_classes: int
    in_channels: int
    width: float
    state_dict: dict[str, torch.Tensor]
    mean: torch.Tensor | None  # C×1×1 in [0, 1] units; None in files from before they were kept
    std: torch.Tensor | None


def save_checkpoint(
    path: str,
    model: nn.Module,
    model_name: str,
    spec: ModelSpec,
    *,
    mean: torch.Tensor | None = None,
    std: torch.Tensor | None = None,
    **info: object,
) -> None:
    """``mean`` and ``std``: the statistics the model's inputs were normalised with (a
    loader without them feeds the model its own data's). Written whole or not at all, with
    one clear error on a full disk (``save_whole``)."""
    stats = {} if mean is None or std is None else {"mean": _values(mean), "std": _values(std)}
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    save_whole(
        {
            "format": CHECKPOINT_FORMAT,
            "model": model_name,
            "num_classes": spec.num_classes,
            "in_channels": spec.in_channels,
            "resolution": spec.resolution,
            "width": spec.width,
            **stats,
            "state_dict": state,
            **info,
        },
        Path(path),
        "model checkpoint",
    )


def read_checkpoint(data: Any) -> Checkpoint | None:
    """The checkpoint in loaded file contents; None for anything else (a bare weights file)."""
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        return None
    mean, std = data.get("mean"), data.get("std")
    return Checkpoint(
        model=str(data["model"]),
        num_classes=int(data["num_classes"]),
        in_channels=int(data["in_channels"]),
        width=float(data.get("width", 1.0)),
        state_dict=data["state_dict"],
        mean=None if mean is None else _stats(mean),
        std=None if std is None else _stats(std),
    )


def stored_stats(path: str) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The input statistics a weights file was trained with, if it is a checkpoint of ours."""
    try:
        checkpoint = read_checkpoint(torch.load(path, map_location="cpu", weights_only=True))
    except Exception:  # unreadable files are reported by whoever loads the weights
        return None
    if checkpoint is None or checkpoint.mean is None or checkpoint.std is None:
        return None
    return checkpoint.mean, checkpoint.std


def _values(stats: torch.Tensor) -> list[float]:
    return [float(v) for v in stats.detach().cpu().flatten()]


def _stats(values: list[float]) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32).view(-1, 1, 1)
