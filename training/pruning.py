"""Structured channel pruning of the compression report's student (``dw_student``).

One round keeps the ``rate`` fraction of the channels between every two blocks (rounded up),
ranked by the magnitude of the BatchNorm scale the next block applies to them (a channel
BatchNorm scales towards zero carries little), and rebuilds a smaller network with the kept weights:
the parameter count really drops, nothing is masked. The last block's output, which feeds
the classifier through the average pool and has no BatchNorm, is kept whole.

The report pruned its trained student at rates 0.95 and 0.9 per round, fine-tuning between
rounds, and plotted accuracy against parameters.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from training.models import DWStudent, ModelSpec


class PruningError(ValueError):
    pass


def prunable(model: nn.Module) -> bool:
    return isinstance(model, DWStudent)


def prune_channels(model: nn.Module, spec: ModelSpec, rate: float) -> DWStudent:
    """A new ``dw_student`` keeping ``rate`` of the channels of every block but the last."""
    if not isinstance(model, DWStudent):
        raise PruningError(f"{type(model).__name__} cannot be pruned (pruning: dw_student)")
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    norms = [m for m in model.features if isinstance(m, nn.BatchNorm2d)]
    # convs: stem, then (depthwise, pointwise) per block; norms: stem, then one per block
    # (after its depthwise conv, on the channels the block takes in).
    widths = list(model.bandwidth)
    keep: list[torch.Tensor] = []
    for j, width in enumerate(widths):
        if j == len(widths) - 1:
            keep.append(torch.arange(width))
            continue
        scale = norms[j + 1].weight.detach().abs()  # the BatchNorm the block j + 1 applies
        kept = max(1, math.ceil(rate * width))
        keep.append(torch.sort(torch.topk(scale, kept).indices).values.cpu())
    pruned = DWStudent(spec, bandwidth=[len(k) for k in keep])
    new_convs = [m for m in pruned.features if isinstance(m, nn.Conv2d)]
    new_norms = [m for m in pruned.features if isinstance(m, nn.BatchNorm2d)]
    with torch.no_grad():
        _copy_conv(new_convs[0], convs[0], keep[0], None)
        _copy_norm(new_norms[0], norms[0], keep[0])
        for i in range(1, len(widths)):
            _copy_conv(new_convs[2 * i - 1], convs[2 * i - 1], keep[i - 1], None)  # depthwise
            _copy_norm(new_norms[i], norms[i], keep[i - 1])
            _copy_conv(new_convs[2 * i], convs[2 * i], keep[i], keep[i - 1])  # pointwise
        pruned.head.weight.copy_(model.head.weight[:, keep[-1]])
        pruned.head.bias.copy_(model.head.bias)
    device = next(model.parameters()).device
    return pruned.to(device)


def _copy_conv(
    target: nn.Conv2d, source: nn.Conv2d, out: torch.Tensor, into: torch.Tensor | None
) -> None:
    out = out.to(source.weight.device)
    weight = source.weight[out]
    if into is not None:
        weight = weight[:, into.to(source.weight.device)]
    target.weight.copy_(weight)
    if source.bias is not None and target.bias is not None:
        target.bias.copy_(source.bias[out])


def _copy_norm(target: nn.BatchNorm2d, source: nn.BatchNorm2d, kept: torch.Tensor) -> None:
    kept = kept.to(source.weight.device)
    for name in ("weight", "bias", "running_mean", "running_var"):
        getattr(target, name).copy_(getattr(source, name)[kept])
    if target.num_batches_tracked is not None and source.num_batches_tracked is not None:
        target.num_batches_tracked.copy_(source.num_batches_tracked)
