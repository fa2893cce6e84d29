"""``hpo worker``: pull trials from a shared study and run them until the budget is spent.

The loop, per trial: fail the trials of dead workers (their retries join the queue), ask a
trial (the storage refuses one beyond ``maxTrialNum``), merge the fixed params with the
sampled ones, run the objective with a ``report`` callback while a heartbeat thread beats,
tell the result. Outcomes:

- COMPLETE: the objective returned a finite value for every metric.
- PRUNED: the pruner stopped it; or it diverged (a NaN / infinite loss or result), so that
  samplers learn to avoid that region. The reason is in ``hpo:error``.
- FAIL: anything else it raised (a bug, out of memory, missing data), reason in ``hpo:error``.
  Memory is released and the worker goes on.
- Interrupted (SIGTERM, Ctrl-C, ``hpo stop`` does not interrupt): FAIL and queued again with the
  same params; the retry resumes from the last finished epoch.

Every storage call rides out a database restart (``hpo.retry``). When the budget is spent
the worker waits for the other workers' running trials, so that if one of them dies its trial
is retried, and leaves when none is left.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import math
import secrets
import sys
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hpo.errors import BudgetExhausted, HpoError
from hpo.liveness import (
    Heartbeat,
    StaleTrialWatch,
    checkpoint_path,
    original_number,
    retry_callback,
)
from hpo.objective import InvalidResultError, TrialReporter, load_objective, outcome_of
from hpo.optuna_compat import (
    enter_optimize_loop,
    quiet_experimental_warnings,
    stop_requested,
    tell,
)
from hpo.pruners import build_pruner, pruning_schedule
from hpo.retry import StorageRetry
from hpo.samplers import build_sampler, kind_of
from hpo.seeds import derive_seed
from hpo.signals import GracefulStop, WorkerStopping
from hpo.spec import SPEC_ATTR, StudySpec
from hpo.storage import HpoRDBStorage, state_counts
from hpo.study import format_duration, load_optuna_study, load_spec, time_left

if TYPE_CHECKING:
    import optuna
    from optuna.storages import BaseStorage

    from hpo.objective import TrialFunction

log = logging.getLogger("hpo.worker")

ERROR_ATTR = "hpo:error"
TRACEBACK_ATTR = "hpo:traceback"
METRICS_ATTR = "hpo:metrics"
SEED_ATTR = "hpo:seed"
RESUMED_ATTR = "hpo:resumed_from_epoch"
STOP_ATTR = "hpo:stopped"

#: A worker whose trials keep failing stops instead of burning the study's budget.
MAX_CONSECUTIVE_FAILURES = 10
#: Seconds a stopping worker lets the current epoch run before interrupting it.
DEFAULT_STOP_TIMEOUT = 20.0
#: Seconds between looks at the study while waiting for other workers' last trials.
DRAIN_POLL = 1.0
#: At most this often (seconds) a worker re-reads the study's stop flag, budgets and best value.
REFRESH = 2.0
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


class TrialLostError(Exception):
    """This worker's trial was failed by another worker (its heartbeat was lost)."""


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
        quiet_experimental_warnings()
        self.retry = StorageRetry(storage_patience, storage=storage)
        self.stop = stop or GracefulStop(stop_timeout)  # a group worker shares one
        self.study_id, self.spec = self.retry(
            "loading the study", lambda: load_spec(storage, study_name)
        )
        self.index = (
            self.retry("registering", lambda: storage.register_worker(self.study_id))
            if isinstance(storage, HpoRDBStorage)
            else secrets.randbelow(2**31)
        )
        kind = kind_of(self.spec.sampler.name)
        # A QMC sequence and a grid's order must be the same in every worker; other samplers'
        # streams must differ, or parallel workers would sample the same points.
        self.seed = (
            self.spec.seed
            if kind.shared_seed
            else derive_seed(self.spec.seed, "worker", self.index)
        )
        self.space = self.spec.space
        if isinstance(storage, HpoRDBStorage):
            live = self.spec.liveness
            storage.enable_heartbeat(
                live.heartbeat_interval, live.grace_period, retry_callback(self.spec)
            )
        sampler = build_sampler(self.spec.sampler, self.space, self.seed, len(self.spec.metrics))
        pruner = build_pruner(self.spec.pruner)
        self.study = self.retry(
            "loading the study", lambda: load_optuna_study(storage, self.spec, sampler, pruner)
        )
        enter_optimize_loop(self.study)
        self.objective: TrialFunction = load_objective(self.spec.objective)
        self._consecutive_failures = 0
        self._last_error = ""
        self._refreshed = -math.inf
        self._best: tuple[float, int] | None = None  # the study's best (value, trial number)
        self._best_read = -math.inf

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
        import optuna

        if install_signals:
            self.stop.install()
        # Its own Study object: the watch thread must not share the main thread's.
        watched = self.retry(
            "loading the study",
            lambda: optuna.load_study(study_name=self.spec.name, storage=self.storage),
        )
        try:
            with StaleTrialWatch(watched, self.spec.liveness.heartbeat_interval):
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
            _budget(spec),
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
        trial = self._claim()
        if trial is None:
            return self.drain() if drain else BUDGET_SPENT
        self._run_trial(trial)
        if self.stats.interrupted:
            return f"stopped by {self.stop.name}; its trial will be retried"
        if stop_requested(self.study):
            return f"the {self.spec.sampler.name} sampler has visited its whole search space"
        if self._consecutive_failures >= MAX_CONSECUTIVE_FAILURES:
            raise HpoError(
                f"worker {self.index} stopped: {MAX_CONSECUTIVE_FAILURES} trials in a row "
                f"failed (see hpo:error of the trials; last: {self._last_error})"
            )
        return ""

    def finish(self, reason: str) -> WorkerStats:
        self.stats.stop_reason = reason
        s = self.stats
        log.info(
            "worker %d done: %s; it ran %d trials (%d complete, %d pruned, %d failed)",
            self.index,
            reason,
            s.ran,
            s.complete,
            s.pruned,
            s.failed,
        )
        return s

    def _stop_reason(self) -> str:
        if self.stop.requested:
            return f"stopped by {self.stop.name}"
        if self.n_trials is not None and self.stats.ran >= self.n_trials:
            return f"--n-trials {self.n_trials} reached"
        now = time.monotonic()
        if now - self._refreshed >= REFRESH:  # not at every trial when trials take milliseconds
            self._refreshed = now
            attrs = self.retry(
                "reading the study", lambda: self.storage.get_study_user_attrs(self.study_id)
            )
            if attrs.get(STOP_ATTR):
                return "the study was stopped (hpo stop)"
            if SPEC_ATTR in attrs:  # budgets may have been raised since the worker started
                self.spec = StudySpec.from_json(attrs[SPEC_ATTR])
        if time_left(self.spec) <= 0:
            assert self.spec.max_duration_s is not None
            return (
                f"the study's time budget of {format_duration(self.spec.max_duration_s)} is used up"
            )
        return ""

    def _claim(self) -> optuna.Trial | None:
        """The next trial: a queued one (the baseline, a retry) or a new one within budget."""

        # Dead workers' trials are failed and queued by the stale-trial watch thread.
        def ask() -> optuna.Trial | None:
            try:
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
        from optuna.trial import TrialState

        announced = False
        while not self.stop.requested:
            counts = self.retry(
                "checking running trials", lambda: state_counts(self.storage, self.study_id)
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
        return f"the study's budget of {self.spec.max_trials} trials is used up"

    # -- one trial ---------------------------------------------------------------------------

    def _run_trial(self, trial: optuna.Trial) -> None:
        import optuna
        from optuna.trial import TrialState

        spec = self.spec
        started = time.monotonic()
        frozen = trial._cached_frozen_trial
        state_file = checkpoint_path(spec, frozen) if spec.objective.is_builtin else None
        reporter = _Reporter(self, trial)
        params: dict[str, Any] = {}
        crashed = False
        # The heartbeat runs until the result is recorded, through any storage outage.
        with Heartbeat(self.storage, trial._trial_id, spec.liveness.heartbeat_interval):
            try:
                params = self.retry(
                    "sampling params", lambda: {**spec.params, **self.space.suggest(trial)}
                )
                if spec.objective.is_builtin:
                    # The first attempt's number: a retry trains with the same seed.
                    first = original_number(frozen)
                    params.setdefault("seed", derive_seed(spec.seed, "trial", first))
                    params["state_file"] = str(state_file)
                    self._set_attr(trial, SEED_ATTR, params["seed"])
                self.stop.in_objective = True
                try:
                    result = self.objective(params, reporter)
                finally:
                    self.stop.in_objective = False
                outcome = outcome_of(result, spec.metrics)
            except optuna.TrialPruned:
                self._finish(
                    trial, reporter, TrialState.PRUNED, None, started, params, note=reporter.where
                )
            except (WorkerStopping, KeyboardInterrupt):
                self.stats.interrupted = True
                self._requeue(
                    trial,
                    reporter,
                    f"worker stopped by {self.stop.name or 'an interrupt'}",
                    started,
                    params,
                )
            except TrialLostError:
                log.warning(
                    "trial %d was failed by another worker while it ran here (its heartbeat was "
                    "lost); it will be retried: moving on",
                    trial.number,
                )
            except Exception as exc:
                error = _reason(exc)
                trace = traceback.format_exc()
                del exc  # its frames hold the trial's tensors: let them go before freeing memory
                state = TrialState.PRUNED if _diverged(error) else TrialState.FAIL
                self._finish(
                    trial, reporter, state, None, started, params, error=error, trace=trace
                )
                crashed = True
            else:
                if outcome.extra:
                    self._set_attr(trial, METRICS_ATTR, outcome.extra)
                    if "resumed_from_epoch" in outcome.extra:
                        self._set_attr(
                            trial, RESUMED_ATTR, int(outcome.extra["resumed_from_epoch"])
                        )
                self._finish(trial, reporter, TrialState.COMPLETE, outcome.values, started, params)
        if state_file is not None and not self.stats.interrupted:
            state_file.unlink(missing_ok=True)  # finished for good: no retry will need it
        _release_memory(collect=crashed)

    def _finish(
        self,
        trial: optuna.Trial,
        reporter: _Reporter,
        state: Any,
        values: list[float] | None,
        started: float,
        params: dict[str, Any],
        *,
        note: str = "",
        error: str = "",
        trace: str = "",
    ) -> None:
        """Record the result; ``error`` goes to hpo:error, ``note`` only to the progress line."""
        from optuna.trial import TrialState

        reporter.flush()  # the epochs not yet written, before the trial is closed
        if error:
            self._set_attr(trial, ERROR_ATTR, error)
        if trace:
            self._set_attr(trial, TRACEBACK_ATTR, trace[-4000:])
        self.retry("recording the result", lambda: tell(self.study, trial, values, state))
        if state == TrialState.COMPLETE:
            self.stats.complete += 1
            self._consecutive_failures = 0
            what = "COMPLETE " + ", ".join(_num(v) for v in values or [])
        elif state == TrialState.PRUNED:
            self.stats.pruned += 1
            self._consecutive_failures = 0
            what = f"PRUNED {note or error}".rstrip()
        else:
            self.stats.failed += 1
            self._consecutive_failures += 1
            self._last_error = error
            what = f"FAIL: {error}"
        self._progress(trial, what, started, params, values)

    def _requeue(
        self,
        trial: optuna.Trial,
        reporter: _Reporter,
        reason: str,
        started: float,
        params: dict[str, Any],
    ) -> None:
        """Fail the trial and queue it again with the same params (it resumes its epochs)."""
        from optuna.trial import TrialState

        reporter.flush()  # the retry inherits the epochs reported so far
        self._set_attr(trial, ERROR_ATTR, reason)
        # Only the worker that fails the trial queues its retry (another one may have failed it
        # already, as stale, and queued one).
        before = self.retry("recording the result", lambda: self.storage.get_trial(trial._trial_id))
        if before.state != TrialState.RUNNING:
            return
        frozen = self.retry(
            "recording the result",
            lambda: self.study.tell(trial, state=TrialState.FAIL, skip_if_finished=True),
        )
        self.retry("queueing the retry", lambda: retry_callback(self.spec)(self.study, frozen))
        self._progress(trial, f"INTERRUPTED ({reason}); queued again", started, params)

    def _set_attr(self, trial: optuna.Trial, key: str, value: Any) -> None:
        from optuna.exceptions import UpdateFinishedTrialError

        # Failed by another worker meanwhile: the attribute no longer matters.
        with contextlib.suppress(UpdateFinishedTrialError):
            self.retry(f"setting {key}", lambda: trial.set_user_attr(key, value))

    def _progress(
        self,
        trial: optuna.Trial,
        what: str,
        started: float,
        params: dict[str, Any],
        values: list[float] | None = None,
    ) -> None:
        if not log.isEnabledFor(logging.INFO):
            return
        shown = " ".join(f"{k}={_value(v)}" for k, v in params.items() if k in self.space.names())
        log.info(
            "trial %d %s in %.1fs | %s | %s",
            trial.number,
            what,
            time.monotonic() - started,
            self._best_text(trial, values),
            shown,
        )

    def _best_text(self, trial: optuna.Trial, values: list[float] | None) -> str:
        """The study's best so far: read at most every REFRESH seconds, this worker's own
        results merged in between."""
        if self.spec.is_multi_objective:
            return "several objectives"
        maximize = self.spec.metrics[0].direction == "maximize"
        now = time.monotonic()
        if now - self._best_read >= REFRESH:
            self._best_read = now
            try:
                best = self.study.best_trial
                self._best = (float(best.value or 0.0), best.number)
            except ValueError:
                self._best = None
            except Exception:  # progress output must never fail a trial
                pass
        elif values:
            value = values[0]
            if self._best is None or (value > self._best[0] if maximize else value < self._best[0]):
                self._best = (value, trial.number)
        if self._best is None:
            return "best: none yet"
        return f"best {_num(self._best[0])} (trial {self._best[1]})"


class _Reporter(TrialReporter):
    """Reports with storage retries; stops the trial when the worker is told to stop."""

    def __init__(self, worker: Worker, trial: optuna.Trial) -> None:
        super().__init__(
            trial,
            schedule=pruning_schedule(worker.spec.pruner),
            multi_objective=worker.spec.is_multi_objective,
        )
        self._worker = worker

    def __call__(self, value: float, step: int | None = None) -> None:
        from optuna.exceptions import UpdateFinishedTrialError

        if self._worker.stop.requested:
            raise WorkerStopping
        try:
            self._worker.retry("reporting", lambda: super(_Reporter, self).__call__(value, step))
        except UpdateFinishedTrialError:
            raise TrialLostError from None

    def flush(self) -> None:
        from optuna.exceptions import UpdateFinishedTrialError

        with contextlib.suppress(UpdateFinishedTrialError):  # failed by another worker meanwhile
            self._worker.retry("reporting", super().flush)

    @property
    def where(self) -> str:
        if self.last_step is None:
            return ""
        return f"at step {self.last_step} ({_num(self.last_value)})"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, InvalidResultError):
        return str(exc)
    out_of_memory = (
        type(exc).__name__ == "OutOfMemoryError"  # torch.cuda.OutOfMemoryError
        or isinstance(exc, MemoryError)
        or (isinstance(exc, RuntimeError) and "can't allocate memory" in str(exc))  # torch on CPU
    )
    if out_of_memory:
        return f"out of memory: {type(exc).__name__}: {_first_line(exc)}"
    if isinstance(exc, FloatingPointError):
        return f"diverged: {_first_line(exc)}"
    return f"{type(exc).__name__}: {_first_line(exc)}"


def _diverged(reason: str) -> bool:
    """NaN or infinite loss or result: pruned rather than failed, so samplers learn from it."""
    return (
        reason.startswith("diverged")
        or reason.startswith("the objective returned nan")
        or (reason.startswith("the objective returned") and "inf for" in reason)
    )


def _release_memory(*, collect: bool) -> None:
    """Give back what a finished trial held, GPU memory above all.

    A normal trial's tensors are freed as soon as it returns; a crashed one's may sit in
    reference cycles with its traceback, which only a (costly) full collection frees.
    """
    if collect:
        gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.empty_cache()


def _budget(spec: StudySpec) -> str:
    from hpo.study import budget_text

    return budget_text(spec)


def _num(value: float | None) -> str:
    if value is None:
        return "?"
    if math.isfinite(value) and value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
        return f"{value:.4g}"
    return f"{value:.4f}".rstrip("0").rstrip(".") if math.isfinite(value) else str(value)


def _value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, dict):
        inner = ",".join(f"{k}={_value(x)}" for k, x in v.items() if k != "_name")
        return f"{v.get('_name')}({inner})" if inner else str(v.get("_name"))
    return str(v)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else "(no message)"
