"""``hpo status``: one line of figures per study in the storage."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import optuna
from optuna.storages import BaseStorage
from optuna.trial import TrialState

from hpo import attrs
from hpo.errors import HpoError
from hpo.optuna_compat import FrozenStudy, frozen_study_id
from hpo.storage import counted_trials, state_counts, storage_now
from hpo.study.clock import BudgetClock, State, read_clock, study_state
from hpo.study.spec import StudySpec
from hpo.study.store import is_stopped, spec_from_stored


@dataclass(frozen=True)
class StudySummary:
    name: str
    spec: StudySpec | None  # None: not an hpo study, or a spec this hpo cannot read
    counts: Mapping[TrialState, int]
    best_value: float | None
    best_number: int | None
    n_pareto: int | None = None
    stopped: bool = False
    #: Why hpo cannot read the study's spec (a damaged or newer study); None when it can.
    unreadable: str | None = None
    #: Its time budget's clock (hpo.study.clock), read on the storage's clock at ``now``.
    clock: BudgetClock = field(default_factory=BudgetClock)
    now: float = 0.0
    state: State | None = None  # None: not an hpo study

    @property
    def started_at(self) -> float | None:
        """When the clock's current stretch began (None: not started, paused)."""
        return self.clock.since

    @property
    def kind(self) -> str:
        """``hpo`` for a study hpo runs, ``unreadable``, or ``optuna`` for a plain one."""
        return "hpo" if self.spec else "unreadable" if self.unreadable else "optuna"


def summaries(storage: BaseStorage) -> list[StudySummary]:
    """Every study in the storage, in the order they were created."""
    studies = storage.get_all_studies()
    now = storage_now(storage) if studies else 0.0
    return [_summary(storage, frozen, now) for frozen in studies]


def summary_of(storage: BaseStorage, name: str) -> StudySummary:
    """The summary of one study (``hpo run`` prints its best at the end)."""
    frozen = next(s for s in storage.get_all_studies() if s.study_name == name)
    return _summary(storage, frozen, storage_now(storage))


def _summary(storage: BaseStorage, frozen: FrozenStudy, now: float) -> StudySummary:
    study_id = frozen_study_id(frozen)
    data = frozen.user_attrs.get(attrs.SPEC)
    spec = unreadable = None
    try:
        spec = spec_from_stored(data, frozen.study_name) if data is not None else None
    except HpoError as exc:  # listed as such; the other studies are untouched
        unreadable = str(exc)
    counts = state_counts(storage, study_id)
    best_value = best_number = None
    n_pareto = None
    if counts.get(TrialState.COMPLETE):
        if len(frozen.directions) == 1:
            best = storage.get_best_trial(study_id)
            best_value, best_number = best.value, best.number
        else:
            study = optuna.load_study(study_name=frozen.study_name, storage=storage)
            n_pareto = len(study.best_trials)
    stopped = is_stopped(frozen.user_attrs)
    clock, state = BudgetClock(), None
    if spec is not None:
        running = counts.get(TrialState.RUNNING, 0)
        waiting = counts.get(TrialState.WAITING, 0)
        finished = sum(n for st, n in counts.items() if st.is_finished())
        clock = read_clock(frozen.system_attrs, spec, has_run=running + finished > 0)
        counted = counted_trials(storage, study_id) if spec.max_trials is not None else 0
        state = study_state(
            spec,
            clock,
            now,
            stopped=stopped,
            running=running,
            waiting=waiting,
            counted=counted,
            finished=finished,
        )
    return StudySummary(
        frozen.study_name,
        spec,
        counts,
        best_value,
        best_number,
        n_pareto,
        stopped,
        unreadable,
        clock,
        now,
        state,
    )
