"""Liveness: heartbeats of running trials, failing the stale ones, retrying them.

A worker's running trial records a heartbeat every ``heartbeat_interval`` seconds from a
thread of its own, so a trial busy in a long epoch still beats. A trial silent for the grace
period (its worker was killed, its node lost, its network cut) is failed by whichever worker
looks next, and Optuna's retry callback queues it again with the same params; the retry
resumes from the checkpoint of the failed attempt (see :func:`checkpoint_path`).

With the PostgreSQL / SQLite storage, heartbeats are Optuna's (database time). Workers that
go through ``hpo serve-storage`` (gRPC) cannot reach those: they bump a counter in the trial's
system attributes instead, and the server process fails the trials whose counter stops moving,
timed by its own clock (:class:`BeatWatcher`).
"""

from __future__ import annotations

import copy
import functools
import logging
import re
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from hpo.retry import reset_session

if TYPE_CHECKING:
    import optuna
    from optuna.storages import BaseStorage
    from optuna.trial import FrozenTrial

    from hpo.spec import StudySpec

log = logging.getLogger("hpo.liveness")

BEAT_ATTR = "hpo:beat"
#: Optuna's retry callback keeps the chain of retried trial numbers here.
RETRY_HISTORY_ATTR = "retry_history"


def retry_callback(spec: StudySpec) -> Any:
    """The callback that queues a failed trial again, with its params and reported epochs."""
    from optuna.storages import RetryHeartbeatStaleTrialCallback

    return RetryHeartbeatStaleTrialCallback(
        max_retry=spec.liveness.max_retry, inherit_intermediate_values=True
    )


def original_number(trial: FrozenTrial) -> int:
    """The number of the first attempt of a trial (itself, unless it is a retry)."""
    history = trial.system_attrs.get(RETRY_HISTORY_ATTR) or []
    return int(history[0]) if history else trial.number


def checkpoint_path(spec: StudySpec, trial: FrozenTrial) -> Path:
    """Where the attempts of one trial keep their training state, epoch by epoch.

    Keyed by the first attempt's number, so every retry of a trial finds the same file.
    """
    from training.config import cache_root

    root = (
        Path(spec.liveness.checkpoint_dir)
        if spec.liveness.checkpoint_dir
        else cache_root() / "checkpoints"
    )
    study = re.sub(r"[^A-Za-z0-9_.-]+", "_", spec.name)[:100]
    return root / f"{study}-{int(spec.created_at)}" / f"trial-{original_number(trial)}.pt"


class _Periodic:
    """Calls ``_tick`` from a daemon thread every ``interval`` seconds until stopped.

    ``_tick`` must not raise: each subclass says what a failed tick means for it.
    """

    def __init__(self, interval: float, name: str) -> None:
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=self._interval + 5)

    def _first_wait(self) -> float:
        return self._interval

    def _run(self) -> None:
        wait = self._first_wait()
        while not self._stop.wait(wait):
            self._tick()
            wait = self._interval

    def _tick(self) -> None:
        raise NotImplementedError


class Heartbeat(_Periodic):
    """Beats for one trial from a background thread until stopped.

    A failed beat (the database restarting) is logged and tried again at the next interval:
    the grace period is several intervals long, so a short outage fails no live trial.
    The first beat comes after one interval: a trial that dies before it is still found, by
    its start time (HpoRDBStorage._get_stale_trial_ids).
    """

    def __init__(self, storage: BaseStorage, trial_id: int, interval: float) -> None:
        super().__init__(interval, f"hpo-heartbeat-{trial_id}")
        self._storage = storage
        self._trial_id = trial_id
        self._beats = 0

    def _tick(self) -> None:
        from optuna.storages._heartbeat import BaseHeartbeat

        try:
            if isinstance(self._storage, BaseHeartbeat):
                self._storage.record_heartbeat(self._trial_id)
            else:
                self._beats += 1
                self._storage.set_trial_system_attr(self._trial_id, BEAT_ATTR, self._beats)
        except Exception as exc:  # the database may be restarting: beat again next interval
            reset_session(self._storage)
            log.warning(
                "heartbeat of trial id %d failed (%s); trying again",
                self._trial_id,
                type(exc).__name__,
            )


