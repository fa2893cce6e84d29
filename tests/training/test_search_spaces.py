"""The shipped search spaces: every dimension they search changes what is trained."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from tests.helpers import SEARCH_SPACES
from training import fit


def extremes(dimension: dict[str, Any]) -> tuple[Any, Any]:
    """Two far-apart values of an NNI dimension: its first and last choice, or its bounds."""
    values = dimension["_value"]
    return (values[0], values[-1]) if dimension["_type"] == "choice" else (values[0], values[1])


def trained(params: dict[str, Any], path: Path) -> dict[str, torch.Tensor]:
    fit({**params, "checkpoint": str(path)})
    state: dict[str, torch.Tensor] = torch.load(path, weights_only=True)["state_dict"]
    return state


def same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(
        a[k].shape == b[k].shape and torch.equal(a[k], b[k]) for k in a
    )


def test_every_dimension_of_the_compression_space_changes_the_result(
    cifar_subset: Path, tmp_path: Path
) -> None:
    config = json.loads((SEARCH_SPACES / "cifar10_student_compress.json").read_text())
    # The teacher: any checkpoint written by training (here a quick CNN on the same images).
    teacher = tmp_path / "teacher.pt"
    small = {"data_dir": str(cifar_subset), "num_epochs": 1, "subset_per_class": 16}
    fit({"dataset": "cifar10", "model": "simple_cnn", **small, "checkpoint": str(teacher)})
    base = {**config["params"], **small, "teacher": str(teacher), "batch_size": 32}
    for name, dimension in config["search_space"].items():
        low, high = extremes(dimension)
        first = trained({**base, name: low}, tmp_path / f"{name}-low.pt")
        second = trained({**base, name: high}, tmp_path / f"{name}-high.pt")
        assert not same_weights(first, second), f"{name} = {low} and {high} train the same"


def test_distillation_params_without_a_teacher_are_refused() -> None:
    config = json.loads((SEARCH_SPACES / "cifar10_student_compress.json").read_text())
    with pytest.raises(ValueError, match="kd_temperature needs a teacher"):
        fit({**config["params"], "teacher": None})
