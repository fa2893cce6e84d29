"""Liveness in process: heartbeats, failing the trials of dead workers, queueing retries."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from pathlib import Path

import optuna
import pytest
from optuna.storages import InMemoryStorage
from optuna.trial import FrozenTrial, TrialState

from hpo import attrs, env
from hpo.optuna_compat import RETRY_OF, enter_optimize_loop, trial_id
from hpo.storage import HpoRDBStorage, open_storage
from hpo.study import Overrides, StudySpec, build_spec, create_study, parse_config
from hpo.worker import Worker
from hpo.worker.liveness import (
    BeatWatcher,
    Heartbeat,
    fail_stale,
    fail_stale_trials,
    retry_callback,
    stale_reason,
)
from tests.helpers import wait_for, write_module

GRACE = 2


def _study(url: str) -> tuple[HpoRDBStorage, StudySpec]:
    config = {
        "config": {"experimentName": "live", "heartbeat_interval": 1, "grace_period": GRACE},
        "search_space": {"x": {"_type": "uniform", "_value": [0, 1]}},
    }
    spec, _ = build_spec(parse_config(config), Overrides(objective="math:sqrt"))
    storage = open_storage(url)
    create_study(storage, spec)
    return storage, spec


def test_a_silent_trial_is_failed_and_retried_with_its_params_a_beating_one_is_not(
    tmp_path: Path,
) -> None:
    storage, spec = _study(f"sqlite:///{tmp_path / 'hpo.db'}")
    storage.enable_heartbeat(1, GRACE, retry_callback(spec))
    study = optuna.load_study(study_name=spec.name, storage=storage)
    enter_optimize_loop(study)  # as the worker does: heartbeats belong to an optimise loop
    silent = study.ask()  # its worker died before it ever beat
    silent.suggest_float("x", 0, 1)
    alive = study.ask()
    with Heartbeat(storage, trial_id(alive), 0.2):
        failed: list[int] = []

        def some_failed() -> bool:
            failed.extend(fail_stale_trials(study))
            return bool(failed)

        wait_for(some_failed, 60, "a stale trial")
        assert failed == [trial_id(silent)]
    by_number = {t.number: t for t in study.get_trials(deepcopy=False)}
    assert by_number[silent.number].state == TrialState.FAIL
    assert by_number[alive.number].state == TrialState.RUNNING
    assert by_number[silent.number].user_attrs[attrs.ERROR] == stale_reason(GRACE)
    assert attrs.ERROR not in by_number[alive.number].user_attrs
    [retry] = [t for t in by_number.values() if t.state == TrialState.WAITING]
    assert retry.system_attrs[RETRY_OF] == silent.number
    assert retry.params == by_number[silent.number].params
    assert attrs.ERROR not in retry.user_attrs  # why its predecessor failed is not its own


def test_a_worker_never_fails_a_trial_it_is_running_however_late_its_beat(
    tmp_path: Path,
) -> None:
    """On a busy machine the beat thread of a running trial can miss the grace period; the
    stale-trial check of the same worker must not fail that trial (it would queue a retry
    of a trial it is still running, then run both)."""
    storage, spec = _study(f"sqlite:///{tmp_path / 'hpo.db'}")
    storage.enable_heartbeat(1, GRACE, retry_callback(spec))
    study = optuna.load_study(study_name=spec.name, storage=storage)
    enter_optimize_loop(study)
    starved = study.ask()  # its beat thread gets no chance to beat before the grace ends
    silent = study.ask()  # run by a worker that died: no beat thread here
    with Heartbeat(storage, trial_id(starved), 600):
        failed: list[int] = []

        def some_failed() -> bool:
            failed.extend(fail_stale_trials(study))
            return bool(failed)

        wait_for(some_failed, 60, "the silent trial to be failed")
        assert failed == [trial_id(silent)]
        assert fail_stale_trials(study) == []
        assert storage.get_trial(trial_id(starved)).state == TrialState.RUNNING
    # Once its worker is done with it, a trial is judged by its beats like any other.
    wait_for(lambda: fail_stale_trials(study) == [trial_id(starved)], 60, "the starved trial")


def test_a_storage_without_heartbeats_gets_a_beat_counter() -> None:
    storage = InMemoryStorage()  # as the gRPC client: no heartbeat table to write to
    study = optuna.create_study(storage=storage)
    trial = study.ask()
    with Heartbeat(storage, trial_id(trial), 0.05):
        wait_for(
            lambda: storage.get_trial(trial_id(trial)).system_attrs.get(attrs.BEAT, 0) >= 3,
            30,
            "three beats",
        )


def test_the_beat_watcher_fails_a_trial_whose_counter_stops_for_the_grace_period(
    tmp_path: Path,
) -> None:
    storage, spec = _study(f"sqlite:///{tmp_path / 'hpo.db'}")
    study = optuna.load_study(study_name=spec.name, storage=storage)
    trial = study.ask()
    trial.suggest_float("x", 0, 1)
    tid = trial_id(trial)
    watcher = BeatWatcher(storage)
    assert watcher.check(now=100.0) == []  # first seen
    storage.set_trial_system_attr(tid, attrs.BEAT, 1)
    assert watcher.check(now=100.0 + GRACE + 5) == []  # it moved: alive
    assert watcher.check(now=100.0 + GRACE + 6) == []  # still within the grace
    assert watcher.check(now=100.0 + 2 * GRACE + 6) == [tid]  # silent for the grace: failed
    trials = study.get_trials(deepcopy=False)
    assert trials[0].state == TrialState.FAIL
    assert trials[0].user_attrs[attrs.ERROR] == stale_reason(GRACE)
    [retry] = [t for t in trials if t.state == TrialState.WAITING]
    assert retry.system_attrs[RETRY_OF] == trial.number
    assert attrs.ERROR not in retry.user_attrs


def test_a_trial_finished_by_its_worker_is_not_failed_nor_given_a_reason(
    tmp_path: Path,
) -> None:
    storage, spec = _study(f"sqlite:///{tmp_path / 'hpo.db'}")
    study = optuna.load_study(study_name=spec.name, storage=storage)
    trial = study.ask()
    study.tell(trial, 0.5)
    assert not storage.fail_stale_trial(trial_id(trial), "stale")
    [done] = study.get_trials(deepcopy=False)
    assert done.state == TrialState.COMPLETE and attrs.ERROR not in done.user_attrs


def test_a_trial_failed_by_another_worker_as_its_result_is_recorded_is_lost_not_a_crash(
    storage_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a busy machine a short trial can outlive the grace period before its first beat;
    another worker then fails it, maybe between the tell's look at the trial and its write.
    Optuna's tell raised UpdateFinishedTrialError there, and the worker died with a traceback
    (the flaky 32-worker test); now the trial is lost like any other, and its retry runs."""
    write_module(tmp_path, "answer", "def run(params):\n    return params['x']\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    config = {
        "config": {
            "experimentName": "late",
            "maxTrialNum": 3,
            "heartbeat_interval": 1,
            "grace_period": GRACE,
        },
        "search_space": {"x": {"_type": "uniform", "_value": [0, 1]}},
    }
    spec, _ = build_spec(parse_config(config), Overrides(objective="answer:run"))
    storage = open_storage(storage_url)
    create_study(storage, spec)
    worker = Worker(storage, spec.name)
    failed: list[int] = []

    class FailedAsItEnds(optuna.samplers.RandomSampler):
        """Between Optuna's look at the trial and its write: another worker's stale check."""

        def after_trial(
            self,
            study: optuna.Study,
            trial: FrozenTrial,
            state: TrialState,
            values: Sequence[float] | None,
        ) -> None:
            if not failed:
                failed.append(trial.number)
                assert fail_stale(storage, trial_id(trial), GRACE)
                retry_callback(spec)(study, storage.get_trial(trial_id(trial)))
                # The retry inherits hpo:worker; its claim must say who runs it now.
                monkeypatch.setenv(env.WORKER_LABEL, "next")
            super().after_trial(study, trial, state, values)

    worker.study.sampler = FailedAsItEnds(seed=1)
    stats = worker.run()

    assert (stats.complete, stats.failed) == (3, 0)  # the lost trial counted as neither
    trials = {t.number: t for t in optuna.load_study(study_name="late", storage=storage_url).trials}
    lost = trials[failed[0]]
    assert lost.state == TrialState.FAIL and lost.user_attrs[attrs.ERROR] == stale_reason(GRACE)
    [retry] = [t for t in trials.values() if t.system_attrs.get(RETRY_OF) == lost.number]
    assert retry.state == TrialState.COMPLETE and retry.params == lost.params
    assert len(trials) == 4
    assert lost.user_attrs[attrs.WORKER] == socket.gethostname()
    assert retry.user_attrs[attrs.WORKER] == f"{socket.gethostname()}/next"


