"""The worker loop with real Python objectives, in this process, on every storage backend."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.trial import TrialState

from hpo.attrs import ERROR as ERROR_ATTR
from hpo.attrs import METRICS as METRICS_ATTR
from hpo.errors import HpoError
from hpo.storage import open_storage
from hpo.study import Overrides, build_spec, create_study, load_file, parse_config
from hpo.worker import MAX_CONSECUTIVE_FAILURES, Worker
from tests.helpers import DATA, wait_for, write_module

SPACE = {
    "x": {"_type": "uniform", "_value": [0.0, 1.0]},
    "k": {"_type": "randint", "_value": [0, 4]},
}


@pytest.fixture
def objectives(tmp_path: Path) -> Iterator[Path]:
    """A module of small real objectives, importable by the workers."""
    write_module(
        tmp_path,
        "objectives",
        """
        import math

        def quadratic(params):
            return (params["x"] - 0.3) ** 2 + params["k"]

        def curve(params, report):
            # A learning curve that ends at x: bad trials are bad from the first epoch.
            for epoch in range(1, 6):
                report(params["x"] * epoch / 5, epoch)
            return params["x"]

        def flaky(params):
            if params["x"] < 0.5:
                raise RuntimeError(f"diverged at x={params['x']:.3f}")
            return params["x"]

        def nan(params):
            return math.nan

        def always_fails(params):
            raise ValueError("data_dir missing")

        def two_metrics(params):
            return {"acc": params["x"], "size": params["k"] * 1000, "test_acc": 0.5}

        def nni_default(params):
            return {"default": params["x"], "loss": 1 - params["x"]}

        def fixed_params(params):
            return params["x"] + params["offset"]

        def exits(params):
            import sys

            if params["k"] % 2:
                sys.exit(3)
            raise SystemExit(0)
        """,
    )
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    sys.modules.pop("objectives", None)


def make_study(storage_url: str, config: dict[str, Any], **overrides: Any) -> tuple[Any, str]:
    spec, _ = build_spec(parse_config(config), Overrides(**overrides))
    storage = open_storage(storage_url)
    create_study(storage, spec)
    return storage, spec.name


def test_worker_runs_until_the_study_budget(storage_url: str, objectives: Path) -> None:
    config = {"config": {"maxTrialNum": 12}, "search_space": SPACE}
    storage, name = make_study(
        storage_url,
        config,
        objective="objectives:quadratic",
        name="q",
        sampler="random",
        direction="minimize",
    )
    stats = Worker(storage, name).run()
    assert stats.complete == 12 and "budget of 12 trials" in stats.stop_reason
    study = optuna.load_study(study_name=name, storage=storage_url)
    assert len(study.trials) == 12
    for t in study.trials:
        assert t.value == pytest.approx((t.params["x"] - 0.3) ** 2 + t.params["k"])
    # A second worker on a spent study stops at once, without creating a trial.
    assert Worker(open_storage(storage_url), name).run().ran == 0
    assert len(optuna.load_study(study_name=name, storage=storage_url).trials) == 12


def test_n_trials_caps_this_process_only(sqlite_url: str, objectives: Path) -> None:
    storage, name = make_study(
        sqlite_url,
        {"config": {"maxTrialNum": 10}, "search_space": SPACE},
        objective="objectives:quadratic",
    )
    assert Worker(storage, name, n_trials=3).run().ran == 3
    assert Worker(storage, name).run().ran == 7


def test_time_budget_counts_from_the_first_workers_start(sqlite_url: str, objectives: Path) -> None:
    storage, name = make_study(
        sqlite_url, {"search_space": SPACE}, objective="objectives:quadratic", max_duration_s=0.5
    )
    import time

    from hpo import attrs

    time.sleep(0.6)  # longer than the budget, before any worker (a job waiting in a queue)
    before = time.time()
    Worker(storage, name, n_trials=1).run()
    study_id = storage.get_study_id_from_name(name)
    started = storage.get_study_system_attrs(study_id)[attrs.CLOCK]["since"]
    assert started >= before  # the clock started with the worker, not at create-study
    wait_for(lambda: time.time() > started + 0.5, 30, "the budget to pass")
    stats = Worker(storage, name).run()  # the study's clock, not each worker's
    assert stats.ran == 0 and "time budget" in stats.stop_reason


def test_dropt_config_and_run_params_work_unchanged(tmp_path: Path) -> None:
    """The Food-11 early-stopping report's own config and a Dr.Opt train module with run(params)."""
    for name in ("seed001_tpe.json", "lab3_1d.py"):
        shutil.copy(DATA / name, tmp_path / name)
    config = load_file(tmp_path / "seed001_tpe.json")
    spec, notices = build_spec(config)
    assert spec.objective.target == "lab3_1d:run" and spec.objective.path == (str(tmp_path),)
    assert spec.max_trials == 15 and spec.max_duration_s == 12 * 3600
    assert [str(n) for n in notices] == [
        "search_space.lr._value: bounds reversed [0.1, 0.0001]; using [0.0001, 0.1]"
    ]
    storage = open_storage(f"sqlite:///{tmp_path / 'hpo.db'}")
    create_study(storage, spec)
    try:
        stats = Worker(storage, spec.name).run()
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("lab3_1d", None)
    assert stats.complete == 15
    study = optuna.load_study(study_name="ResNet18(pre)_TPE", storage=storage)
    baseline = study.trials[0]
    assert baseline.params == {"batch_size": 32, "lr": 0.001, "momentum": 0.9}
    assert baseline.user_attrs["hpo:baseline"] is True
    assert study.direction == optuna.study.StudyDirection.MAXIMIZE


