"""Training images per second of the real training step, against the model alone.

Used by ``bench/`` (CPU and GPU figures): the real data path (cached uint8 images, batched
augmentation on the device, normalisation) against synthetic tensors already on the device.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import torch

from training.config import TrainConfig
from training.loop import _no_report, _Trainer
from training.models import train_mode


def throughput(
    params: Mapping[str, Any], *, steps: int = 30, warmup: int = 5, synthetic: bool = False
) -> float:
    """Training images per second of the real training step.

    ``synthetic=False``: batches come the real way (cached uint8 images, batched augmentation,
    normalisation); ``synthetic=True``: the same step on normalised tensors made in advance on
    the device, i.e. the model's speed alone. Their ratio is the data pipeline's efficiency.
    """
    config = TrainConfig.from_params(params)
    trainer = _Trainer(config, _no_report)
    try:
        trainer.setup()
        c, train = config, trainer.data.train
        shape = (
            c.batch_size,
            trainer.spec.in_channels,
            trainer.data.resolution,
            trainer.data.resolution,
        )
        device, generator = trainer.device, trainer.generator
        fixed = torch.randn(shape, generator=generator, device=device)
        fixed_targets = torch.randint(
            0, trainer.data.num_classes, (c.batch_size,), generator=generator, device=device
        )
        train_mode(trainer.model, trainer.frozen)

        def batch(i: int) -> tuple[torch.Tensor, torch.Tensor]:
            if synthetic:
                return fixed, fixed_targets
            index = torch.randint(
                0, len(train), (c.batch_size,), generator=generator, device=device
            )
            return trainer.inputs.train(train, index), train.labels[index]

        for i in range(warmup):
            trainer.step(*batch(i))
        trainer.sync()
        started = time.perf_counter()
        for i in range(steps):
            trainer.step(*batch(i))
        trainer.sync()
        return steps * c.batch_size / (time.perf_counter() - started)
    finally:
        trainer.release()
