"""Sampler and pruner registries: every entry builds and samples; what cannot run is refused."""

from __future__ import annotations

import json
from typing import Any

import optuna
import pytest
from optuna.trial import TrialState

from hpo.errors import InvalidInputError, UnknownNameError
from hpo.optuna_compat import enter_optimize_loop
from hpo.pruners import PRUNERS, build_pruner, resolve_pruner_name
from hpo.samplers import (
    NNI_TUNERS,
    SAMPLERS,
    build_sampler,
    check_compatibility,
    encode_space_for,
    grid_size,
    resolve_sampler_name,
)
from hpo.space import parse_space
from hpo.spec import Component

optuna.logging.set_verbosity(optuna.logging.WARNING)

MIXED = {
    "lr": {"_type": "loguniform", "_value": [1e-4, 1e-1]},
    "momentum": {"_type": "uniform", "_value": [0.0, 0.99]},
    "batch_size": {"_type": "choice", "_value": [16, 32, 64, 128]},
    "optimizer": {"_type": "choice", "_value": ["sgd", "adam"]},
    "epochs": {"_type": "quniform", "_value": [5, 25, 5]},
    "layers": {"_type": "randint", "_value": [1, 4]},
}
DISCRETE = {
    "batch_size": {"_type": "choice", "_value": [16, 32]},
    "optimizer": {"_type": "choice", "_value": ["sgd", "adam", "adamw"]},
    "epochs": {"_type": "quniform", "_value": [5, 15, 5]},
    "layers": {"_type": "randint", "_value": [1, 3]},
}


def run_sampler(
    name: str, space_json: dict[str, Any], n: int, objectives: int = 1
) -> list[dict[str, Any]]:
    space = encode_space_for(name, parse_space(space_json))
    sampler = build_sampler(Component(name), space, seed=1, n_objectives=objectives)
    study = optuna.create_study(sampler=sampler, directions=["minimize"] * objectives)
    enter_optimize_loop(study)  # as the worker does: exhaustive samplers call study.stop()
    seen = []
    for _ in range(n):
        trial = study.ask()
        values = space.suggest(trial)
        score = values["lr"] if "lr" in values else values["layers"]
        study.tell(trial, [score] * objectives if objectives > 1 else score)
        seen.append(values)
    return seen


@pytest.mark.parametrize("name", [n for n, k in SAMPLERS.items() if not k.discrete_only])
def test_every_sampler_samples_a_mixed_space_in_nni_values(name: str) -> None:
    objectives = 2 if name in ("nsga2", "nsga3") else 1
    for values in run_sampler(name, MIXED, 14, objectives):
        assert values["batch_size"] in (16, 32, 64, 128)
        assert values["optimizer"] in ("sgd", "adam")
        assert values["epochs"] in (5, 10, 15, 20, 25) and type(values["epochs"]) is int
        assert values["layers"] in (1, 2, 3)


@pytest.mark.parametrize("name", ["grid", "bruteforce"])
def test_exhaustive_samplers_visit_every_combination_once(name: str) -> None:
    size = grid_size(parse_space(DISCRETE))
    assert size == 2 * 3 * 3 * 2
    seen = run_sampler(name, DISCRETE, size)
    assert len({json.dumps(v, sort_keys=True) for v in seen}) == size


def test_cmaes_optimises_numeric_choices_in_order_and_names_the_others() -> None:
    notices = [str(n) for n in check_compatibility(Component("cmaes"), parse_space(MIXED), 1)]
    assert notices == [
        "cmaes optimises these numeric choices as ordered values: batch_size",
        "cmaes cannot model non-numeric choices; it samples these at random: optimizer "
        "(use tpe or gp to optimise them)",
    ]
    space = encode_space_for("cmaes", parse_space(MIXED))
    assert "batch_size[index]" in space.distributions()


def test_cmaes_converges_on_an_ordinal_choice() -> None:
    space_json = {
        "batch_size": {"_type": "choice", "_value": [8, 16, 32, 64, 128, 256]},
        "lr": {"_type": "uniform", "_value": [0.0, 1.0]},
    }
    space = encode_space_for("cmaes", parse_space(space_json))
    sampler = build_sampler(
        Component("cmaes", {"population_size": 6}), space, seed=0, n_objectives=1
    )
    study = optuna.create_study(sampler=sampler)
    for _ in range(60):
        trial = study.ask()
        v = space.suggest(trial)
        study.tell(trial, abs(v["batch_size"] - 64) / 64 + abs(v["lr"] - 0.5))
    late = [space.decode(t.params)["batch_size"] for t in study.trials[-12:]]
    assert late.count(64) >= 8, late


def test_grid_refuses_continuous_and_nested_spaces() -> None:
    with pytest.raises(InvalidInputError, match="continuous: lr, momentum"):
        check_compatibility(Component("grid"), parse_space(MIXED), 1)
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
    storage, study_id = study._storage, study._study_id
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


def test_sampler_options_are_checked() -> None:
    with pytest.raises(InvalidInputError, match="has no option 'popsize'"):
        check_compatibility(Component("cmaes", {"popsize": 4}), parse_space(MIXED), 1)
    with pytest.raises(InvalidInputError, match="n_startup_trials must be int"):
        check_compatibility(Component("tpe", {"n_startup_trials": "5"}), parse_space(MIXED), 1)


def test_names_resolve_case_insensitively_with_suggestions() -> None:
    assert resolve_sampler_name("Evolution") == "cmaes"
    assert resolve_sampler_name(" TPE ") == "tpe"
    for tuner in NNI_TUNERS:
        assert resolve_sampler_name(tuner) in SAMPLERS
    with pytest.raises(UnknownNameError, match="did you mean 'random'"):
        resolve_sampler_name("randm")


@pytest.mark.parametrize("name", list(PRUNERS))
def test_every_pruner_builds(name: str) -> None:
    options = {"lower": 0.1} if name == "threshold" else {}
    assert isinstance(build_pruner(Component(name, options)), optuna.pruners.BasePruner)


def test_pruner_options_are_checked() -> None:
    assert build_pruner(Component("asha", {"min_resource": 2, "reduction_factor": 4}))
    assert isinstance(
        build_pruner(Component("patient", {"patience": 2, "wrapped": "median"})),
        optuna.pruners.PatientPruner,
    )
    with pytest.raises(InvalidInputError, match="has no option 'eta'"):
        build_pruner(Component("hyperband", {"eta": 3}))
    with pytest.raises(InvalidInputError, match="reduction_factor must be int"):
        build_pruner(Component("asha", {"reduction_factor": "3"}))
    with pytest.raises(InvalidInputError, match="lower and/or upper"):
        build_pruner(Component("threshold"))
    assert resolve_pruner_name("Medianstop") == "median"
    with pytest.raises(UnknownNameError):
        resolve_pruner_name("earlystop")
