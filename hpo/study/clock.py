"""The study's time budget clock (``maxExecDuration``): when it runs, how much it has used.

As NNI counts an experiment's ``execDuration`` only while it runs, the clock starts when the
first worker takes the study's first trial (hours in a Slurm queue after ``create-study`` cost
nothing, an enqueued baseline trial included), pauses while the study is stopped (``hpo
stop``) and starts again with the next trial a worker takes after ``hpo resume``; it stops for
good when the study is done. Every reading is on the storage's clock, never a worker's own
(``hpo.storage.clock``), so a worker whose clock is hours off neither spends the budget nor
moves the start for the others.

Stored as the study system attribute ``hpo:clock``: ``{"used": s, "since": t}``, the seconds
used by earlier running stretches and the storage time the current one began (``null`` while
paused). Studies of earlier hpo versions have only ``hpo:started_at`` (one stretch from then)
or, from release 0.1, nothing (their clock started at create-study).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from optuna.storages import BaseStorage

from hpo import attrs
from hpo.storage import StudyTransaction, update_study_system_attr
from hpo.study.spec import StudySpec
from hpo.text import duration

State = Literal["not started", "running", "stopped", "done"]


@dataclass(frozen=True)
class BudgetClock:
    used: float = 0.0  # seconds used by the stretches that have ended
    since: float | None = None  # when the current stretch began (storage time); None: paused

    @property
    def started(self) -> bool:
        return self.since is not None or self.used > 0

    @property
    def running(self) -> bool:
        return self.since is not None

    def elapsed(self, now: float) -> float:
        """Seconds of the time budget used at ``now`` (storage time)."""
        current = max(0.0, now - self.since) if self.since is not None else 0.0
        return self.used + current

    def to_json(self) -> dict[str, float | None]:
        return {"used": self.used, "since": self.since}

    @classmethod
    def from_json(cls, data: object) -> BudgetClock | None:
        if not isinstance(data, Mapping):
            return None
        used, since = data.get("used"), data.get("since")
        if not isinstance(used, int | float) or not (
            since is None or isinstance(since, int | float)
        ):
            return None
        return cls(float(used), None if since is None else float(since))


def read_clock(system_attrs: Mapping[str, Any], spec: StudySpec, has_run: bool) -> BudgetClock:
    """The study's clock from its system attributes (``has_run``: a trial has left WAITING,
    which tells a release-0.1 study whose clock ran from create-study)."""
    clock = BudgetClock.from_json(system_attrs.get(attrs.CLOCK))
    if clock is not None:
        return clock
    started = system_attrs.get(attrs.STARTED_AT)
    if isinstance(started, int | float):  # hpo before the pausing clock: one stretch
        return BudgetClock(0.0, float(started))
    if spec.version == 1 and has_run:  # release 0.1 counted from create-study
        return BudgetClock(0.0, spec.created_at)
    return BudgetClock()


def start_clock(storage: BaseStorage, study_id: int, spec: StudySpec) -> BudgetClock:
    """Called by a worker as it takes a trial: the clock runs from now unless it runs already
    or the study is stopped (``hpo stop`` pauses it in the same lock, so they cannot race)."""

    def start(stored: Any, txn: StudyTransaction) -> Any:
        clock = _current(stored, txn, spec)
        if clock.running or txn.user_attr(attrs.STOPPED):
            return clock.to_json()
        return BudgetClock(clock.used, txn.now()).to_json()

    _, after = update_study_system_attr(storage, study_id, attrs.CLOCK, start)
    return BudgetClock.from_json(after) or BudgetClock()


def pause_clock(storage: BaseStorage, study_id: int, spec: StudySpec) -> BudgetClock:
    """``hpo stop``, and the end of a study: the running stretch is added to what is used."""

    def pause(stored: Any, txn: StudyTransaction) -> Any:
        clock = _current(stored, txn, spec)
        if not clock.running:
            return clock.to_json()
        return BudgetClock(clock.elapsed(txn.now()), None).to_json()

    _, after = update_study_system_attr(storage, study_id, attrs.CLOCK, pause)
    return BudgetClock.from_json(after) or BudgetClock()


def _current(stored: Any, txn: StudyTransaction, spec: StudySpec) -> BudgetClock:
    clock = BudgetClock.from_json(stored)
    if clock is not None:
        return clock
    # No hpo:clock yet: an older study may have its start as hpo:started_at.
    started = txn.system_attr(attrs.STARTED_AT)
    if isinstance(started, int | float):
        return BudgetClock(0.0, float(started))
    if spec.version == 1:  # release 0.1 counted from create-study
        return BudgetClock(0.0, spec.created_at)
    return BudgetClock()


def time_left(spec: StudySpec, clock: BudgetClock, now: float) -> float:
    """Seconds of maxExecDuration left at ``now`` (storage time); inf without a time budget."""
    if spec.max_duration_s is None:
        return math.inf
    return spec.max_duration_s - clock.elapsed(now)


def time_text(spec: StudySpec, clock: BudgetClock, now: float, state: State) -> str:
    """``12m used, 48m left``, ``not started``, ``12m used, paused``; empty without a time
    budget."""
    if spec.max_duration_s is None:
        return ""
    if not clock.started:
        return "not started"
    used = min(clock.elapsed(now), spec.max_duration_s)
    if state == "done" or state == "stopped":
        return f"{duration(used)} used"
    return f"{duration(used)} used, {duration(spec.max_duration_s - used)} left"


def study_state(
    spec: StudySpec,
    clock: BudgetClock,
    now: float,
    *,
    stopped: bool,
    running: int,
    waiting: int,
    counted: int,
    finished: int,
) -> State:
    """Where a study stands: ``running`` and ``waiting`` trials (a queued baseline or retry),
    ``counted`` against the trial budget, ``finished`` (complete, pruned or failed)."""
    if stopped:
        return "stopped"
    spent = (spec.max_trials is not None and counted >= spec.max_trials) or time_left(
        spec, clock, now
    ) <= 0
    if spent and not running and not waiting:
        return "done"  # never "expired": a finished study is done, however it ended
    if not clock.started and not finished and not running:
        return "not started"  # at most queued trials (the baseline): no worker has taken one
    return "running"
