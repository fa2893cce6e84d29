"""One trial on this worker: params in, the objective run under a heartbeat, the result out.

Outcomes:

- COMPLETE: the objective returned a finite value for every metric.
- PRUNED: the pruner stopped it; or it diverged (a NaN / infinite loss or result), so that
  samplers learn to avoid that region. The reason is in ``hpo:error``.
- FAIL: anything else it raised (a bug, out of memory, missing data; ``sys.exit()`` too),
  reason in ``hpo:error``. Memory is released and the worker goes on.
- Interrupted (SIGTERM, Ctrl-C; ``hpo stop`` does not interrupt): FAIL and queued again with
  the same params; the retry gets the trial's directory back and may resume from it.
- Killed (``hpo kill``, from any machine): PRUNED or FAIL as the kill asked, its reason in
  ``hpo:error``; never queued again (``hpo.worker.kill``).
- Lost: another worker failed it meanwhile (this worker's heartbeat did not reach the
  storage for the grace period) and queued its retry; this worker moves on.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import socket
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.storages import BaseStorage
from optuna.trial import TrialState

from hpo import attrs, env
from hpo import optuna_compat as compat
from hpo.errors import HpoError, StudyDeletedError
from hpo.objectives import (
    Attempt,
    AttemptInterrupted,
    AttemptKilled,
    Failure,
    Objective,
    Outcome,
    failure_of,
)
from hpo.space import Space
from hpo.storage import BlobStore, StorageRetry
from hpo.study import StudySpec, derive_seed
from hpo.study.directories import tidy_trial_directory, trial_directory
from hpo.text import number
from hpo.tuners import pruning_schedule
from hpo.worker.disk import unwritable_directory
from hpo.worker.kill import KillRequest, KillWatch
from hpo.worker.liveness import Heartbeat, retry_callback
from hpo.worker.progress import Progress, tagged
from hpo.worker.reporter import TrialLostError, WorkerReporter
from hpo.worker.signals import GracefulStop
from hpo.worker.trial_log import TrialLog
from hpo.worker.weights import keep_best_weights

log = logging.getLogger("hpo.worker")

#: Characters of a traceback kept with a failed trial (its end: where it raised).
TRACEBACK_KEPT = 4000


@dataclass(frozen=True)
class TrialContext:
    """What running a trial needs from its worker."""

    storage: BaseStorage
    study: optuna.Study
    spec: StudySpec
    space: Space  # the spec's, parsed once per worker
    retry: StorageRetry
    stop: GracefulStop
    objective: Objective
    progress: Progress
    blobs: BlobStore | None  # where trial logs go: the study's database


End = Literal["complete", "pruned", "failed", "interrupted", "lost"]


@dataclass(frozen=True)
class TrialEnd:
    """How a trial ended on this worker."""

    end: End
    error: str = ""
    killed: bool = False  # by hpo kill: not a failure of the worker's (consecutive failures)

    @property
    def final(self) -> bool:
        """Over for good: no retry of it will follow from this worker's side."""
        return self.end in ("complete", "pruned", "failed")


def worker_name() -> str:
    """``host``, or ``host/label`` for a worker of ``hpo worker --gpus`` or ``hpo run``."""
    label = os.environ.get(env.WORKER_LABEL)
    host = socket.gethostname()
    return f"{host}/{label}" if label else host


