"""Learning-rate schedules: the rate the optimiser really uses at chosen steps and at the end."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch

from training.config import ConfigError, TrainConfig
from training.schedules import build_schedule


def lrs(params: dict[str, Any], steps_per_epoch: int) -> list[float]:
    """The optimiser's rate at every step of a run, read from the optimiser itself."""
    config = TrainConfig.from_params({"lr": 0.1, "num_epochs": 10, **params})
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=config.lr, momentum=0.9)
    schedule = build_schedule(optimizer, config, steps_per_epoch)
    out = []
    for _ in range(config.num_epochs * steps_per_epoch):
        out.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        schedule.step()
    return out


S = 10  # steps per epoch; 10 epochs: T = 100 steps
CHOSEN_STEPS = (0, 1, 9, 10, 19, 20, 21, 24, 25, 29, 30, 45, 50, 60, 69, 70, 71, 98, 99)


def cosine(t: float, n: float) -> float:
    return (1 + math.cos(math.pi * t / n)) / 2


def onecycle(m: int, n: int) -> float:
    peak, last = n / 4 - 1, n - 1
    if m <= peak:
        return 1 / 25 + (1 - 1 / 25) * m / peak
    return 1 - (1 - 1 / 25e4) * (m - peak) / (last - peak)


def triangle(m: float, half: float) -> float:
    return 0.01 + 0.99 * (1 - abs((m / half) % 2 - 1))