def fail_stale_trials(study: optuna.Study, patience: float = 120.0) -> list[int]:
    """Fail the trials whose heartbeat stopped and queue their retries (RDB storages).

    Optuna's ``fail_stale_trials`` commits the failure, then queues the retry: if that second
    write fails (SQLite answers "database is locked" at once, without waiting, when a WAL
    transaction cannot upgrade to a write), the trial stays failed and is never retried. Here
    the retry is written with the storage retry, so a transient failure only delays it.
    Returns the ids of the trials this call failed.
    """
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.storages._heartbeat import BaseHeartbeat, is_heartbeat_enabled
    from optuna.trial import TrialState

    from hpo.retry import StorageRetry

    storage = study._storage
    if not isinstance(storage, BaseHeartbeat) or not is_heartbeat_enabled(storage):
        return []
    retry = StorageRetry(patience, storage=storage)
    on_stale = storage.get_heartbeat_stale_trial_callback()
    failed: list[int] = []
    for trial_id in storage._get_stale_trial_ids(study._study_id):
        try:
            if not storage.set_trial_state_values(trial_id, state=TrialState.FAIL):
                continue
        except UpdateFinishedTrialError:  # another worker failed it first
            continue
        failed.append(trial_id)
        if on_stale is None:
            continue
        frozen = retry("reading a stale trial", functools.partial(storage.get_trial, trial_id))
        log.info("trial %d: no heartbeat for the grace period, failed", frozen.number)
        retry(
            f"queueing the retry of trial {frozen.number}",
            functools.partial(on_stale, study, copy.deepcopy(frozen)),
        )
    return failed


class StaleTrialWatch(_Periodic):
    """Every worker looks for dead workers' trials every interval, from a thread of its own.

    So a trial whose worker died is failed and queued again about ``grace_period`` after its
    last heartbeat, whatever the live workers are busy with.
    """

    def __init__(self, study: optuna.Study, interval: float) -> None:
        super().__init__(interval, "hpo-stale-watch")
        self._study = study

    def _first_wait(self) -> float:
        # Spread the workers' checks over the interval rather than all at once.
        import random

        return random.uniform(0, self._interval)

    def _tick(self) -> None:
        try:
            fail_stale_trials(self._study)
        except Exception as exc:  # the database may be restarting: look again next time
            reset_session(self._study._storage)
            log.debug("stale-trial check failed: %s", exc)


class BeatWatcher(_Periodic):
    """Fails the running trials whose ``hpo:beat`` counter stopped moving (gRPC workers).

    Runs in the ``hpo serve-storage`` process, against the real storage; every interval it
    looks at the running trials of every hpo study.
    """

    def __init__(self, storage: BaseStorage) -> None:
        super().__init__(1.0, "hpo-beat-watcher")
        self._storage = storage
        self._seen: dict[int, tuple[Any, float]] = {}  # trial id → (beat, when it last moved)

    def _tick(self) -> None:
        try:
            self.check()
        except Exception as exc:
            log.warning("beat watcher: %s", exc)

    def check(self, now: float | None = None) -> list[int]:
        """Fail what is stale now; returns the failed trial ids."""
        import optuna
        from optuna.trial import TrialState

        from hpo.spec import SPEC_ATTR, StudySpec

        now = time.monotonic() if now is None else now
        failed: list[int] = []
        running_ids: set[int] = set()
        for frozen in self._storage.get_all_studies():
            data = frozen.user_attrs.get(SPEC_ATTR)
            if not data:
                continue
            spec = StudySpec.from_json(data)
            study_id = frozen._study_id
            for trial in self._storage.get_all_trials(
                study_id, deepcopy=False, states=(TrialState.RUNNING,)
            ):
                running_ids.add(trial._trial_id)
                beat = trial.system_attrs.get(BEAT_ATTR)
                last = self._seen.get(trial._trial_id)
                if last is None or last[0] != beat:
                    self._seen[trial._trial_id] = (beat, now)
                    continue
                if now - last[1] < spec.liveness.grace_period:
                    continue
                if self._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL):
                    failed.append(trial._trial_id)
                    log.info(
                        "trial %d of %r: no heartbeat for %ds, failed",
                        trial.number,
                        spec.name,
                        spec.liveness.grace_period,
                    )
                    study = optuna.load_study(study_name=frozen.study_name, storage=self._storage)
                    retry_callback(spec)(study, self._storage.get_trial(trial._trial_id))
        for trial_id in set(self._seen) - running_ids:
            del self._seen[trial_id]
        return failed
