"""Numeric choices of CMA-ES and QMC studies: trials store the values, CMA-ES models their order.

Studies are made and run as ``hpo create-study`` and ``hpo worker`` make and run them (the
functions those commands call), on SQLite; what they stored is read back with plain Optuna.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, IntDistribution
from optuna.samplers import CmaEsSampler, RandomSampler
from optuna.trial import FrozenTrial, TrialState

from hpo import attrs
from hpo.storage import open_storage
from hpo.study import Overrides, build_spec, create_study, load_file, parse_config
from hpo.study.store import read_spec
from hpo.tuners.ordered_choices import OrderedChoice
from hpo.worker import Worker
from tests.helpers import DATA, hpo_cli, write_module

optuna.logging.set_verbosity(optuna.logging.WARNING)

SIZES = [16, 32, 64, 128]
SPACE = {
    "batch_size": {"_type": "choice", "_value": SIZES},
    "x": {"_type": "uniform", "_value": [0.0, 1.0]},
}


@pytest.fixture
def objective(tmp_path: Path) -> Iterator[str]:
    """A function objective whose best batch size is 64."""
    write_module(
        tmp_path,
        "ordered_objective",
        """
        import math

        def run(params):
            return abs(math.log2(params["batch_size"]) - 6) + abs(params["x"] - 0.3)
        """,
    )
    sys.path.insert(0, str(tmp_path))
    yield "ordered_objective:run"
    sys.path.remove(str(tmp_path))
    sys.modules.pop("ordered_objective", None)


def make_study(url: str, sampler: dict[str, Any], objective: str, **config: Any) -> str:
    data = {"config": {"sampler": sampler, **config}, "search_space": SPACE}
    spec, _ = build_spec(
        parse_config(data),
        Overrides(objective=objective, direction="minimize", pruner="none", seed=5),
    )
    create_study(open_storage(url), spec)
    return spec.name


def assert_stores_values(url: str, name: str) -> list[FrozenTrial]:
    trials = optuna.load_study(study_name=name, storage=url).trials
    for t in trials:
        assert set(t.params) == {"batch_size", "x"}, t.params
        assert t.params["batch_size"] in SIZES and type(t.params["batch_size"]) is int
        assert t.distributions["batch_size"] == CategoricalDistribution(SIZES)
    return trials


def test_cmaes_stores_numeric_choices_as_values_and_models_their_order(
    sqlite_url: str, objective: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    relative: list[dict[str, Any]] = []  # what CMA-ES itself was given to sample
    independent: list[tuple[int, str]] = []  # what fell back to random sampling

    def sample_relative(self: CmaEsSampler, study: Any, trial: Any, space: Any) -> Any:
        # The trials CMA-ES reads hold ranks 0..3 under the same name.
        done = [t for t in study.trials if t.state == TrialState.COMPLETE]
        assert all(t.params["batch_size"] in range(4) for t in done)
        sampled = original_relative(self, study, trial, space)
        relative.append({"space": space, "sampled": sampled})
        return sampled

    def sample_independent(self: RandomSampler, study: Any, trial: Any, name: str, d: Any) -> Any:
        independent.append((trial.number, name))
        return original_independent(self, study, trial, name, d)

    original_relative = CmaEsSampler.sample_relative
    original_independent = RandomSampler.sample_independent
    monkeypatch.setattr(CmaEsSampler, "sample_relative", sample_relative)
    monkeypatch.setattr(RandomSampler, "sample_independent", sample_independent)

    name = make_study(sqlite_url, {"name": "cmaes", "population_size": 6}, objective)
    assert Worker(open_storage(sqlite_url), name, n_trials=60).run().complete == 60

    trials = assert_stores_values(sqlite_url, name)
    # Only the first trial, before any result, is random; CMA-ES samples every other one,
    # batch_size as an ordered integer dimension.
    assert {n for n, _ in independent} == {0}
    assert relative[-1]["space"] == {
        "batch_size": IntDistribution(0, 3),
        "x": optuna.distributions.FloatDistribution(0.0, 1.0),
    }
    assert relative[-1]["sampled"]["batch_size"] in range(4)
    assert all("cmawm:generation" in t.system_attrs for t in trials[1:])
    assert any(k.startswith("cmawm:optimizer") for t in trials for k in t.system_attrs)
    late = [t.params["batch_size"] for t in trials[-12:]]
    assert late.count(64) >= 8, late


def test_qmc_stores_numeric_choices_as_values(sqlite_url: str, objective: str) -> None:
    name = make_study(sqlite_url, {"name": "qmc"}, objective)
    assert Worker(open_storage(sqlite_url), name, n_trials=9).run().complete == 9
    trials = assert_stores_values(sqlite_url, name)
    # The Sobol sequence covers the choice: every option within the first 8 trials after one.
    assert {t.params["batch_size"] for t in trials[1:]} == set(SIZES)


def test_cmaes_runs_under_hyperband(sqlite_url: str, objective: str) -> None:
    """Optuna hands the sampler a bracket study that refuses most attributes."""
    data = {"config": {"sampler": {"name": "cmaes"}}, "search_space": SPACE}
    spec, _ = build_spec(
        parse_config(data),
        Overrides(objective=objective, direction="minimize", pruner="hyperband", seed=5),
    )
    create_study(open_storage(sqlite_url), spec)
    assert Worker(open_storage(sqlite_url), spec.name, n_trials=12).run().complete == 12
    assert_stores_values(sqlite_url, spec.name)


def test_the_seed001_evolution_baseline_stores_values(tmp_path: Path) -> None:
    """The Food-11 report's Evolution config: its baseline trial, then CMA-ES's, as values."""
    for file in ("seed001_evolution.json", "lab3_1d.py"):
        shutil.copy(DATA / file, tmp_path / file)
    spec, notices = build_spec(load_file(tmp_path / "seed001_evolution.json"))
    assert spec.sampler.name == "cmaes" and spec.baseline == {
        "batch_size": 32,
        "lr": 0.001,
        "momentum": 0.9,
    }
    assert "cmaes optimises these numeric choices as ordered values: batch_size, momentum" in [
        str(n) for n in notices
    ]
    url = f"sqlite:///{tmp_path / 'hpo.db'}"
    create_study(open_storage(url), spec)
    try:
        assert Worker(open_storage(url), spec.name, n_trials=5).run().complete == 5
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("lab3_1d", None)
    trials = optuna.load_study(study_name="ResNet18 Evolution_ES", storage=url).trials
    assert trials[0].user_attrs[attrs.BASELINE] is True
    assert trials[0].params == {"batch_size": 32, "lr": 0.001, "momentum": 0.9}
    for t in trials:
        assert not any("[index]" in name for name in t.params)
        assert t.params["batch_size"] in (8, 16, 32, 64, 128)
        assert t.params["momentum"] in (0.1, 0.3, 0.5, 0.7, 0.9)
        assert isinstance(t.distributions["momentum"], CategoricalDistribution)
    assert any("cmawm:generation" in t.system_attrs for t in trials)


def test_a_study_of_hpo_0_1_keeps_its_indices_and_reads_as_values(
    sqlite_url: str, objective: str
) -> None:
    """hpo 0.1 stored ``batch_size[index]`` and wrote no ``index_choices`` in its spec."""
    data = {"config": {"sampler": {"name": "cmaes"}, "maxTrialNum": 6}, "search_space": SPACE}
    spec, _ = build_spec(
        parse_config(data),
        Overrides(objective=objective, direction="minimize", pruner="none", seed=5),
    )
    old = replace(spec, index_choices=True)
    old = replace(old, baseline=old.space.encode({"batch_size": 32, "x": 0.5})[0])
    assert old.baseline == {"batch_size[index]": 1, "x": 0.5}
    storage = open_storage(sqlite_url)
    study_id = create_study(storage, old).study_id
    stored = old.to_json()
    del stored["index_choices"]
    stored["version"] = 1  # as 0.1 wrote it
    storage.set_study_user_attr(study_id, attrs.SPEC, stored)
    assert read_spec(storage, study_id, spec.name).index_choices
    # A spec of this hpo says so: version 3 (2 and later), which hpo 0.1 refuses (it would
    # write indices into a study that stores values).
    assert spec.to_json()["version"] >= 2 and spec.to_json()["index_choices"] is False

    # Its workers go on with its encoding, so that its trials stay one search space.
    assert Worker(storage, spec.name).run().complete == 6
    trials = optuna.load_study(study_name=spec.name, storage=sqlite_url).trials
    for t in trials:
        assert set(t.params) == {"batch_size[index]", "x"}
        assert t.distributions["batch_size[index]"] == IntDistribution(0, 3)
    assert trials[0].params == {"batch_size[index]": 1, "x": 0.5}

    listed = json.loads(hpo_cli("trials", spec.name, "--format", "json", storage=sqlite_url).stdout)
    by_number = {r["number"]: r["params"] for r in listed}
    assert by_number[0] == {"batch_size": 32, "x": 0.5}
    for t in trials:
        assert by_number[t.number]["batch_size"] == SIZES[t.params["batch_size[index]"]]
    best = hpo_cli("best", spec.name, "--format", "json", storage=sqlite_url)
    assert best.returncode == 0, best.stderr
    assert "[index]" not in best.stdout and '"batch_size"' in best.stdout


def test_ordered_choice_ranks_options_by_value() -> None:
    choice = OrderedChoice.of(CategoricalDistribution([128, 16, 64.0, 32]))
    assert choice is not None
    assert [choice.decode(k) for k in range(4)] == [16, 32, 64.0, 128]
    assert [choice.encode(v) for v in (128, 16, 64.0, 32)] == [3, 0, 2, 1]
    assert choice.decode(3.4) == 128 and choice.decode(-1) == 16
    not_ordered: list[list[Any]] = [[1, "a"], [True, False], [5], ["a", "b"]]
    for choices in not_ordered:
        assert OrderedChoice.of(CategoricalDistribution(choices)) is None
    assert OrderedChoice.of(IntDistribution(0, 3)) is None


def test_cmaes_on_a_nested_space_keeps_modelling_the_top_level_params(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Trials of both branches complete: CMA-ES's dimension must not change with them (when
    it does, Optuna's CmaEsSampler samples nothing relatively for the rest of the study)."""
    write_module(tmp_path, "nested_objective", "def run(params):\n    return params['lr']\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    independent: list[tuple[int, str]] = []

    def sample_independent(self: RandomSampler, study: Any, trial: Any, name: str, d: Any) -> Any:
        independent.append((trial.number, name))
        return original_independent(self, study, trial, name, d)

    original_independent = RandomSampler.sample_independent
    monkeypatch.setattr(RandomSampler, "sample_independent", sample_independent)
    space = {
        "lr": {"_type": "uniform", "_value": [0.0, 1.0]},
        "batch_size": {"_type": "choice", "_value": SIZES},
        "optimizer": {
            "_type": "choice",
            "_value": [
                {"_name": "sgd", "momentum": {"_type": "uniform", "_value": [0.0, 0.9]}},
                {"_name": "adam"},
            ],
        },
    }
    data = {"config": {"sampler": {"name": "cmaes", "population_size": 4}}, "search_space": space}
    spec, notices = build_spec(
        parse_config(data),
        Overrides(objective="nested_objective:run", direction="minimize", pruner="none", seed=2),
    )
    assert any("sampled at random: optimizer/sgd/momentum" in str(n) for n in notices), notices
    create_study(open_storage(sqlite_url), spec)
    # The first trial takes the branch with a param, so that the first completed trials'
    # intersection holds it, and the first trial of the other branch shrinks it.
    first = {"lr": 0.5, "batch_size": 32, "optimizer": "sgd", "optimizer/sgd/momentum": 0.5}
    optuna.load_study(study_name=spec.name, storage=sqlite_url).enqueue_trial(first)
    assert Worker(open_storage(sqlite_url), spec.name, n_trials=24).run().complete == 24

    trials = optuna.load_study(study_name=spec.name, storage=sqlite_url).trials
    branches = {t.params["optimizer"] for t in trials}
    assert branches == {"sgd", "adam"}, branches
    # lr and batch_size: CMA-ES's in every trial but the first (enqueued).
    assert {n for n, name in independent if name in ("lr", "batch_size")} == set()
    assert all(t.params["batch_size"] in SIZES for t in trials)
