"""Asking the pruner only where it can act changes no decision, and saves the reads."""

from __future__ import annotations

import math
from typing import Any

import optuna
import pytest

from hpo.tuners import Component, PruningSchedule, Rungs, build_pruner, pruning_schedule
from hpo.worker.reporter import TrialReporter

optuna.logging.set_verbosity(optuna.logging.WARNING)


def curve(x: float, epoch: int) -> float:
    """Learning curves that cross: fast starters are not always the best finishers."""
    return (1 - math.exp(-epoch * (0.2 + x))) * (0.5 + 0.5 * math.sin(7 * x)) + 0.01 * epoch * x


def run(
    pruner: Component, every_step: bool, n: int = 60, epochs: int = 27
) -> tuple[list[Any], int]:
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.RandomSampler(seed=3),
        pruner=build_pruner(pruner),
    )
    asks = 0
    outcome = []
    for _ in range(n):
        trial = study.ask()
        x = trial.suggest_float("x", 0, 1)
        schedule = PruningSchedule() if every_step else pruning_schedule(pruner)
        original_due = schedule.due

        def counting_due(step: int, due: Any = original_due) -> bool:
            nonlocal asks
            result = bool(due(step))
            asks += result
            return result

        schedule.due = counting_due  # type: ignore[method-assign]
        report = TrialReporter(trial, schedule=schedule, multi_objective=False)
        try:
            for epoch in range(1, epochs + 1):
                report(curve(x, epoch), epoch)
        except optuna.TrialPruned:
            report.flush()
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            outcome.append(("pruned", report.last_step))
            continue
        report.flush()
        study.tell(trial, curve(x, epochs))
        outcome.append(("complete", epochs))
    stored = [sorted(t.intermediate_values) for t in study.trials]
    return [outcome, stored], asks


@pytest.mark.parametrize(
    "pruner",
    [
        Component("asha"),
        Component("asha", {"min_resource": 2, "reduction_factor": 3, "min_early_stopping_rate": 1}),
        Component("median", {"n_warmup_steps": 5, "n_startup_trials": 3}),
        Component("threshold", {"lower": 0.3, "n_warmup_steps": 4}),
        Component("none"),
    ],
    ids=lambda c: c.describe(),
)
def test_the_schedule_changes_no_pruning_decision(pruner: Component) -> None:
    every, asked_every = run(pruner, every_step=True)
    scheduled, asked_scheduled = run(pruner, every_step=False)
    assert scheduled == every  # the same trials pruned at the same steps, the same values stored
    assert asked_scheduled <= asked_every
    if pruner.name == "asha":
        assert asked_scheduled < asked_every  # only at the rungs
    if pruner.name == "none":
        assert asked_scheduled == 0


def test_rungs_follow_successive_halving() -> None:
    rungs = Rungs(first=1, factor=3)
    due = []
    for step in range(1, 30):
        if rungs.due(step):
            due.append(step)
            rungs.passed(step)
    assert due == [1, 3, 9, 27]
