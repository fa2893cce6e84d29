"""Network pruning (the compression report): smaller layers, the same kept weights, in rounds."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import torch

from training import fit
from training.config import ConfigError, TrainConfig
from training.models import DWStudent, ModelSpec, count_parameters
from training.pruning import prune_channels

SPEC = ModelSpec(num_classes=11, in_channels=3, resolution=32)


def kept(width: int, rate: float) -> int:
    return max(1, math.ceil(rate * width))


@pytest.mark.parametrize("rate", [0.95, 0.9, 0.5, 0.23])
def test_the_pruned_student_has_the_parameter_count_of_its_kept_channels(rate: float) -> None:
    model = DWStudent(SPEC)
    norms = [m for m in model.features if isinstance(m, torch.nn.BatchNorm2d)]
    # Make the channels that rate drops dead: the BatchNorm of the next block zeroes them.
    # Then the pruned network must compute exactly what the whole one computes.
    for j, width in enumerate(model.bandwidth[:-1]):
        with torch.no_grad():
            norms[j + 1].weight[kept(width, rate) :] = 0.0
            norms[j + 1].bias[kept(width, rate) :] = 0.0
    pruned = prune_channels(model, SPEC, rate)
    expected = [kept(w, rate) for w in model.bandwidth[:-1]] + [model.bandwidth[-1]]
    assert list(pruned.bandwidth) == expected
    assert count_parameters(pruned) == count_parameters(DWStudent(SPEC, bandwidth=expected))
    assert count_parameters(pruned) < count_parameters(model)
    x = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    model.eval(), pruned.eval()
    with torch.no_grad():
        assert torch.allclose(pruned(x), model(x), atol=1e-5)


DIGITS = {"dataset": "digits", "model": "dw_student", "lr": 0.02, "seed": 2}


@pytest.fixture(scope="module")
def trained_student(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("student") / "student.pt"
    fit({**DIGITS, "num_epochs": 3, "checkpoint": str(path)})
    return path


def test_pruning_in_rounds_fine_tunes_a_network_that_shrinks_each_round(
    trained_student: Path, tmp_path: Path
) -> None:
    params: dict[str, Any] = {
        **DIGITS, "pretrained": str(trained_student), "num_epochs": 4,
        "prune_rate": 0.5, "prune_rounds": 2,
    }  # fmt: skip
    whole: list[tuple[int, float]] = []
    metrics = fit(params, lambda value, epoch: whole.append((epoch, value)))
    twice = [kept(kept(w, 0.5), 0.5) for w in DWStudent.BANDWIDTH[:-1]] + [256]
    spec = ModelSpec(10, 1, 8)
    assert metrics["num_params"] == count_parameters(DWStudent(spec, bandwidth=twice))
    assert [e for e, _ in whole] == [1, 2, 3, 4]
    assert metrics["best_epoch"] in (3, 4)  # the best epoch of the last round's network

    # Stopped in the second round and resumed: the same curve, the same network.
    state = tmp_path / "state.pt"

    def stop_at_three(value: float, epoch: int) -> None:
        if epoch == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fit({**params, "state_file": str(state)}, stop_at_three)
    again: list[tuple[int, float]] = []
    resumed = fit({**params, "state_file": str(state)}, lambda v, e: again.append((e, v)))
    assert resumed["resumed_from_epoch"] == 3
    assert again == whole and resumed["num_params"] == metrics["num_params"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"prune_rate": 0.9, "model": "resnet9", "pretrained": "w.pt"}, "on model dw_student"),
        ({"prune_rate": 0.9, "model": "dw_student"}, "prune_rate needs the trained network"),
        ({"prune_rate": 0, "model": "dw_student", "pretrained": "w.pt"}, "prune_rate must be in"),
        ({"prune_rounds": 3}, "prune_rounds needs prune_rate"),
        (
            {"prune_rate": 0.9, "prune_rounds": 5, "num_epochs": 4, "model": "dw_student",
             "pretrained": "w.pt"},
            "prune_rounds 5 needs num_epochs ≥ 5",
        ),
    ],
)  # fmt: skip
def test_pruning_params_are_refused_in_one_line(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        TrainConfig.from_params(params)
