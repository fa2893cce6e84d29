"""Private parts of Optuna's Study, Trial, FrozenStudy and FrozenTrial that hpo reads or sets."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Sequence

import optuna
from optuna.exceptions import ExperimentalWarning, UpdateFinishedTrialError
from optuna.pruners import _filter_study
from optuna.storages import BaseStorage, InMemoryStorage
from optuna.study import Study, StudyDirection
from optuna.study._frozen import FrozenStudy as FrozenStudy  # the type get_all_studies() returns
from optuna.study._tell import _check_values_are_feasible
from optuna.trial import FrozenTrial, Trial, TrialState


def study_id(study: Study) -> int:
    return study._study_id


def study_storage(study: Study) -> BaseStorage:
    """The storage a Study object talks to (for Optuna's RDB storage: its cache in front)."""
    return study._storage


def frozen_study_id(frozen: FrozenStudy) -> int:
    """The id of a study listed by ``storage.get_all_studies()``."""
    return int(frozen._study_id)


def trial_id(trial: Trial | FrozenTrial) -> int:
    """The storage's id of a trial (its number counts within the study, the id across them)."""
    return trial._trial_id


def with_trial_id(trial: FrozenTrial, new_id: int) -> FrozenTrial:
    """A shallow copy of ``trial`` under another id (Optuna tells trials apart by id)."""
    twin = copy.copy(trial)
    twin._trial_id = new_id
    return twin


def cached_frozen_trial(trial: Trial) -> FrozenTrial:
    """The running trial as its Trial object caches it: reading it costs no database query.

    Its ``intermediate_values`` are the ones Trial.report keeps in step with the storage.
    """
    return trial._cached_frozen_trial


def storage_backend(storage: BaseStorage) -> BaseStorage:
    """The storage behind Optuna's cache layer (a Study wraps an RDB storage in one)."""
    backend = getattr(storage, "_backend", None)
    return backend if isinstance(backend, BaseStorage) else storage


def trial_of(study: Study, trial_id: int) -> Trial:
    """A Trial for a running trial of the study that this Study object did not ask for (one a
    broken ask got). Optuna's cache in front of the RDB storage knows a trial's id only from
    its own creations and reads: a read of the running trials teaches it this one."""
    study._storage.get_all_trials(study._study_id, deepcopy=False, states=(TrialState.RUNNING,))
    return Trial(study, trial_id)


def enter_optimize_loop(study: Study) -> None:
    """Let the sampler stop the study (and heartbeats run) as inside ``study.optimize``.

    The worker is an ask-and-tell loop, which Optuna does not count as an optimise loop.
    Exhaustive samplers (grid, brute force) call ``study.stop()`` once they have visited their
    whole space, which raises outside that loop; heartbeats warn outside it. Inside, ``stop()``
    sets a flag instead, which the worker reads (:func:`stop_requested`).
    """
    study._thread_local.in_optimize_loop = True
    study._stop_flag = False


def stop_requested(study: Study) -> bool:
    """Whether the sampler (or anything else) called ``study.stop()`` since entering."""
    return bool(study._stop_flag)


def tell(study: Study, trial: Trial, values: Sequence[float] | None, state: TrialState) -> bool:
    """``study.tell(trial, values, state=state, skip_if_finished=True)`` without reading the
    trial from the storage, before or after.

    Optuna reads the whole trial (six statements) to see that it is still running and to find
    its last reported value, and reads it again to return it. The trial as this process's Trial
    object holds it serves instead: its params and reported values are the ones this process
    wrote (``TrialReporter`` keeps them in step). Whether it still runs is decided by the
    state change itself, a conditional write: a trial that another worker failed meanwhile
    (it went silent) is left as it is, as ``skip_if_finished`` would, and False is returned.
    Optuna's read-then-write raised instead when the failure came between the two (a busy
    machine's worker crashed on it).
    """
    study._thread_local.cached_all_trials = None  # as Optuna's tell: valid within a trial only
    frozen = trial._cached_frozen_trial
    if state == TrialState.COMPLETE:
        problem = _check_values_are_feasible(study, values or [])
        if problem is not None:
            raise ValueError(problem)
    elif state == TrialState.PRUNED and values is None and frozen.last_step is not None:
        # As Optuna does: a pruned trial's value is its last reported one, when it is a number.
        last = frozen.intermediate_values[frozen.last_step]
        if _check_values_are_feasible(study, [last]) is None:
            values = [last]
    told = None if values is None else [float(v) for v in values]
    try:
        # As Optuna does, the sampler sees the trial before it is finished in the storage.
        filtered = _filter_study(study, frozen)
        filtered.sampler.after_trial(filtered, frozen, state, told)
    finally:
        recorded = _finish(study, frozen._trial_id, state, told)
    return recorded


def _finish(study: Study, trial_id: int, state: TrialState, values: list[float] | None) -> bool:
    try:
        study._storage.set_trial_state_values(trial_id, state, values)
    except UpdateFinishedTrialError:
        return False
    return True


def in_memory_copy(directions: Sequence[str], trials: Sequence[FrozenTrial]) -> Study:
    """A throwaway in-memory study holding ``trials`` as stored, for Optuna's plots.

    ``Study.add_trials`` would validate each trial again and refuse a value Optuna stored with
    only a warning; copied in order, a whole study's trials keep their numbers.
    """
    study = optuna.create_study(
        storage=InMemoryStorage(), directions=[StudyDirection[d.upper()] for d in directions]
    )
    for trial in sorted(trials, key=lambda t: t.number):
        study._storage.create_new_trial(study._study_id, template_trial=trial)
    return study


def quiet_experimental_warnings() -> None:
    """hpo uses Optuna's heartbeat API on purpose; its "experimental" warnings are noise.

    Only warnings raised on hpo's own calls are silenced (Optuna attributes them to the
    caller's module); a user's objective still sees its own.
    """
    warnings.filterwarnings("ignore", category=ExperimentalWarning, module=r"hpo(\.|$)")
