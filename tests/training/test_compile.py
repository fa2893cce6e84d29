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
from torch import nn
from torch._dynamo.utils import counters

from hpo.objectives import Attempt, Metric, ObjectiveSpec, load_objective
from hpo.objectives.outcome import Outcome
from hpo.objectives.training import WEIGHTS_FILE
from training import compiled, fit
from training.compiled import Shapes

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
    compiled.forget_all()
    yield
    compiled.forget_all()


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
    assert first["compile_seconds"] > 0.0 and first["compile_fell_back"] == 0.0
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
    kept = list(compiled._KEPT.values())
    assert len(kept) == 2
    assert all(p.grad is None for e in kept for p in e.module.parameters())  # weights only
    compiled.forget_all()  # what a worker calls after running out of device memory
    assert not compiled._KEPT


def test_a_search_over_width_with_tta_stays_compiled(caplog: pytest.LogCaptureFixture) -> None:
    """Every width adds a training graph and evaluation graphs to the one list Dynamo keeps
    for the model class's forward, which its recompile limit (8 by default) caps: past it
    Dynamo would run the model eagerly, silently."""
    caplog.set_level(logging.INFO, logger="training.compiled")
    params = {**DIGITS, "model": "dw_student", "tta": True, "num_epochs": 1}
    failed = compiled._frames()[1]
    made = []
    for width in (0.25, 0.5, 0.75):  # 3 graphs each on the CPU; Dynamo hit its limit on the 3rd
        before = compiled._frames()[0]
        metrics = fit({**params, "width": width})
        assert metrics["compile_reused"] == 0.0 and metrics["compile_seconds"] > 0.0
        made.append(compiled._frames()[0] - before)
    assert all(made), made  # each width compiled graphs of its own ...
    assert sum(made) > 8, made  # ... more than Dynamo's default limit in all
    assert compiled._frames()[1] == failed  # and Dynamo gave up on no frame
    assert "fell back" not in caplog.text and "failed to compile" not in caplog.text
    assert len(compiled._KEPT) == 3


def test_when_dynamos_lists_are_full_its_caches_are_emptied_first(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """At Dynamo's default limit (8 graphs per function) the kept models make room: the
    caches are emptied (and the kept models dropped) before a model that would not fit."""
    caplog.set_level(logging.INFO, logger="training.compiled")
    monkeypatch.setattr(compiled, "GRAPHS", 8)
    params = {**DIGITS, "model": "dw_student", "tta": True, "num_epochs": 1}
    failed = compiled._frames()[1]
    with torch._dynamo.config.patch(recompile_limit=8, accumulated_recompile_limit=8):
        for width in (0.25, 0.5, 0.75):
            metrics = fit({**params, "width": width})
            assert metrics["compile_reused"] == 0.0
    assert "Dynamo's caches emptied" in caplog.text
    assert compiled._frames()[1] == failed  # nothing fell back to eager
    assert "fell back" not in caplog.text


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.head = nn.Linear(4 * 8 * 8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.head(self.conv(x).flatten(1))
        return out


def test_a_fall_back_to_eager_in_a_trial_is_told_and_not_kept(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="training.compiled")
    monkeypatch.setattr(compiled, "GRAPHS", 2)
    shapes = Shapes((4, 1, 8, 8), (4,), torch.device("cpu"), False, False, False)
    with torch._dynamo.config.patch(recompile_limit=2, accumulated_recompile_limit=2):
        entry, _ = compiled.acquire("tiny", "spec", Tiny(), [], shapes)
        assert not entry.fell_back  # the warm-up's two graphs (training, evaluation) fit
        with torch.no_grad():
            entry.net(torch.zeros(3, 1, 8, 8))  # a shape the warm-up did not see: a third
        assert entry.fell_back
        compiled.release(entry)
    assert "compiled tiny fell back to eager during the trial" in caplog.text
    assert not compiled._KEPT  # not kept, and Dynamo's caches emptied for the next trials
    assert "Dynamo's caches emptied (a fall-back to eager)" in caplog.text