def test_reports_reach_the_pruner(storage_url: str, objectives: Path) -> None:
    config = {
        "config": {"maxTrialNum": 20, "pruner": {"name": "threshold", "lower": 0.1}},
        "search_space": SPACE,
    }
    storage, name = make_study(storage_url, config, objective="objectives:curve", sampler="random")
    stats = Worker(storage, name).run()
    study = optuna.load_study(study_name=name, storage=storage_url)
    for t in study.trials:
        first = t.params["x"] / 5
        if first < 0.1:  # the threshold pruner stops it at the first report
            assert t.state == TrialState.PRUNED and list(t.intermediate_values) == [1]
            assert t.value == t.intermediate_values[1]  # as Optuna's tell: its last report
        else:
            assert t.state == TrialState.COMPLETE and list(t.intermediate_values) == [1, 2, 3, 4, 5]
    assert stats.pruned == sum(t.state == TrialState.PRUNED for t in study.trials) > 0


def test_without_a_pruner_reports_are_kept_but_nothing_is_pruned(
    sqlite_url: str, objectives: Path
) -> None:
    storage, name = make_study(
        sqlite_url,
        {"config": {"maxTrialNum": 6}, "search_space": SPACE},
        objective="objectives:curve",
        pruner="none",
    )
    assert Worker(storage, name).run().complete == 6
    study = optuna.load_study(study_name=name, storage=sqlite_url)
    assert all(len(t.intermediate_values) == 5 for t in study.trials)


def test_a_failing_trial_is_failed_with_its_reason_and_the_worker_goes_on(
    storage_url: str, objectives: Path
) -> None:
    config = {"config": {"maxTrialNum": 16}, "search_space": SPACE}
    storage, name = make_study(
        storage_url, config, objective="objectives:flaky", sampler="random", seed=3
    )
    stats = Worker(storage, name).run()
    study = optuna.load_study(study_name=name, storage=storage_url)
    assert len(study.trials) == 16 and stats.failed > 0 and stats.complete > 0
    for t in study.trials:
        if t.params["x"] < 0.5:
            assert t.state == TrialState.FAIL
            assert t.user_attrs[ERROR_ATTR] == f"RuntimeError: diverged at x={t.params['x']:.3f}"
            assert "Traceback" in t.user_attrs["hpo:traceback"]
        else:
            assert t.state == TrialState.COMPLETE


def test_a_trial_that_exits_is_failed_and_the_worker_goes_on(
    storage_url: str, objectives: Path
) -> None:
    """sys.exit(3) or SystemExit(0) in a trial's code is that trial's failure."""
    storage, name = make_study(
        storage_url,
        {"config": {"maxTrialNum": 6}, "search_space": SPACE},
        objective="objectives:exits",
        sampler="random",
        seed=2,
    )
    stats = Worker(storage, name).run()
    trials = optuna.load_study(study_name=name, storage=storage_url).trials
    assert stats.failed == 6 and [t.state for t in trials] == [TrialState.FAIL] * 6
    for t in trials:
        code = 3 if t.params["k"] % 2 else 0
        assert t.user_attrs[ERROR_ATTR].startswith(f"the objective called sys.exit({code})")


def test_nan_result_is_pruned_as_divergence_with_a_reason(
    sqlite_url: str, objectives: Path
) -> None:
    storage, name = make_study(
        sqlite_url,
        {"config": {"maxTrialNum": 2}, "search_space": SPACE},
        objective="objectives:nan",
    )
    stats = Worker(storage, name).run()
    trials = optuna.load_study(study_name=name, storage=sqlite_url).trials
    # Divergence is a result, not a crash: PRUNED, so samplers steer away from it.
    assert [t.state for t in trials] == [TrialState.PRUNED] * 2 and stats.pruned == 2
    assert trials[0].user_attrs[ERROR_ATTR] == "the objective returned nan for 'default'"