def run_trial(ctx: TrialContext, trial: optuna.Trial) -> TrialEnd:
    """Run one claimed trial to its end and record that end in the storage."""
    spec = ctx.spec
    started = time.monotonic()
    frozen = compat.cached_frozen_trial(trial)
    first = compat.original_number(frozen)

    def interrupt(request: KillRequest) -> None:
        # A command's guard ends its processes (Attempt.killed); code in this process is
        # interrupted where it is.
        if not spec.objective.is_command:
            ctx.stop.kill_trial()

    kill = KillWatch(ctx.storage, compat.trial_id(trial), trial.number, interrupt)
    reporter = WorkerReporter(
        trial,
        schedule=pruning_schedule(spec.pruner),
        multi_objective=spec.is_multi_objective,
        retry=ctx.retry,
        stop=ctx.stop,
        killed=lambda: kill.killed,
    )
    attempt = Attempt(
        number=trial.number,
        first_number=first,
        retry=compat.retry_count(frozen),
        # The first attempt's number: a retry trains with the same seed.
        seed=derive_seed(spec.seed, "trial", first),
        directory=trial_directory(spec, compat.study_id(ctx.study), first),
        report=reporter,
        should_stop=lambda: ctx.stop.requested,
        record=lambda key, value: _record(ctx, trial, key, value),
        flush=reporter.flush,
        killed=lambda: kill.killed,
    )
    params: dict[str, Any] = {}
    crashed = False
    trial_log = TrialLog(
        attempt.directory,
        ctx.blobs,
        compat.trial_id(trial),
        compat.study_id(ctx.study),
        # A command's output is its log already.
        capture=None if spec.objective.is_command else ctx.objective.loggers,
    )
    # The heartbeat runs until the result is recorded, through any storage outage; so does
    # the look for hpo kill.
    with (
        Heartbeat(ctx.storage, compat.trial_id(trial), spec.liveness.heartbeat_interval),
        kill,
    ):
        try:
            if frozen.user_attrs.get(attrs.WORKER) != worker_name():  # not set with the claim
                _record(ctx, trial, attrs.WORKER, worker_name())
            # A stop now (a second signal) may interrupt it from here: an interrupted trial is
            # failed and queued again below, never left RUNNING.
            ctx.stop.in_objective = True
            try:
                if kill.killed:  # before the objective could be interrupted
                    raise AttemptKilled
                params = ctx.retry(
                    "sampling params", lambda: {**spec.params, **ctx.space.suggest(trial)}
                )
                ctx.progress.started(trial.number, params)
                with tagged(f"{spec.name} #{trial.number}"), trial_log:
                    outcome = ctx.objective.run(params, attempt)
            finally:
                ctx.stop.in_objective = False
        except AttemptKilled:
            _keep_log(ctx, trial, trial_log)
            end = _end_killed(ctx, trial, reporter, kill.request, started, params)
        except optuna.TrialPruned:
            _keep_log(ctx, trial, trial_log)
            end = _finish(
                ctx, trial, reporter, TrialState.PRUNED, None, started, params, note=reporter.where
            )
        except (AttemptInterrupted, KeyboardInterrupt):
            reason = f"worker stopped by {ctx.stop.name or 'an interrupt'}"
            _keep_log(ctx, trial, trial_log)
            if kill.killed:  # killed as the worker stopped: it ends as killed, not queued
                end = _end_killed(ctx, trial, reporter, kill.request, started, params)
            else:
                end = _requeue(ctx, trial, reporter, reason, started, params)
        except (TrialLostError, UpdateFinishedTrialError):  # the latter: sampling its params
            end = _lost(trial)
        except StudyDeletedError:
            # Nothing is left to record it in, and no retry of it will ever come.
            ctx.objective.close(attempt)
            raise
        except (Exception, SystemExit) as exc:
            problem = unwritable_directory(exc, attempt.directory)
            if problem is not None:  # the disk's fault, not the trial's: see hpo.worker.disk
                del exc
                _keep_log(ctx, trial, trial_log)
                _requeue(ctx, trial, reporter, problem, started, params)
                tidy_trial_directory(attempt.directory, log_kept=trial_log.kept, final=False)
                raise HpoError(
                    f"trial {trial.number} stopped this worker: {problem}; the trial is queued "
                    f"again (every trial here would fail the same): make room or fix the "
                    f"permissions under {attempt.directory.parent}"
                ) from None
            # sys.exit() in a trial's code ends that trial, not the worker (nor its heartbeat).
            failure = failure_of(exc) if isinstance(exc, Exception) else _exited(exc)
            trace = traceback.format_exc()
            del exc  # its frames hold the trial's tensors: let them go before freeing memory
            state = TrialState.PRUNED if failure.prunes else TrialState.FAIL
            _keep_log(ctx, trial, trial_log)
            if kill.killed:  # what it raised as it was killed (its processes ended)
                end = _end_killed(ctx, trial, reporter, kill.request, started, params)
            else:
                end = _finish(
                    ctx,
                    trial,
                    reporter,
                    state,
                    None,
                    started,
                    params,
                    error=failure.reason,
                    trace=trace,
                )
            crashed = True
        else:
            _keep_log(ctx, trial, trial_log)
            if outcome.metrics:
                _record(ctx, trial, attrs.METRICS, outcome.metrics)
                for name, value in outcome.metrics.items():
                    _record(ctx, trial, attrs.METRIC_PREFIX + name, value)
            for key, value in outcome.attrs.items():
                _record(ctx, trial, key, value)
            _keep_weights(ctx, trial, outcome)
            end = _finish(
                ctx, trial, reporter, TrialState.COMPLETE, outcome.values, started, params
            )
    ctx.stop.killing = False  # the kill watch has ended: no kill can reach the next trial
    if end.final:
        ctx.objective.close(attempt)
    tidy_trial_directory(attempt.directory, log_kept=trial_log.kept, final=end.final)
    _release_memory(collect=crashed)
    return end


def _keep_log(ctx: TrialContext, trial: optuna.Trial, trial_log: TrialLog) -> None:
    """The rest of the trial's log, into the study's database before its end is recorded (so
    that ``hpo logs -f``, which stops when the trial does, has it all)."""
    try:
        ctx.retry("keeping the trial's log", trial_log.ship)
    except OSError as exc:  # an unreadable file: the result matters more
        log.warning("trial %d: its log could not be kept: %s", trial.number, exc)


