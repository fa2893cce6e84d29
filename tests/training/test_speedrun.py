"""The speed recipe (``model: airbench`` and ``search_spaces/cifar10_speedrun.json``): each
part of its design, and the whole recipe learning CIFAR-10 on the CPU."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch.nn import functional as F

from tests.helpers import SEARCH_SPACES, extract_cifar_subset
from training import fit
from training.airbench import AirbenchNet, init_whitening
from training.augment import random_translate_flip
from training.config import TrainConfig
from training.data import load_data
from training.inputs import InputPipeline
from training.models import ModelSpec, count_parameters
from training.optimizers import build_optimizer


def test_the_whitening_layer_decorrelates_training_patches() -> None:
    generator = torch.Generator().manual_seed(0)
    # Correlated "images": smooth noise, so neighbouring pixels and channels covary.
    noise = torch.randn(256, 3, 8, 8, generator=generator)
    smooth = F.interpolate(noise, size=32, mode="bilinear")
    images = smooth + 0.3 * smooth.mean(1, keepdim=True)
    model = AirbenchNet(ModelSpec(10, 3, 32))
    init_whitening(model, images)
    with torch.no_grad():
        out = F.conv2d(images, model.whiten.weight[:12])  # the first half: +eigenvectors
    flat = out.permute(1, 0, 2, 3).reshape(12, -1)
    covariance = flat @ flat.T / flat.shape[1]
    off_diagonal = covariance - torch.diag(torch.diag(covariance))
    assert off_diagonal.abs().max() < 0.05
    assert torch.diag(covariance).max() < 1.01 and torch.diag(covariance)[:6].min() > 0.5
    assert not model.whiten.weight.requires_grad  # frozen


def test_airbench_has_about_two_million_parameters_and_width_scales_it() -> None:
    full = count_parameters(AirbenchNet(ModelSpec(10, 3, 32)))
    half = count_parameters(AirbenchNet(ModelSpec(10, 3, 32, width=0.5)))
    assert 1.9e6 < full < 2.1e6 and half < full / 3


def test_reflect_translation_equals_padding_by_reflection_then_cropping() -> None:
    images = torch.randint(0, 256, (8, 3, 12, 12), dtype=torch.uint8)
    shifted = random_translate_flip(
        images, 2, torch.Generator().manual_seed(4), flip=False, reflect=True
    )
    generator = torch.Generator().manual_seed(4)  # the same draws, made here
    dy = torch.randint(0, 5, (8,), generator=generator)
    dx = torch.randint(0, 5, (8,), generator=generator)
    padded = F.pad(images.float(), (2, 2, 2, 2), mode="reflect")
    for i in range(8):
        window = padded[i, :, dy[i] : dy[i] + 12, dx[i] : dx[i] + 12]
        assert torch.equal(shifted[i].float(), window)


def test_alternating_flips_show_every_image_both_ways_over_two_epochs() -> None:
    config = TrainConfig.from_params({"dataset": "digits", "alternate_flip": True})
    data = load_data(config)
    stats = (data.mean, data.std)
    inputs = InputPipeline(config, data, 1, stats, torch.Generator(), torch.device("cpu"))
    index = torch.arange(len(data.train))
    first = inputs._alternating(data.train, index, 1)
    assert torch.equal(inputs._alternating(data.train, index, 2), ~first)
    assert torch.equal(inputs._alternating(data.train, index, 3), first)
    assert 0.4 < first.float().mean().item() < 0.6


def test_sgdw_shrinks_weights_by_weight_decay_per_step_whatever_the_rate() -> None:
    for lr, scale in ((1.5, 64.0), (0.02, 1.0)):
        model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
        with torch.no_grad():
            for p in model.parameters():
                p.fill_(1.0)
        config = TrainConfig.from_params(
            {"optimizer": "sgdw", "lr": lr, "weight_decay": 0.002, "momentum": 0.0,
             "bias_lr_scale": scale}
        )  # fmt: skip
        optimizer = build_optimizer(model, config)
        for p in model.parameters():
            p.grad = torch.zeros_like(p)
        optimizer.step()
        for p in model.parameters():
            assert torch.allclose(p, torch.full_like(p, 1 - 0.002)), (lr, scale)
        norm_biases = optimizer.param_groups[-1]  # BatchNorm shifts, at the scaled rate
        assert norm_biases["lr"] == lr * scale
        assert [p is model[1].bias for p in norm_biases["params"]] == [True]


@pytest.fixture(scope="module")
def cifar_5000(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return extract_cifar_subset(tmp_path_factory.mktemp("cifar5000"), 500, 100)


@pytest.mark.slow
@pytest.mark.timeout(1800)  # minutes of CPU on a busy 2-core machine; the bar is accuracy
def test_the_speed_recipe_beats_50_percent_in_two_epochs_of_5000_images(
    cifar_5000: Path,
) -> None:
    recipe = json.loads((SEARCH_SPACES / "cifar10_speedrun.json").read_text())["params"]
    # 4,500 training images make 4 steps of 1,024 per epoch: batches of 128 here instead.
    # A small validation split: each epoch's evaluation (with TTA) costs less CPU.
    params = {**recipe, "data_dir": str(cifar_5000), "num_epochs": 2, "batch_size": 128}
    params["val_fraction"] = 0.04
    metrics = fit({**params, "device": "cpu"})
    assert metrics["test_acc"] > 0.5, metrics
