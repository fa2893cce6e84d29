"""The step loop: equal batches, random numbers from the run's own generator, no host sync."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from training.augment import random_resized_crop_flip, random_translate_flip
from training.config import TrainConfig
from training.loop import _Trainer

DIGITS = {"dataset": "digits", "model": "simple_cnn", "lr": 0.05, "batch_size": 64}


def trainer_for(params: dict[str, Any]) -> _Trainer:
    trainer = _Trainer(TrainConfig.from_params(params), lambda value, epoch: None)
    trainer.setup()
    return trainer


def test_the_last_partial_training_batch_is_dropped() -> None:
    trainer = trainer_for({**DIGITS, "num_epochs": 2})
    n = len(trainer.data.train)
    assert n % 64 != 0  # the digits leave a remainder
    sizes: list[int] = []
    trainer.model.register_forward_pre_hook(
        lambda module, args: sizes.append(args[0].shape[0]) if module.training else None
    )
    trainer._train()
    assert sizes == [64] * (2 * (n // 64))
    assert trainer.schedule.last_epoch == 2 * (n // 64)


def test_augmentation_draws_only_from_the_generator_it_is_given() -> None:
    images = torch.randint(0, 256, (16, 3, 40, 40), dtype=torch.uint8)
    aspect = torch.full((16,), 4 / 3)
    global_state = torch.get_rng_state()
    outputs = []
    for _ in range(2):
        generator = torch.Generator().manual_seed(7)
        outputs.append(
            (
                random_translate_flip(images, 4, generator),
                random_resized_crop_flip(images, 32, generator, aspect=aspect),
            )
        )
    assert torch.equal(torch.get_rng_state(), global_state)  # the global RNG is not touched
    assert torch.equal(outputs[0][0], outputs[1][0]) and torch.equal(outputs[0][1], outputs[1][1])
    other = random_translate_flip(images, 4, torch.Generator().manual_seed(8))
    assert not torch.equal(other, outputs[0][0])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("resolution", [None, 96])  # translate-and-flip; random-resized crops
def test_a_cuda_training_epoch_never_waits_for_the_host(resolution: int | None) -> None:
    params = {**DIGITS, "device": "cuda", "num_epochs": 1}
    if resolution:
        params.update(resolution=resolution, model="dw_student")
    trainer = trainer_for(params)
    train = trainer.data.train
    order = trainer._epoch_order(len(train), None)
    trainer.model.train()
    loss_sum = torch.zeros((), device=trainer.device)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")  # any step that waits for the host raises
    try:
        for b in range(trainer.batches):
            index = order[b * 64 : (b + 1) * 64]
            loss_sum += trainer.step(trainer.inputs.train(train, index), train.labels[index])
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert float(loss_sum) > 0
