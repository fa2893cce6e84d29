"""Grid search: its points, its budget, and points dealt by trial number to racing workers."""

from __future__ import annotations

import optuna
import pytest
from optuna.trial import TrialState

from hpo.errors import InvalidInputError
from hpo.space import parse_space
from hpo.study import grid_budget
from hpo.tuners import Component, build_sampler, check_compatibility, encode_space_for, grid_size
from hpo.tuners.grid import grid_values

optuna.logging.set_verbosity(optuna.logging.WARNING)

DISCRETE = {  # 2 × 3 × 2 = 12 points
    "batch_size": {"_type": "choice", "_value": [16, 32]},
    "optimizer": {"_type": "choice", "_value": ["sgd", "adam", "adamw"]},
    "layers": {"_type": "randint", "_value": [1, 3]},
}


def test_grid_values_are_every_value_of_every_parameter_exactly() -> None:
    space = parse_space(
        {
            "q": {"_type": "quniform", "_value": [0.1, 0.5, 0.1]},
            "k": {"_type": "randint", "_value": [1, 4]},
            "c": {"_type": "choice", "_value": ["a", "b"]},
        }
    )
    assert grid_values(space) == {"q": [0.1, 0.2, 0.3, 0.4, 0.5], "k": [1, 2, 3], "c": ["a", "b"]}
    assert grid_size(space) == 30


def test_a_grid_budget_is_at_most_one_trial_per_point_and_the_baseline() -> None:
    space = parse_space(DISCRETE)
    assert grid_budget(space, baseline=False, max_trials=None) == (12, None)
    assert grid_budget(space, baseline=True, max_trials=10) == (10, None)
    budget, cut = grid_budget(space, baseline=True, max_trials=100)
    assert budget == 13 and cut is not None and "12 combinations and the baseline" in cut


def test_grid_refuses_continuous_and_nested_spaces() -> None:
    mixed = {
        "lr": {"_type": "loguniform", "_value": [1e-4, 1e-1]},
        "momentum": {"_type": "uniform", "_value": [0.0, 0.99]},
        "layers": {"_type": "randint", "_value": [1, 4]},
    }
    with pytest.raises(InvalidInputError, match="continuous: lr, momentum"):
        check_compatibility(Component("grid"), parse_space(mixed), 1)
    nested = {
        "layer": {
            "_type": "choice",
            "_value": [{"_name": "a", "k": {"_type": "randint", "_value": [1, 3]}}],
        }
    }
    with pytest.raises(InvalidInputError, match="bruteforce"):
        check_compatibility(Component("grid"), parse_space(nested), 1)
    assert check_compatibility(Component("bruteforce"), parse_space(nested), 1) == []


def test_grid_points_follow_trial_numbers_whatever_order_workers_pick_them() -> None:
    # Racing workers create trials first and let their samplers pick points afterwards, in
    # any order. Optuna's GridSampler let a trial numbered past the grid (the baseline took
    # a number and no point) pick at random among the points no trial held yet, which were
    # the ones its neighbours were about to take: a point ran twice, another never.
    space = encode_space_for("grid", parse_space(DISCRETE))
    points = grid_size(space)
    sampler = build_sampler(Component("grid"), space, seed=1, n_objectives=1)
    study = optuna.create_study(sampler=sampler)
    storage, study_id = study._storage, study._study_id  # what a worker's storage calls see
    retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=3)

    def new_trial() -> int:  # a worker created it; its sampler has not picked yet
        return storage.create_new_trial(study_id)

    def dies(trial_id: int) -> int:  # its worker is killed; a stale-trial check queues a retry
        storage.set_trial_state_values(trial_id, TrialState.RUNNING)  # popped, if queued
        storage.set_trial_state_values(trial_id, TrialState.FAIL)
        retry(study, storage.get_trial(trial_id))
        return storage.get_all_trials(study_id)[-1]._trial_id

    def pick(trial_id: int) -> None:
        sampler.before_trial(study, storage.get_trial(trial_id))

    study.enqueue_trial({"layers": 1})  # the Dr.Opt baseline: trial 0, no grid point
    one, two, three, four, five = (new_trial() for _ in range(5))
    pick(two)
    redo_two = dies(two)  # 6: carries trial 2's point
    redo_three = dies(three)  # 7: trial 3 died before picking; the retry picks its point
    redo_one = dies(dies(one))  # 8, then 9: died twice before picking
    later = [new_trial() for _ in range(points - 5)]  # 10 onwards
    ran = [four, five, *later, redo_two, redo_three, redo_one]
    for trial_id in [*reversed(ran), *ran]:  # any order; a second pick changes nothing
        pick(trial_id)

    dealt = [storage.get_trial(i).system_attrs["grid_id"] for i in ran]
    assert sorted(dealt) == list(range(points))
    assert dealt[-3:] == [1, 2, 0]  # the points of trials 2, 3 and 1


def test_grid_baseline_may_finish_last() -> None:
    # Optuna's GridSampler raised KeyError('grid_id') when a trial with fixed params (the
    # baseline) finished while one grid point was left: a long baseline on many workers.
    space = encode_space_for("grid", parse_space({"a": {"_type": "choice", "_value": [1, 2, 3]}}))
    sampler = build_sampler(Component("grid"), space, seed=1, n_objectives=1)
    study = optuna.create_study(sampler=sampler)
    study.enqueue_trial({"a": 2})
    baseline = study.ask()
    space.suggest(baseline)
    for _ in range(2):
        trial = study.ask()
        space.suggest(trial)
        study.tell(trial, 0.0)
    study.tell(baseline, 1.0)
    last = study.ask()
    assert space.suggest(last) == {"a": 2}  # the point left, dealt as usual
