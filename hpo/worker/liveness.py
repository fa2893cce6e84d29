"""Liveness: heartbeats of running trials, failing the stale ones, retrying them.

A worker's running trial records a heartbeat every ``heartbeat_interval`` seconds from a
thread of its own, so a trial busy in a long epoch still beats. A trial silent for the grace
period (its worker was killed, its node lost, its network cut) is failed by whichever worker
looks next, and Optuna's retry callback queues it again with the same params; the retry
gets the failed attempt's directory back, where an objective can resume from (the built-in
one keeps its training state there).

With the PostgreSQL / SQLite storage, heartbeats are Optuna's (database time). Workers that
go through ``hpo serve-storage`` (gRPC) cannot reach those: they bump a counter in the trial's
system attributes instead, and the server process fails the trials whose counter stops moving,
timed by its own clock (:class:`BeatWatcher`).
"""

from __future__ import annotations

import copy
import functools
import logging
import random
import threading
import time
from typing import Any, Self

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.storages import BaseStorage, RetryHeartbeatStaleTrialCallback
from optuna.trial import FrozenTrial, TrialState

from hpo import attrs
from hpo import optuna_compat as compat
from hpo.errors import HpoError
from hpo.storage import HpoRDBStorage, StorageRetry, reset_session
from hpo.storage.rdb import CLAIM_KEY
from hpo.study import StudySpec
from hpo.study.store import spec_from_stored

log = logging.getLogger("hpo.liveness")


#: What a failed attempt records about its failure, which its retry must not inherit.
ATTEMPT_ATTRS = (attrs.ERROR, attrs.TRACEBACK)


class RetryCallback(RetryHeartbeatStaleTrialCallback):
    """Optuna's retry, with the params, epochs and attributes of the failed attempt, but not
    why that attempt failed (a retry that completes must not carry its predecessor's error),
    nor the mark of the ask that claimed it, nor the kill request of ``hpo kill`` (a trial it
    killed is not retried at all, even when its worker died before ending it)."""

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        if attrs.KILL in trial.system_attrs:  # hpo kill ended it: it must not run again
            return
        trial = copy.copy(trial)
        trial.user_attrs = {k: v for k, v in trial.user_attrs.items() if k not in ATTEMPT_ATTRS}
        trial.system_attrs = {k: v for k, v in trial.system_attrs.items() if k != CLAIM_KEY}
        super().__call__(study, trial)


def retry_callback(spec: StudySpec) -> RetryHeartbeatStaleTrialCallback:
    """The callback that queues a failed trial again, with its params and reported epochs."""
    return RetryCallback(max_retry=spec.liveness.max_retry, inherit_intermediate_values=True)


def stale_reason(grace_period: float) -> str:
    """The hpo:error of a trial failed because its heartbeat stopped."""
    return (
        f"no heartbeat for {grace_period:.0f}s: its worker was killed, died or lost the "
        "storage; failed by the liveness check"
    )


def fail_stale(storage: BaseStorage, trial_id: int, grace_period: float) -> bool:
    """Fail a running trial whose heartbeat stopped, saying why where the storage can."""
    backend = compat.storage_backend(storage)
    try:
        if isinstance(backend, HpoRDBStorage):
            return backend.fail_stale_trial(trial_id, stale_reason(grace_period))
        return storage.set_trial_state_values(trial_id, state=TrialState.FAIL)
    except UpdateFinishedTrialError:  # another worker failed it first
        return False


class Periodic:
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


#: The trials this process is running now (their Heartbeat is on): alive, whatever the
#: storage says of their last beat.
_RUNNING_HERE: set[int] = set()
_RUNNING_HERE_LOCK = threading.Lock()


def running_here() -> frozenset[int]:
    """The ids of the trials this process is running now."""
    with _RUNNING_HERE_LOCK:
        return frozenset(_RUNNING_HERE)


class Heartbeat(Periodic):
    """Beats for one trial from a background thread until stopped.

    A failed beat (the database restarting) is logged and tried again at the next interval:
    the grace period is several intervals long, so a short outage fails no live trial.
    The first beat comes after one interval: a trial that dies before it is still found, by
    its start time (``hpo.optuna_compat.rdb``).

    While it runs, the trial is in :func:`running_here`: on a machine so busy that the beat
    thread misses the grace period, other workers may fail the trial (they cannot tell), but
    its own worker's stale-trial check never does (it would queue a retry of a trial it is
    running, then run that retry too).
    """

    def __init__(self, storage: BaseStorage, trial_id: int, interval: float) -> None:
        super().__init__(interval, f"hpo-heartbeat-{trial_id}")
        self._storage = storage
        self._trial_id = trial_id
        self._beats = 0

    def __enter__(self) -> Self:
        with _RUNNING_HERE_LOCK:
            _RUNNING_HERE.add(self._trial_id)
        return super().__enter__()

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        with _RUNNING_HERE_LOCK:
            _RUNNING_HERE.discard(self._trial_id)

    def _tick(self) -> None:
        try:
            if not compat.record_heartbeat(
                self._storage, self._trial_id
            ):  # gRPC: no heartbeat table
                self._beats += 1
                self._storage.set_trial_system_attr(self._trial_id, attrs.BEAT, self._beats)
        except Exception as exc:  # the database may be restarting: beat again next interval
            reset_session(self._storage)
            log.warning(
                "heartbeat of trial id %d failed (%s); trying again",
                self._trial_id,
                type(exc).__name__,
            )


