"""``report(value, step)`` for one running trial: records the value and prunes if told to.

``step`` is the number of epochs done (1, 2, …); pruners' resources count in these units.

Values are kept in the trial at once and written to the storage before the pruner is asked
(only at steps where it can act, see ``hpo.tuners.schedule``), when the trial ends
(``flush``), and otherwise at most once per ``FLUSH_SECONDS``: an epoch of real training
(seconds or more) is written as it ends, so the dashboard follows the trial and a killed
worker loses nothing, while sub-second epochs share one transaction.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable

import optuna
from optuna.exceptions import UpdateFinishedTrialError

from hpo import optuna_compat as compat
from hpo.objectives import AttemptKilled
from hpo.storage import HpoRDBStorage, StorageRetry
from hpo.text import number
from hpo.tuners import PruningSchedule
from hpo.worker.signals import GracefulStop, WorkerStopping

log = logging.getLogger("hpo.worker")


class TrialLostError(Exception):
    """This worker's trial was failed by another worker (its heartbeat was lost)."""


class TrialReporter:
    """Records a trial's per-epoch values and asks the pruner when it can act."""

    FLUSH_SECONDS = 1.0

    def __init__(
        self, trial: optuna.Trial, *, schedule: PruningSchedule, multi_objective: bool
    ) -> None:
        self._trial = trial
        self._schedule = schedule
        # Optuna keeps no intermediate values for multi-objective studies.
        self._record = not multi_objective
        self._pending: dict[int, float] = {}
        self._flushed_at = time.monotonic()
        self.last_step: int | None = None
        self.last_value: float | None = None

    def __call__(self, value: float, step: int | None = None) -> None:
        step = self.record(value, step)
        if step is not None:
            self.write_and_ask(step)

    def record(self, value: float, step: int | None = None) -> int | None:
        """Keep the value (in memory only); the step to write and ask the pruner about, or
        None when there is nothing to do."""
        step = (self.last_step or 0) + 1 if step is None else int(step)
        value = float(value)
        self.last_step, self.last_value = step, value
        log.debug("step %d: %s", step, number(value))
        if not self._record:
            return None
        known = compat.cached_frozen_trial(self._trial).intermediate_values
        if step in known:
            return None  # a retried trial inherits the epochs its earlier attempt reported
        known[step] = value
        self._pending[step] = value
        return step

    def write_and_ask(self, step: int) -> None:
        """The storage's part of a report: write what is due, ask the pruner where it can
        act. Safe to repeat (a retry after a lost connection asks again)."""
        due = self._schedule.due(step)
        if due or time.monotonic() - self._flushed_at >= self.FLUSH_SECONDS:
            self.flush()
        if due:
            if self._trial.should_prune():
                value = self.last_value or 0.0  # this step's: set by record
                raise optuna.TrialPruned(f"pruned at step {step} (value {value:.6g})")
            self._schedule.passed(step)

    def flush(self) -> None:
        """Write the values not yet in the storage (one transaction where the storage can)."""
        if not self._pending:
            return
        storage = compat.storage_backend(self._trial.storage)
        trial_id = compat.trial_id(self._trial)
        if isinstance(storage, HpoRDBStorage):
            storage.set_trial_intermediate_values(trial_id, dict(self._pending))
        else:
            for step, value in self._pending.items():
                storage.set_trial_intermediate_value(trial_id, step, value)
        self._pending.clear()
        self._flushed_at = time.monotonic()

    @property
    def where(self) -> str:
        """``at step 3 (0.8123)``: where the trial stopped, for its progress line."""
        if self.last_step is None:
            return ""
        return f"at step {self.last_step} ({number(self.last_value)})"


class WorkerReporter(TrialReporter):
    """Reports with storage retries; stops the trial when the worker is told to stop, and
    ends it when ``hpo kill`` asked (``killed``)."""

    def __init__(
        self,
        trial: optuna.Trial,
        *,
        schedule: PruningSchedule,
        multi_objective: bool,
        retry: StorageRetry,
        stop: GracefulStop,
        killed: Callable[[], bool] = lambda: False,
    ) -> None:
        super().__init__(trial, schedule=schedule, multi_objective=multi_objective)
        self._retry = retry
        self._stop = stop
        self._killed = killed

    def __call__(self, value: float, step: int | None = None) -> None:
        if self._killed():
            raise AttemptKilled
        if self._stop.requested:
            raise WorkerStopping
        recorded = self.record(value, step)  # once: a retried write must still ask the pruner
        if recorded is None:
            return
        try:
            self._retry("reporting", lambda: self.write_and_ask(recorded))
        except UpdateFinishedTrialError:
            raise TrialLostError from None

    def flush(self) -> None:
        with contextlib.suppress(UpdateFinishedTrialError):  # failed by another worker meanwhile
            self._retry("reporting", super().flush)