def _exited(exc: SystemExit) -> Failure:
    return Failure(
        "error", f"the objective called sys.exit({exc.code!r}): a trial must return or raise"
    )


def _finish(
    ctx: TrialContext,
    trial: optuna.Trial,
    reporter: WorkerReporter,
    state: TrialState,
    values: Sequence[float] | None,
    started: float,
    params: dict[str, Any],
    *,
    note: str = "",
    error: str = "",
    trace: str = "",
) -> TrialEnd:
    """Record the result; ``error`` goes to hpo:error, ``note`` only to the progress line."""
    reporter.flush()  # the epochs not yet written, before the trial is closed
    if error:
        _record(ctx, trial, attrs.ERROR, error)
    if trace:
        _record(ctx, trial, attrs.TRACEBACK, trace[-TRACEBACK_KEPT:])
    if not ctx.retry("recording the result", lambda: compat.tell(ctx.study, trial, values, state)):
        return _lost(trial)  # failed by another worker meanwhile: its result is not this one
    if state == TrialState.COMPLETE:
        end = TrialEnd("complete")
        what = "COMPLETE " + ", ".join(number(v) for v in values or [])
    elif state == TrialState.PRUNED:
        end = TrialEnd("pruned")
        what = f"PRUNED {note or error}".rstrip()
    else:
        end = TrialEnd("failed", error)
        what = f"FAIL: {error}"
    ctx.progress.trial(trial.number, what, started, params, values)
    return end


def _end_killed(
    ctx: TrialContext,
    trial: optuna.Trial,
    reporter: WorkerReporter,
    request: KillRequest | None,
    started: float,
    params: dict[str, Any],
) -> TrialEnd:
    """End a trial that ``hpo kill`` stopped: as the kill asked, its reason in hpo:error."""
    request = request or KillRequest()
    end = _finish(
        ctx, trial, reporter, request.trial_state, None, started, params, error=request.reason
    )
    return replace(end, killed=True)


def _lost(trial: optuna.Trial) -> TrialEnd:
    log.warning(
        "trial %d was failed by another worker while it ran here (its heartbeat was "
        "lost); it will be retried: moving on",
        trial.number,
    )
    return TrialEnd("lost")


def _requeue(
    ctx: TrialContext,
    trial: optuna.Trial,
    reporter: WorkerReporter,
    reason: str,
    started: float,
    params: dict[str, Any],
) -> TrialEnd:
    """Fail the trial and queue it again with the same params (it resumes its epochs)."""
    reporter.flush()  # the retry inherits the epochs reported so far
    _record(ctx, trial, attrs.ERROR, reason)
    # Only the worker that fails the trial queues its retry: another one may have failed it
    # already, as stale, and queued one (then this tell is refused).
    try:
        frozen = ctx.retry(
            "recording the result", lambda: ctx.study.tell(trial, state=TrialState.FAIL)
        )
    except (UpdateFinishedTrialError, ValueError):  # ValueError: Optuna's "cannot tell a FAIL"
        return TrialEnd("interrupted", reason)
    ctx.retry("queueing the retry", lambda: retry_callback(ctx.spec)(ctx.study, frozen))
    ctx.progress.trial(trial.number, f"INTERRUPTED ({reason}); queued again", started, params)
    return TrialEnd("interrupted", reason)


def _keep_weights(ctx: TrialContext, trial: optuna.Trial, outcome: Outcome) -> None:
    """The weights of one of the study's best trials, into its artifact store."""
    try:
        artifact = ctx.retry(
            "keeping the weights",
            lambda: keep_best_weights(ctx.storage, ctx.study, ctx.spec, trial, outcome),
        )
    except OSError as exc:  # a full or unwritable store: the result matters more
        log.warning("trial %d: its weights could not be kept: %s", trial.number, exc)
        return
    except UpdateFinishedTrialError:
        # Failed by another worker meanwhile (its heartbeat missed): recording the result
        # finds the trial lost, and the retry keeps its own weights.
        return
    if artifact is not None:
        _record(ctx, trial, attrs.WEIGHTS, artifact)


def _record(ctx: TrialContext, trial: optuna.Trial, key: str, value: Any) -> None:
    """Store a trial user attribute, riding out storage outages."""
    # Failed by another worker meanwhile: the attribute no longer matters.
    with contextlib.suppress(UpdateFinishedTrialError):
        ctx.retry(f"setting {key}", lambda: trial.set_user_attr(key, value))


def _release_memory(*, collect: bool) -> None:
    """Give back what a finished trial held, GPU memory above all.

    A normal trial's tensors are freed as soon as it returns; a crashed one's may sit in
    reference cycles with its traceback, which only a (costly) full collection frees. torch is
    not imported for this: only an objective that used it has.
    """
    if collect:
        gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.empty_cache()