#: Held while this process fails a stale trial and queues its retry (two writes): a worker
#: about to leave because nothing runs or waits looks again under it, so that it never
#: leaves between the two and strands the retry.
REQUEUEING = threading.Lock()


def fail_stale_trials(study: optuna.Study, patience: float = 120.0) -> list[int]:
    """Fail the trials whose heartbeat stopped and queue their retries (RDB storages).

    A trial this process runs is never stale (:class:`Heartbeat`). Optuna's
    ``fail_stale_trials`` commits the failure, then queues the retry: if that second write
    fails (SQLite answers "database is locked" at once, without waiting, when a WAL
    transaction cannot upgrade to a write), the trial stays failed and is never retried. Here
    the retry is written with the storage retry, so a transient failure only delays it.
    Returns the ids of the trials this call failed.
    """
    storage = compat.study_storage(study)
    if not compat.heartbeat_enabled(storage):
        return []
    retry = StorageRetry(patience, storage=storage)
    on_stale = compat.stale_trial_callback(storage)
    failed: list[int] = []
    grace = getattr(compat.storage_backend(storage), "grace_period", None) or 0
    alive = running_here()
    for stale_id in compat.stale_trial_ids(storage, compat.study_id(study)):
        if stale_id in alive:
            continue
        with REQUEUEING:
            if not fail_stale(storage, stale_id, grace):
                continue
            failed.append(stale_id)
            if on_stale is None:
                continue
            frozen = retry("reading a stale trial", functools.partial(storage.get_trial, stale_id))
            log.info("trial %d: no heartbeat for the grace period, failed", frozen.number)
            retry(
                f"queueing the retry of trial {frozen.number}",
                functools.partial(on_stale, study, copy.deepcopy(frozen)),
            )
    return failed


class StaleTrialWatch(Periodic):
    """Every worker looks for dead workers' trials every interval, from a thread of its own.

    So a trial whose worker died is failed and queued again about ``grace_period`` after its
    last heartbeat, whatever the live workers are busy with.
    """

    def __init__(self, study: optuna.Study, interval: float) -> None:
        super().__init__(interval, "hpo-stale-watch")
        self._study = study

    def _first_wait(self) -> float:
        # Spread the workers' checks over the interval rather than all at once.
        return random.uniform(0, self._interval)

    def _tick(self) -> None:
        try:
            fail_stale_trials(self._study)
        except Exception as exc:  # the database may be restarting: look again next time
            reset_session(compat.study_storage(self._study))
            log.debug("stale-trial check failed: %s", exc)


class BeatWatcher(Periodic):
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
        now = time.monotonic() if now is None else now
        failed: list[int] = []
        running_ids: set[int] = set()
        for frozen in self._storage.get_all_studies():
            data = frozen.user_attrs.get(attrs.SPEC)
            if data is None:
                continue
            try:
                spec = spec_from_stored(data, frozen.study_name)
            except HpoError as exc:  # a damaged study has no workers: watch the others
                log.debug("beat watcher: %s", exc)
                continue
            for trial in self._storage.get_all_trials(
                compat.frozen_study_id(frozen), deepcopy=False, states=(TrialState.RUNNING,)
            ):
                tid = compat.trial_id(trial)
                running_ids.add(tid)
                beat = trial.system_attrs.get(attrs.BEAT)
                last = self._seen.get(tid)
                if last is None or last[0] != beat:
                    self._seen[tid] = (beat, now)
                    continue
                if now - last[1] < spec.liveness.grace_period:
                    continue
                with REQUEUEING:
                    if not fail_stale(self._storage, tid, spec.liveness.grace_period):
                        continue
                    failed.append(tid)
                    log.info(
                        "trial %d of %r: no heartbeat for %ds, failed",
                        trial.number,
                        spec.name,
                        spec.liveness.grace_period,
                    )
                    study = optuna.load_study(study_name=frozen.study_name, storage=self._storage)
                    retry_callback(spec)(study, self._storage.get_trial(tid))
        for trial_id in set(self._seen) - running_ids:
            del self._seen[trial_id]
        return failed
