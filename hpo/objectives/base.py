"""The interface between the worker and what a trial runs.

The worker hands every objective an :class:`Attempt` (which trial, which attempt of it, its
seed, a directory of its own, ``report`` and ``should_stop``) and receives an
:class:`~hpo.objectives.outcome.Outcome`, or an exception whose type says what went wrong
(:func:`~hpo.objectives.outcome.failure_of`). The worker derives a seed and names a directory
for every attempt; what one kind of objective does with them (the built-in objective trains
with the seed and keeps its resumable state in the directory) lives in its adapter, never in
the worker.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpo.objectives.outcome import Metric, Outcome

#: ``report(value, step)``: the value of the first metric after ``step`` epochs (1, 2, …).
#: It raises ``optuna.TrialPruned`` when the pruner stops the trial, and stops the run when
#: the worker is told to stop.
Report = Callable[[float, int], None]


@dataclass(frozen=True)
class Attempt:
    """One attempt at one trial, as the worker gives it to the objective.

    A trial whose worker died is run again (a retry) with the same params: it keeps its first
    attempt's ``seed`` and ``directory``, so that it can resume where that attempt stopped.
    """

    number: int  # this attempt's trial number in the study
    first_number: int  # the trial number of the first attempt (``number`` unless a retry)
    retry: int  # 0 for a first attempt; 1, 2, … for the retries of a trial
    seed: int  # derived from the study seed and ``first_number``: the same for every attempt
    directory: Path  # this trial's own directory (not created yet), shared by its attempts
    report: Report
    should_stop: Callable[[], bool]  # True once the worker has been told to stop
    record: Callable[[str, Any], None]  # store a user attribute on the trial (name, JSON value)
    #: Write the reported values not yet in the storage now (``report`` batches them), for an
    #: objective that may go quiet for long after reporting.
    flush: Callable[[], None] = lambda: None
    #: True once ``hpo kill`` asked for this trial to end: an objective that runs a process
    #: ends it (an in-process one is interrupted by the worker).
    killed: Callable[[], bool] = lambda: False


class AttemptInterrupted(BaseException):  # a signal, like KeyboardInterrupt
    """The attempt was stopped from outside before it ended (the worker is stopping): the
    trial is queued again with the same params. A BaseException, so that an objective's
    ``except Exception`` does not swallow it."""


class AttemptKilled(BaseException):  # a signal, like AttemptInterrupted
    """The trial was killed (``hpo kill``): it ends as the kill asked, PRUNED or FAIL, and is
    never queued again. A BaseException, so that an objective's ``except Exception`` does not
    swallow it."""


class Objective(ABC):
    """What a study's trials run: one instance per worker, reused from trial to trial."""

    #: Loggers the objective's code logs to (besides the root), whose lines of every level go
    #: into a trial's log when it runs in the worker's process.
    loggers: tuple[str, ...] = ()

    def __init__(self, metrics: Sequence[Metric]) -> None:
        self.metrics = tuple(metrics)

    @abstractmethod
    def run(self, params: dict[str, Any], attempt: Attempt) -> Outcome:
        """Run one attempt with these params (fixed params and sampled ones, NNI-shaped)."""

    def close(self, attempt: Attempt) -> None:
        """The trial is over for good (complete, pruned or failed; no retry will follow):
        drop what only a retry of it would have needed. Nothing, unless a kind keeps state."""
        return None
