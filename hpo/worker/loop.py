"""``hpo worker``: pull trials from a shared study and run them until the budget is spent.

The loop, per trial: ask a trial (the storage refuses one beyond ``maxTrialNum``; a queued
retry or the baseline comes first), run it (``hpo.worker.trial``), repeat. Meanwhile a thread
fails the trials of dead workers, whose retries join the queue (``hpo.worker.liveness``).

Every storage call rides out a database restart (``hpo.storage.retry``). When the budget is
spent the worker waits for the other workers' running trials, so that if one of them dies its
trial is retried, and leaves when none is left.
"""

from __future__ import annotations

import contextlib
import logging
import math
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass

import optuna
from optuna.storages import BaseStorage
from optuna.trial import TrialState

from hpo import attrs
from hpo import optuna_compat as compat
from hpo.errors import BudgetExhausted, HpoError
from hpo.objectives import kind_of as objective_kind
from hpo.objectives import load_objective
from hpo.objectives.allowed import allowed_directories, check_allowed
from hpo.storage import (
    HpoRDBStorage,
    StorageClock,
    StorageRetry,
    StudyRetry,
    blob_store,
    state_counts,
)
from hpo.study import (
    BudgetClock,
    budget_text,
    derive_seed,
    is_stopped,
    load_optuna_study,
    load_spec,
    pause_clock,
    read_clock,
    start_clock,
    time_left,
)
from hpo.study.directories import study_directory, tidy_study_directory
from hpo.study.store import spec_from_stored
from hpo.text import duration
from hpo.tuners import build_pruner, build_sampler, kind_of
from hpo.worker.detach import announce_running
from hpo.worker.disk import check_trials_root, where_trials_live
from hpo.worker.liveness import REQUEUEING, StaleTrialWatch, retry_callback
from hpo.worker.preflight import check_runnable_here
from hpo.worker.progress import REFRESH, Progress
from hpo.worker.signals import GracefulStop
from hpo.worker.trial import TrialContext, TrialEnd, run_trial, worker_name

log = logging.getLogger("hpo.worker")

#: A worker whose trials keep failing stops instead of burning the study's budget.
MAX_CONSECUTIVE_FAILURES = 10
#: Seconds a stopping worker lets the current epoch run before interrupting it.
DEFAULT_STOP_TIMEOUT = 20.0
#: Seconds between looks at the study while waiting for other workers' last trials.
DRAIN_POLL = 1.0
BUDGET_SPENT = "budget spent"


@dataclass
class WorkerStats:
    complete: int = 0
    pruned: int = 0
    failed: int = 0
    stop_reason: str = ""
    interrupted: bool = False

    @property
    def ran(self) -> int:
        return self.complete + self.pruned + self.failed


