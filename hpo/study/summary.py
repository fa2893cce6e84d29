"""``hpo status``: one line of figures per study in the storage."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import optuna
from optuna.storages import BaseStorage
from optuna.trial import TrialState

from hpo import attrs
from hpo.errors import HpoError
from hpo.optuna_compat import FrozenStudy, frozen_study_id
from hpo.storage import state_counts
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
    #: When its first worker started (its time budget's clock); None before any has.
    started_at: float | None = None

    @property
    def kind(self) -> str:
        """``hpo`` for a study hpo runs, ``unreadable``, or ``optuna`` for a plain one."""
        return "hpo" if self.spec else "unreadable" if self.unreadable else "optuna"


def summaries(storage: BaseStorage) -> list[StudySummary]:
    """Every study in the storage, in the order they were created."""
    return [_summary(storage, frozen) for frozen in storage.get_all_studies()]


def summary_of(storage: BaseStorage, name: str) -> StudySummary:
    """The summary of one study (``hpo run`` prints its best at the end)."""
    return _summary(storage, next(s for s in storage.get_all_studies() if s.study_name == name))


def _summary(storage: BaseStorage, frozen: FrozenStudy) -> StudySummary:
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
    started = frozen.system_attrs.get(attrs.STARTED_AT)
    if not isinstance(started, int | float):
        # hpo 0.1.0's studies counted from their creation, and have no record of the start.
        started = spec.created_at if spec is not None and any(counts.values()) else None
    return StudySummary(
        frozen.study_name,
        spec,
        counts,
        best_value,
        best_number,
        n_pareto,
        stopped,
        unreadable,
        started,
    )
