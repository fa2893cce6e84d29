"""``compile: true``: the model through torch.compile (Inductor, a C++ compiler on the CPU),
kept warm for the next trial of the same graph in the same process."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from torch._dynamo.utils import counters

from hpo.objectives import Attempt, Metric, ObjectiveSpec, load_objective
from hpo.objectives.outcome import Outcome
from hpo.objectives.training import WEIGHTS_FILE
from training import compiled, fit

DIGITS = {
    "dataset": "digits",
    "model": "simple_cnn",
    "lr": 0.05,
    "batch_size": 32,
    "num_epochs": 2,
    "device": "cpu",
    "compile": True,
}

pytestmark = [
    pytest.mark.slow,  # Inductor compiles C++: about 45 s the first time on a machine
    pytest.mark.skipif(
        shutil.which("g++") is None and shutil.which("c++") is None,
        reason="torch.compile's Inductor needs a C++ compiler (g++ or c++) on the CPU",
    ),
]


@pytest.fixture(autouse=True)
def no_kept_models() -> Iterator[None]:
    compiled.clear()
    yield
    compiled.clear()


def graphs() -> int:
    return int(counters["stats"]["unique_graphs"])


def run_trial(directory: Path, params: dict[str, Any]) -> Outcome:
    """One trial as a worker runs it: the built-in objective, its metrics as recorded."""
    objective = load_objective(ObjectiveSpec(), [Metric("val_acc", "maximize")])
    attempt = Attempt(
        number=0,
        first_number=0,
        retry=0,
        seed=0,
        directory=directory,
        report=lambda value, step: None,
        should_stop=lambda: False,
        record=lambda key, value: None,
    )
    return objective.run(params, attempt)


def test_the_next_trial_of_the_same_graph_reuses_the_compiled_model(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="training.compiled")
    trial = run_trial(tmp_path / "trial-0", DIGITS)
    first = trial.metrics
    assert first["compile_reused"] == 0.0 and first["compile_saved_seconds"] == 0.0
    assert first["compile_seconds"] > 0.0
    assert first["test_acc"] > 0.3  # it trained: 10 classes, chance is 0.1
    assert "compiled simple_cnn in" in caplog.text

    before = graphs()
    second = run_trial(tmp_path / "trial-1", DIGITS)
    assert graphs() == before  # nothing traced or compiled again
    metrics = second.metrics
    assert metrics["compile_reused"] == 1.0 and metrics["compile_seconds"] == 0.0
    assert metrics["compile_saved_seconds"] == first["compile_seconds"]
    assert "compiled simple_cnn reused" in caplog.text
    # The kept model got the trial's own weights: the same seed trains the same model.
    assert metrics["test_acc"] == first["test_acc"] and second.values == trial.values
    weights = [
        torch.load(tmp_path / trial / WEIGHTS_FILE, weights_only=True)["state_dict"]
        for trial in ("trial-0", "trial-1")
    ]
    assert weights[0].keys() == weights[1].keys()  # the plain model's names, no _orig_mod.
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])


def test_another_shape_compiles_its_own_and_both_stay_warm() -> None:
    fit(DIGITS)
    other: dict[str, Any] = fit({**DIGITS, "batch_size": 64})
    assert other["compile_reused"] == 0.0 and other["compile_seconds"] > 0.0
    again = fit({**DIGITS, "seed": 3})
    assert again["compile_reused"] == 1.0  # the batch-32 model was kept beside the batch-64 one