class Worker:
    """Runs trials of one study in this process."""

    def __init__(
        self,
        storage: BaseStorage,
        study_name: str,
        *,
        n_trials: int | None = None,
        stop_timeout: float = DEFAULT_STOP_TIMEOUT,
        storage_patience: float = 600.0,
        stop: GracefulStop | None = None,
    ) -> None:
        self.storage = storage
        self.study_name = study_name
        self.n_trials = n_trials
        self.stats = WorkerStats()
        compat.quiet_experimental_warnings()
        self.retry = StorageRetry(storage_patience, storage=storage)
        self.stop = stop or GracefulStop(stop_timeout)  # a group worker shares one
        self.study_id, self.spec = self.retry(
            "loading the study", lambda: load_spec(storage, study_name)
        )
        # From here on, a study deleted under the worker stops it in one line.
        self.retry = StudyRetry(
            storage_patience, storage=storage, study_id=self.study_id, study_name=study_name
        )
        self.index = (
            self.retry("registering", lambda: storage.register_worker(self.study_id))
            if isinstance(storage, HpoRDBStorage)
            else secrets.randbelow(2**31)
        )
        # A QMC sequence and a grid's order must be the same in every worker; other samplers'
        # streams must differ, or parallel workers would sample the same points.
        self.seed = (
            self.spec.seed
            if kind_of(self.spec.sampler.name).shared_seed
            else derive_seed(self.spec.seed, "worker", self.index)
        )
        if isinstance(storage, HpoRDBStorage):
            live = self.spec.liveness
            storage.enable_heartbeat(
                live.heartbeat_interval, live.grace_period, retry_callback(self.spec)
            )
        self.space = self.spec.space
        sampler = build_sampler(self.spec.sampler, self.space, self.seed, len(self.spec.metrics))
        pruner = build_pruner(self.spec.pruner)
        self.study = self.retry(
            "loading the study", lambda: load_optuna_study(storage, self.spec, sampler, pruner)
        )
        compat.enter_optimize_loop(self.study)
        # The time budget counts from the first worker's first trial, not from create-study,
        # on the storage's clock (hpo.study.clock); read with the study's other attributes.
        self.clock = StorageClock(storage)
        self.budget_clock = BudgetClock()
        # Before importing or running anything the study names (--allow-code).
        check_allowed(self.spec.objective, allowed_directories())
        check_runnable_here(self.spec)  # a data set, torch: before any trial
        self.objective = load_objective(self.spec.objective, self.spec.metrics)
        if objective_kind(self.spec.objective).keeps_trial_files:
            # Before any trial: a full or unwritable disk would fail every one, each in turn.
            root = study_directory(self.spec, self.study_id)
            check_trials_root(root, where_trials_live(self.spec))
        self.progress = Progress(self.study, self.spec)
        self.blobs = blob_store(storage)  # trial logs go to the study's database
        self._consecutive_failures = 0
        self._last_error = ""
        self._refreshed = -math.inf

    # -- the loop ----------------------------------------------------------------------------

    def run(self) -> WorkerStats:
        with self.running(install_signals=True):
            self.announce()
            reason = ""
            while not reason:
                reason = self.step()
            return self.finish(reason)

    @contextlib.contextmanager
    def running(self, *, install_signals: bool) -> Iterator[None]:
        """Signal handlers (unless a group worker holds them) and the stale-trial watch."""
        if install_signals:
            self.stop.install()
        # Its own Study object: the watch thread must not share the main thread's.
        watched = self.retry(
            "loading the study",
            lambda: optuna.load_study(study_name=self.spec.name, storage=self.storage),
        )
        try:
            with StaleTrialWatch(watched, self.spec.liveness.heartbeat_interval):
                announce_running()  # to hpo run --detach, waiting for its workers to run
                yield
        finally:
            if install_signals:
                self.stop.uninstall()

    def announce(self) -> None:
        spec = self.spec
        log.info(
            "worker %d on study %r: sampler %s, pruner %s, budget %s, seed %d",
            self.index,
            spec.name,
            spec.sampler.describe(),
            spec.pruner.describe(),
            budget_text(spec),
            self.seed,
        )

    def step(self, *, drain: bool = True) -> str:
        """Run one trial; return why the worker should stop, or "" to go on.

        With ``drain=False`` a spent budget returns BUDGET_SPENT at once instead of waiting
        for the other workers' running trials (a group worker does that at the very end).
        """
        reason = self._stop_reason()
        if reason:
            return reason
        # From the claim to the recorded result, a second signal lets the trial end first.
        self.stop.in_trial = True
        try:
            trial = self._claim()
            if trial is not None:
                self._start_clock()
                self._count(run_trial(self._trial_context(), trial))
        finally:
            self.stop.in_trial = False
        if trial is None:
            return self.drain() if drain else BUDGET_SPENT
        if self.stats.interrupted:
            return f"stopped by {self.stop.name}; its trial will be retried"
        if compat.stop_requested(self.study):
            return f"the {self.spec.sampler.name} sampler has visited its whole search space"
        if self._consecutive_failures >= MAX_CONSECUTIVE_FAILURES:
            raise HpoError(
                f"worker {self.index} stopped: {MAX_CONSECUTIVE_FAILURES} trials in a row "
                f"failed (see hpo:error of the trials; last: {self._last_error})"
            )
        return ""

    def _start_clock(self) -> None:
        """The time budget runs from the first trial a worker takes (and again after hpo
        resume); one locked update per worker, not per trial, once the clock runs."""
        if not self.budget_clock.running:
            self.budget_clock = self.retry(
                "starting the study's clock",
                lambda: start_clock(self.storage, self.study_id, self.spec),
            )

    def pause_clock(self) -> None:
        """The study is done (its budget spent, nothing left running): its clock stops, so
        that ``hpo status`` shows the time it took."""
        self.budget_clock = self.retry(
            "stopping the study's clock",
            lambda: pause_clock(self.storage, self.study_id, self.spec),
        )

    def finish(self, reason: str) -> WorkerStats:
        self.stats.stop_reason = reason
        s = self.stats
        log.info(
            "worker %d on %r done: %s; it ran %d trials (%d complete, %d pruned, %d failed)",
            self.index,
            self.spec.name,
            reason,
            s.ran,
            s.complete,
            s.pruned,
            s.failed,
        )
        return s

    def _trial_context(self) -> TrialContext:
        return TrialContext(
            self.storage,
            self.study,
            self.spec,
            self.space,
            self.retry,
            self.stop,
            self.objective,
            self.progress,
            self.blobs,
        )

    def _count(self, end: TrialEnd) -> None:
        if end.end == "complete":
            self.stats.complete += 1
            self._consecutive_failures = 0
        elif end.end == "pruned":
            self.stats.pruned += 1
            self._consecutive_failures = 0
        elif end.end == "failed":
            self.stats.failed += 1
            if not end.killed:  # a trial killed by hand says nothing about this worker
                self._consecutive_failures += 1
                self._last_error = end.error
        elif end.end == "interrupted":
            self.stats.interrupted = True

    def _stop_reason(self) -> str:
        if self.stop.requested:
            return f"stopped by {self.stop.name}"
        if self.n_trials is not None and self.stats.ran >= self.n_trials:
            return f"--n-trials {self.n_trials} reached"
        now = time.monotonic()
        if now - self._refreshed >= REFRESH:  # not at every trial when trials take milliseconds
            self._refreshed = now
            user_attrs = self.retry(
                "reading the study", lambda: self.storage.get_study_user_attrs(self.study_id)
            )
            if is_stopped(user_attrs):
                return "the study was stopped (hpo stop)"
            if attrs.SPEC in user_attrs:  # budgets may have been raised since the worker started
                self.spec = spec_from_stored(user_attrs[attrs.SPEC], self.study_name)
            system_attrs = self.retry(
                "reading the study", lambda: self.storage.get_study_system_attrs(self.study_id)
            )
            # has_run only matters to a release-0.1 study (clock from create-study).
            self.budget_clock = read_clock(system_attrs, self.spec, has_run=True)
        if time_left(self.spec, self.budget_clock, self.clock.now()) <= 0:
            assert self.spec.max_duration_s is not None
            self.pause_clock()  # what a longer budget (hpo set-budget) would count from
            return f"the study's time budget of {duration(self.spec.max_duration_s)} is used up"
        return ""

    def _claim(self) -> optuna.Trial | None:
        """The next trial: a queued one (the baseline, a retry) or a new one within budget."""

        # Dead workers' trials are failed and queued by the stale-trial watch thread.
        storage = self.storage if isinstance(self.storage, HpoRDBStorage) else None
        token = secrets.token_hex(8)
        tries = 0

        def ask() -> optuna.Trial | None:
            nonlocal tries
            tries += 1
            # A retried ask first looks for the trial its broken try got: that trial, with
            # the same params, rather than an empty one RUNNING until the grace period.
            if storage is not None and tries > 1:
                earlier = storage.claimed_trial(self.study_id, token)
                if earlier is not None:
                    return compat.trial_of(self.study, earlier)
            try:
                if storage is None:
                    return self.study.ask()
                # hpo:worker is written with the claim, in its transaction (run_trial: else).
                with storage.claiming(token, {attrs.WORKER: worker_name()}):
                    return self.study.ask()
            except BudgetExhausted:
                return None

        return self.retry("asking for a trial", ask)

    def drain(self) -> str:
        """Budget spent: wait while other workers' trials run, running any that get retried.

        The stale-trial watch fails the trials of workers that die meanwhile; their retries
        appear as WAITING. Polled every second (a count), so a worker leaves as soon as the
        last trial of the study ends.
        """
        announced = False
        while not self.stop.requested:
            counts = self.retry(
                "checking running trials", lambda: state_counts(self.storage, self.study_id)
            )
            if not counts.get(TrialState.WAITING) and not counts.get(TrialState.RUNNING):
                with REQUEUEING:  # not between a stale trial's failure and its retry's queueing
                    counts = self.retry(
                        "checking running trials",
                        lambda: state_counts(self.storage, self.study_id),
                    )
            if counts.get(TrialState.WAITING):
                return ""  # a retry is queued: go and claim it
            running = counts.get(TrialState.RUNNING, 0)
            if not running:
                break
            if not announced:
                log.info(
                    "budget used up; waiting for %d running trial(s) of other workers, "
                    "to retry any whose worker dies",
                    running,
                )
                announced = True
            time.sleep(DRAIN_POLL)
        if not self.stop.requested:
            self.pause_clock()  # the study is done: its clock shows the time it took
            tidy_study_directory(self.spec, self.study_id)
        return f"the study's budget of {self.spec.max_trials} trials is used up"
