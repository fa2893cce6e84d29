"""Grid search, with points dealt by trial number so that parallel workers never share one.

Optuna's GridSampler gives trial number k the k-th point of its shuffled grid, but only while
k is below the grid size; any other trial (for instance when the Dr.Opt baseline took a number
and no point) picks at random among the points no trial holds yet. A trial another worker has
just created holds no point until its ``before_trial`` writes one, so two workers picking at
that moment can take the same point and leave another unvisited.

Here the point is a function of the trial number instead: the k-th trial that needs a point
gets point k. The trials that need none (enqueued trials with fixed params, and retries, which
redo their first attempt's point) are known from the moment they are created, because Optuna
writes their system attributes in the same transaction as the trial itself.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from optuna.samplers import GridSampler
from optuna.study import Study
from optuna.trial import FrozenTrial, TrialState

from hpo.optuna_compat import (
    FIXED_PARAMS,
    GRID_ID,
    GRID_SEARCH_SPACE,
    RETRY_OF,
    original_number,
    study_id,
    study_storage,
    trial_id,
    unvisited_grid_ids,
)
from hpo.space import ChoiceParam, Space


def grid_values(space: Space) -> dict[str, list[Any]]:
    """Every value of every parameter, by Optuna name, for the grid sampler."""
    grid: dict[str, list[Any]] = {}
    for p, _ in space.walk():
        if isinstance(p, ChoiceParam):
            grid[p.optuna_key] = [o.label for o in p.options]
            continue
        step = p.quantum or p.step or 1
        n = int((Decimal(repr(p.high)) - Decimal(repr(p.low))) / Decimal(repr(step))) + 1
        values = [Decimal(repr(p.low)) + i * Decimal(repr(step)) for i in range(n)]
        grid[p.key] = [int(v) if p.integer else float(v) for v in values]
    return grid


def grid_size(space: Space) -> int:
    """How many points the grid of ``space`` has."""
    return math.prod(len(values) for values in grid_values(space).values())


def takes_no_point(trial: FrozenTrial) -> bool:
    """True for trials that do not take a new grid point: enqueued ones and retries."""
    attrs = trial.system_attrs
    return FIXED_PARAMS in attrs or RETRY_OF in attrs


class NumberedGridSampler(GridSampler):
    """GridSampler that deals point k to the k-th trial needing one, with no race."""

    def __init__(self, search_space: Mapping[str, Sequence[Any]], seed: int | None = None) -> None:
        super().__init__(search_space, seed=seed)
        # As GridSampler stores it in each trial: the grid, its parameters in sorted order.
        self._hpo_grid = {name: list(values) for name, values in sorted(search_space.items())}
        self._hpo_points = math.prod(len(values) for values in search_space.values())

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        if GRID_ID in trial.system_attrs or FIXED_PARAMS in trial.system_attrs:
            return
        # A retry normally carries its first attempt's point; one whose first attempt died
        # before writing it (killed, or a storage error inside ask) gets that point now.
        first = original_number(trial)
        storage = study_storage(study)
        earlier = storage.get_all_trials(study_id(study), deepcopy=False)
        point = first - sum(1 for t in earlier if t.number < first and takes_no_point(t))
        if point >= self._hpo_points:
            # Only a budget set past the grid outside hpo (which caps it) gets here: Optuna's
            # own pick among the unvisited points.
            super().before_trial(study, trial)
            return
        storage.set_trial_system_attr(trial_id(trial), GRID_SEARCH_SPACE, self._hpo_grid)
        storage.set_trial_system_attr(trial_id(trial), GRID_ID, point)

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        # Optuna's version reads the finished trial's point to see whether it was the last one
        # left, and raises KeyError for the baseline, which has none (a long baseline can
        # finish while one point is left).
        stored = study_storage(study).get_trial_system_attrs(trial_id(trial))
        if GRID_ID in stored:
            super().after_trial(study, trial, state, values)
        elif not unvisited_grid_ids(self, study):
            study.stop()
