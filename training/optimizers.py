"""The optimiser of a run, with its parameter groups."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from training.config import TrainConfig


def build_optimizer(model: nn.Module, c: TrainConfig) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if c.optimizer in ("sgd", "sgdw"):
        # Nesterov with momentum 0 is plain SGD (which PyTorch refuses to be asked for).
        nesterov = c.nesterov and c.momentum > 0
        return torch.optim.SGD(
            _sgd_groups(model, c), lr=c.lr, momentum=c.momentum, nesterov=nesterov
        )
    if c.optimizer == "adam":
        return torch.optim.Adam(params, lr=c.lr, weight_decay=c.weight_decay)
    return torch.optim.AdamW(params, lr=c.lr, weight_decay=c.weight_decay)


def _sgd_groups(model: nn.Module, c: TrainConfig) -> list[dict[str, Any]]:
    """SGD's parameter groups: BatchNorm shifts at ``bias_lr_scale`` times the rate, and, for
    ``sgdw``, weight decay divided by the rate, so that the shrink per step (rate × decay)
    is ``weight_decay`` at the peak rate whatever ``lr`` and the scale are (the schedule
    still scales it: decay follows the rate)."""
    norms = {
        id(m.bias)
        for m in model.modules()
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.bias is not None
    }
    groups = []
    for is_norm, scale in ((False, 1.0), (True, c.bias_lr_scale)):
        chosen = [p for p in model.parameters() if p.requires_grad and (id(p) in norms) == is_norm]
        lr = c.lr * scale
        decay = c.weight_decay / lr if c.optimizer == "sgdw" else c.weight_decay
        if chosen:
            groups.append({"params": chosen, "lr": lr, "weight_decay": decay})
    return groups