def test_a_worker_whose_trials_all_fail_stops_instead_of_burning_the_budget(
    sqlite_url: str, objectives: Path
) -> None:
    storage, name = make_study(
        sqlite_url,
        {"config": {"maxTrialNum": 100}, "search_space": SPACE},
        objective="objectives:always_fails",
    )
    with pytest.raises(HpoError, match=r"trials in a row failed.*ValueError: data_dir missing"):
        Worker(storage, name).run()
    assert (
        len(optuna.load_study(study_name=name, storage=sqlite_url).trials)
        == MAX_CONSECUTIVE_FAILURES
    )


def test_several_objectives_from_a_dict_and_extra_metrics_kept(
    storage_url: str, objectives: Path
) -> None:
    config = {
        "config": {"maxTrialNum": 8, "metrics": {"acc": "maximize", "size": "minimize"}},
        "search_space": SPACE,
    }
    storage, name = make_study(
        storage_url, config, objective="objectives:two_metrics", sampler="nsga2"
    )
    Worker(storage, name).run()
    study = optuna.load_study(study_name=name, storage=storage_url)
    assert [d.name for d in study.directions] == ["MAXIMIZE", "MINIMIZE"]
    for t in study.trials:
        assert t.values == [t.params["x"], t.params["k"] * 1000]
        assert t.user_attrs[METRICS_ATTR] == {"test_acc": 0.5}


def test_nni_default_key_is_the_single_metric(sqlite_url: str, objectives: Path) -> None:
    storage, name = make_study(
        sqlite_url,
        {"config": {"maxTrialNum": 3}, "search_space": SPACE},
        objective="objectives:nni_default",
    )
    Worker(storage, name).run()
    for t in optuna.load_study(study_name=name, storage=sqlite_url).trials:
        assert t.value == t.params["x"] and t.user_attrs[METRICS_ATTR] == {
            "loss": pytest.approx(1 - t.params["x"])
        }


def test_fixed_params_reach_the_objective(sqlite_url: str, objectives: Path) -> None:
    config = {"config": {"maxTrialNum": 3}, "params": {"offset": 10}, "search_space": SPACE}
    storage, name = make_study(sqlite_url, config, objective="objectives:fixed_params")
    Worker(storage, name).run()
    for t in optuna.load_study(study_name=name, storage=sqlite_url).trials:
        assert t.value == pytest.approx(t.params["x"] + 10)


def test_workers_get_distinct_indices_and_seeds(storage_url: str, objectives: Path) -> None:
    _, name = make_study(
        storage_url, {"search_space": SPACE}, objective="objectives:quadratic", seed=7
    )
    workers = [Worker(open_storage(storage_url), name) for _ in range(3)]
    assert [w.index for w in workers] == [0, 1, 2]
    assert len({w.seed for w in workers}) == 3


def test_qmc_workers_share_the_study_seed(sqlite_url: str, objectives: Path) -> None:
    storage, name = make_study(
        sqlite_url,
        {"search_space": SPACE},
        objective="objectives:quadratic",
        sampler="qmc",
        seed=11,
    )
    assert {Worker(storage, name).seed for _ in range(2)} == {11}


@pytest.mark.parametrize("sampler", ["grid", "bruteforce"])
def test_exhaustive_samplers_end_the_worker_when_their_space_is_visited(
    sampler: str, sqlite_url: str, objectives: Path
) -> None:
    space = {
        "x": {"_type": "choice", "_value": [0.1, 0.6]},
        "k": {"_type": "randint", "_value": [0, 3]},
    }
    storage, name = make_study(
        sqlite_url, {"search_space": space}, objective="objectives:quadratic", sampler=sampler
    )
    stats = Worker(storage, name).run()
    assert stats.complete == 6
    assert stats.stop_reason == f"the {sampler} sampler has visited its whole search space"
    trials = optuna.load_study(study_name=name, storage=sqlite_url).trials
    assert sorted((t.params["x"], t.params["k"]) for t in trials) == [
        (x, k) for x in (0.1, 0.6) for k in range(3)
    ]


def test_a_missing_objective_module_is_a_clear_error(sqlite_url: str) -> None:
    from hpo.errors import ObjectiveLoadError

    storage, name = make_study(
        sqlite_url, {"search_space": SPACE}, objective="no_such_module_xyz:run"
    )
    with pytest.raises(
        ObjectiveLoadError, match="cannot import objective module 'no_such_module_xyz'"
    ):
        Worker(storage, name)