@pytest.mark.slow
def test_a_trial_failed_by_another_worker_as_its_weights_are_kept_is_lost_not_a_crash(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same race, a moment earlier: while the worker uploads the finished trial's weights
    (seen in the multi-machine test under load: UpdateFinishedTrialError out of Optuna's
    upload_artifact ended the worker)."""
    import hpo.worker.trial as trial_module
    from hpo.worker.weights import keep_best_weights

    config = {
        "config": {"experimentName": "weights", "maxTrialNum": 2, "objective": "training"},
        "params": {"dataset": "digits", "model": "simple_cnn", "num_epochs": 1},
        "search_space": {"lr": {"_type": "loguniform", "_value": [0.01, 0.1]}},
    }
    spec, _ = build_spec(parse_config(config), Overrides(pruner="none"))
    storage = open_storage(sqlite_url)
    create_study(storage, spec)
    keep = keep_best_weights
    failed: list[int] = []

    def failed_first(*args: object, **kwargs: object) -> object:
        trial = args[3]
        assert isinstance(trial, optuna.Trial)
        if not failed:
            failed.append(trial.number)
            assert fail_stale(storage, trial_id(trial), GRACE)  # another worker's stale check
            retry_callback(spec)(trial.study, storage.get_trial(trial_id(trial)))
        return keep(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(trial_module, "keep_best_weights", failed_first)
    stats = Worker(storage, spec.name).run()
    assert (stats.complete, stats.failed) == (2, 0), stats
    trials = optuna.load_study(study_name="weights", storage=sqlite_url).trials
    [retry] = [t for t in trials if t.system_attrs.get(RETRY_OF) == failed[0]]
    assert retry.state == TrialState.COMPLETE and attrs.WEIGHTS in retry.user_attrs
