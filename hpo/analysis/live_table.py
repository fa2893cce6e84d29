"""What ``hpo status --watch`` and ``hpo trials --watch`` show: the studies in a line each, and
their running trials with the epoch each reached, its latest value and how long it has run.

Everything comes from the storage, so a watch on any machine sees every worker: the epoch is
the last step a trial reported (``trial.report``), the worker the ``hpo:worker`` attribute its
claim wrote, the seconds count from the trial's start as its worker's clock recorded it.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial, TrialState

from hpo import attrs
from hpo.optuna_compat import frozen_study_id
from hpo.study.summary import StudySummary, summaries
from hpo.text import number

STUDY_HEADERS = ("study", "state", "complete", "pruned", "fail", "running", "waiting", "best")
TRIAL_HEADERS = ("study", "trial", "worker", "epoch", "latest", "seconds")


@dataclass(frozen=True)
class LiveView:
    """One refresh: a row per study, a row per running trial (cells as text)."""

    studies: list[list[str]]
    trials: list[list[str]]


def live_view(storage: BaseStorage, names: Sequence[str] | None = None) -> LiveView:
    """The studies called ``names`` (a study or a group's members; every study when None)
    and their running trials, read now."""
    ids = {s.study_name: frozen_study_id(s) for s in storage.get_all_studies()}
    shown = [s for s in summaries(storage) if names is None or _named(s, names)]
    now = datetime.datetime.now()
    trials: list[list[str]] = []
    for s in shown:
        if not s.counts.get(TrialState.RUNNING):
            continue
        running = storage.get_all_trials(ids[s.name], deepcopy=False, states=(TrialState.RUNNING,))
        trials += [_trial_row(s.name, t, now) for t in sorted(running, key=lambda t: t.number)]
    return LiveView([_study_row(s) for s in shown], trials)


def _named(summary: StudySummary, names: Sequence[str]) -> bool:
    group = summary.spec.group if summary.spec else None
    return summary.name in names or (group is not None and group in names)


def _study_row(s: StudySummary) -> list[str]:
    counts = s.counts
    best = "-" if s.best_value is None else f"{number(s.best_value)} (#{s.best_number})"
    return [
        s.name,
        s.state or f"({s.kind})",
        *(
            str(counts.get(state, 0))
            for state in (
                TrialState.COMPLETE,
                TrialState.PRUNED,
                TrialState.FAIL,
                TrialState.RUNNING,
                TrialState.WAITING,
            )
        ),
        best,
    ]


def _trial_row(study: str, trial: FrozenTrial, now: datetime.datetime) -> list[str]:
    steps = trial.intermediate_values
    last = max(steps) if steps else None
    started = trial.datetime_start
    seconds = None if started is None else max(0.0, (now - started).total_seconds())
    return [
        study,
        str(trial.number),
        str(trial.user_attrs.get(attrs.WORKER) or "-"),
        "-" if last is None else str(last),
        "-" if last is None else number(steps[last]),
        "-" if seconds is None else f"{seconds:.0f}",
    ]
