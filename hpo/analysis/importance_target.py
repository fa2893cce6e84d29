"""Which value importance explains: complete trials' final values, or one epoch's values.

A pruned study keeps few complete trials (the quick start: 2 of 20), too few for importance,
and those few are the survivors of pruning, not a sample of the space. Every trial that
reached an epoch has a value there, so a pruned study is explained by its values at the
deepest epoch that enough trials reached; the result names that epoch.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import optuna
from optuna.trial import FrozenTrial, TrialState

from hpo.errors import HpoError

#: Fewer trials than this give no importance at all.
MIN_TRIALS = 8


@dataclass(frozen=True)
class Target:
    """One stand-in trial per trial explained, whose value is the value explained."""

    trials: list[FrozenTrial]
    epoch: int | None  # None: the final values of complete trials
    complete: int


def choose_target(study: str, trials: Sequence[FrozenTrial], *, multi_objective: bool) -> Target:
    """The final values of the complete trials when there are enough of them, else the values
    at the deepest epoch that enough complete or pruned trials reported."""
    complete = [t for t in trials if t.state == TrialState.COMPLETE and t.values]
    if len(complete) >= MIN_TRIALS:
        if multi_objective:  # importance of the first objective; the others are dropped
            complete = [_with_value(t, t.values[0]) for t in complete]
        return Target(complete, None, len(complete))
    epoch = None if multi_objective else deepest_epoch(trials)
    if epoch is None:
        raise HpoError(
            f"study {study!r} has {len(complete)} complete trials; importance needs at least "
            f"{MIN_TRIALS} (or {MIN_TRIALS} trials that reported the same epoch)"
        )
    at_epoch = [
        _with_value(t, t.intermediate_values[epoch])
        for t in _reporting(trials)
        if _finite(t.intermediate_values.get(epoch))
    ]
    return Target(at_epoch, epoch, len(complete))


def deepest_epoch(trials: Sequence[FrozenTrial]) -> int | None:
    """The last epoch that at least MIN_TRIALS finished trials reported a value for."""
    reached: Counter[int] = Counter()
    for t in _reporting(trials):
        reached.update(step for step, value in t.intermediate_values.items() if _finite(value))
    enough = [step for step, count in reached.items() if count >= MIN_TRIALS]
    return max(enough) if enough else None


def _reporting(trials: Sequence[FrozenTrial]) -> list[FrozenTrial]:
    """Finished trials with epochs (a running trial's values may still be cut short)."""
    ended = (TrialState.COMPLETE, TrialState.PRUNED)
    return [t for t in trials if t.state in ended and t.intermediate_values]


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _with_value(trial: FrozenTrial, value: float) -> FrozenTrial:
    stand_in = optuna.trial.create_trial(
        value=value, params=trial.params, distributions=trial.distributions
    )
    stand_in.number = trial.number  # the spread of sampling reads the trials in order
    return stand_in
