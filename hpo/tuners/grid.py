"""Grid search whose points are dealt by trial number, so parallel workers never share one.

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

from typing import TYPE_CHECKING

from optuna.samplers import GridSampler

from hpo.liveness import original_number
from hpo.storage import RETRY_ATTR

if TYPE_CHECKING:
    from collections.abc import Sequence

    from optuna.study import Study
    from optuna.trial import FrozenTrial, TrialState

GRID_ID_ATTR = "grid_id"
#: Where Optuna keeps the params of an enqueued trial (the baseline among them).
FIXED_PARAMS_ATTR = "fixed_params"


def takes_no_point(trial: FrozenTrial) -> bool:
    """True for trials that do not take a new grid point: enqueued ones and retries."""
    attrs = trial.system_attrs
    return FIXED_PARAMS_ATTR in attrs or RETRY_ATTR in attrs


class NumberedGridSampler(GridSampler):
    """GridSampler that deals point k to the k-th trial needing one, with no race."""

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        if GRID_ID_ATTR in trial.system_attrs or FIXED_PARAMS_ATTR in trial.system_attrs:
            return
        # A retry normally carries its first attempt's point; one whose first attempt died
        # before writing it (killed, or a storage error inside ask) gets that point now.
        first = original_number(trial)
        earlier = study._storage.get_all_trials(study._study_id, deepcopy=False)
        point = first - sum(1 for t in earlier if t.number < first and takes_no_point(t))
        if point >= len(self._all_grids):
            # Only a budget set past the grid outside hpo (which caps it) gets here: Optuna's
            # own pick among the unvisited points.
            super().before_trial(study, trial)
            return
        study._storage.set_trial_system_attr(trial._trial_id, "search_space", self._search_space)
        study._storage.set_trial_system_attr(trial._trial_id, GRID_ID_ATTR, point)

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
        if GRID_ID_ATTR in study._storage.get_trial_system_attrs(trial._trial_id):
            super().after_trial(study, trial, state, values)
        elif not self._get_unvisited_grid_ids(study):
            study.stop()