@pytest.mark.parametrize(
    ("params", "formula"),
    [
        ({"lr_schedule": "constant"}, lambda t: 0.1),
        ({"lr_schedule": "step", "step_size": 3, "gamma": 0.5}, lambda t: 0.1 * 0.5 ** (t // 30)),
        (
            {"lr_schedule": "multistep", "milestones": [2, 7], "gamma": 0.2},
            lambda t: 0.1 * 0.2 ** ((t >= 20) + (t >= 70)),
        ),
        ({"lr_schedule": "cosine"}, lambda t: 0.1 * cosine(t, 100)),
        ({"lr_schedule": "onecycle"}, lambda t: 0.1 * onecycle(t, 100)),
        # 4-epoch cycles (the ResNet-9 report's 2-epoch half-cycles at this scale).
        ({"lr_schedule": "triangular", "cycle_epochs": 4}, lambda t: 0.1 * triangle(t, 20)),
        # By default one cycle over the whole run: up to η at the middle, down at the end.
        ({"lr_schedule": "triangular"}, lambda t: 0.1 * triangle(t, 50)),
        # Linear warmup: η·(t+1)/W for t < W, then the schedule over the remaining steps.
        ({"lr_schedule": "constant", "warmup_period": 25}, lambda t: 0.1 * min(1.0, (t + 1) / 25)),
        (
            {"lr_schedule": "cosine", "warmup_period": 20},
            lambda t: 0.1 * (t + 1) / 20 if t < 20 else 0.1 * cosine(t - 20, 80),
        ),
        (
            {"lr_schedule": "step", "step_size": 3, "gamma": 0.1, "warmup_period": 10},
            lambda t: 0.1 * (t + 1) / 10 if t < 10 else 0.1 * 0.1 ** ((t - 10) // 30),
        ),
        (
            {"lr_schedule": "onecycle", "warmup_period": 20},
            lambda t: 0.1 * (t + 1) / 20 if t < 20 else 0.1 * onecycle(t - 20, 80),
        ),
        (
            {"lr_schedule": "triangular", "warmup_period": 20},
            lambda t: 0.1 * (t + 1) / 20 if t < 20 else 0.1 * triangle(t - 20, 40),
        ),
        # Milestones are absolute epochs: the warmup does not move them.
        (
            {"lr_schedule": "multistep", "milestones": [2, 7], "gamma": 0.2, "warmup_period": 15},
            lambda t: 0.1 * (t + 1) / 15 if t < 15 else 0.1 * 0.2 ** ((t >= 20) + (t >= 70)),
        ),
        # pytorch_warmup's ExponentialWarmup on a cosine over all T steps (the Food-11 report).
        (
            {"lr_schedule": "cosine", "warmup": "exponential", "warmup_period": 25},
            lambda t: 0.1 * cosine(t, 100) * (1 - math.exp(-(t + 1) / 25)),
        ),
        (
            {"lr_schedule": "constant", "warmup": "exponential", "warmup_period": 5},
            lambda t: 0.1 * (1 - math.exp(-(t + 1) / 5)),
        ),
    ],
    ids=[
        "constant",
        "step",
        "multistep",
        "cosine",
        "onecycle",
        "triangular-4-epoch-cycles",
        "triangular-one-cycle",
        "warmup",
        "warmup+cosine",
        "warmup+step",
        "warmup+onecycle",
        "warmup+triangular",
        "warmup+multistep-absolute",
        "exponential-warmup+cosine",
        "exponential-warmup+constant",
    ],
)
def test_every_lr_schedule_matches_its_formula(params: dict[str, Any], formula: Any) -> None:
    seen = lrs(params, S)
    for t in CHOSEN_STEPS:
        assert seen[t] == pytest.approx(formula(t), rel=1e-6, abs=1e-9), t


@pytest.mark.parametrize("schedule", ["constant", "cosine", "onecycle", "triangular"])
def test_linear_warmup_ends_at_the_peak_rate_whatever_follows(schedule: str) -> None:
    # η = 1, W = 4: 0.25, 0.5, 0.75, 1 (once this gave 0.01 … 0.04 before a one-cycle).
    seen = lrs({"lr": 1.0, "lr_schedule": schedule, "warmup_period": 4}, S)
    assert seen[:4] == pytest.approx([0.25, 0.5, 0.75, 1.0])


@pytest.mark.parametrize("epochs", [8, 16, 24])
def test_triangular_anneals_by_the_end_of_the_resnet9_runs(epochs: int) -> None:
    # cifar10_resnet9.json: lr 0.4, 98 steps per epoch (50,000 images, batch 512). With a
    # fixed 7-epoch half-cycle the last step ran at 86 % / 29 % / 58 % of the peak.
    seen = lrs({"lr": 0.4, "lr_schedule": "triangular", "num_epochs": epochs}, 98)
    assert max(seen) == pytest.approx(0.4, rel=1e-3)
    assert seen[-1] < 0.4 * 0.02


def test_schedules_end_where_their_formula_says() -> None:
    end = {s: lrs({"lr_schedule": s}, S)[-1] for s in ("cosine", "onecycle", "step")}
    assert end["cosine"] == pytest.approx(0.1 * cosine(99, 100))
    assert end["onecycle"] == pytest.approx(0.1 / 25e4)
    assert end["step"] == pytest.approx(0.1 * 0.1 ** (99 // 70))


def test_warmup_longer_than_training_is_cut_to_fit() -> None:
    seen = lrs({"lr_schedule": "cosine", "warmup_period": 10_000, "num_epochs": 1}, S)
    assert seen[0] == pytest.approx(0.1 / 9) and len(seen) == 10


def test_a_resumed_schedule_continues_at_the_same_step() -> None:
    config = TrainConfig.from_params({"lr": 0.1, "lr_schedule": "onecycle", "warmup_period": 7})
    first = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    schedule = build_schedule(first, config, S)
    for _ in range(33):
        first.step()
        schedule.step()
    second = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    resumed = build_schedule(second, config, S)
    resumed.load_state_dict(schedule.state_dict())
    second.load_state_dict(first.state_dict())
    assert second.param_groups[0]["lr"] == first.param_groups[0]["lr"]
    for optimizer, scheduler in ((first, schedule), (second, resumed)):
        optimizer.step()
        scheduler.step()
    assert second.param_groups[0]["lr"] == first.param_groups[0]["lr"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"warmup": "cosine"}, "warmup must be one of linear, exponential, got 'cosine'"),
        ({"cycle_epochs": 0}, "cycle_epochs must be > 0, got 0.0"),
        ({"warmup_period": -1}, "warmup_period must be ≥ 0 steps, got -1"),
    ],
)
def test_bad_schedule_params_are_refused_in_one_line(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        TrainConfig.from_params(params)
    assert str(info.value) == message
