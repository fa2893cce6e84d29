"""Sampler and pruner registries: every entry builds and samples; what cannot run is refused."""

from __future__ import annotations

import json
from typing import Any

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, IntDistribution

from hpo.errors import InvalidInputError, UnknownNameError
from hpo.optuna_compat import enter_optimize_loop
from hpo.space import parse_space
from hpo.tuners import (
    NNI_TUNERS,
    PRUNERS,
    SAMPLERS,
    Component,
    build_pruner,
    build_sampler,
    check_compatibility,
    encode_space_for,
    grid_size,
    resolve_pruner_name,
    resolve_sampler_name,
)

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
    # Trials store the values: the distribution is the user's choice (hpo 0.1 stored indices).
    space = encode_space_for("cmaes", parse_space(MIXED))
    assert space.distributions()["batch_size"] == CategoricalDistribution([16, 32, 64, 128])
    legacy = encode_space_for("cmaes", parse_space(MIXED), index_choices=True)
    assert legacy.distributions()["batch_size[index]"] == IntDistribution(0, 3)
    assert check_compatibility(Component("qmc"), parse_space(MIXED), 1) == []


def test_cmaes_converges_on_a_numeric_choice() -> None:
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
    late = [t.params["batch_size"] for t in study.trials[-12:]]  # stored as values
    assert late.count(64) >= 8, late


def test_sampler_options_are_checked() -> None:
    with pytest.raises(InvalidInputError, match="has no option 'popsize'"):
        check_compatibility(Component("cmaes", {"popsize": 4}), parse_space(MIXED), 1)
    with pytest.raises(InvalidInputError, match="n_startup_trials must be int"):
        check_compatibility(Component("tpe", {"n_startup_trials": "5"}), parse_space(MIXED), 1)


def test_names_resolve_case_insensitively_with_suggestions() -> None:
    assert resolve_sampler_name("Evolution") == "cmaes"
    assert resolve_sampler_name(" TPE ") == "tpe"
    for name, tuner in NNI_TUNERS.items():
        if tuner.refusal is None:
            assert resolve_sampler_name(name) in SAMPLERS
            assert resolve_sampler_name(name.upper()) == resolve_sampler_name(name)
        else:  # NAS and population-based tuners: one line that says why
            with pytest.raises(InvalidInputError, match=f"(?i)NNI tuner {name} is not supported"):
                resolve_sampler_name(name.lower())
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
