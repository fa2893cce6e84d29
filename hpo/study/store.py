"""Studies in the storage: create one once, find it, read its spec, stop and resume it."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.exceptions import DuplicatedStudyError
from optuna.storages import BaseStorage

from hpo import attrs, optuna_compat
from hpo.errors import HpoError, StudyExistsError, StudyNotFoundError
from hpo.storage import blob_store
from hpo.study.clock import pause_clock
from hpo.study.spec import StudySpec
from hpo.text import first_line, kind


@dataclass(frozen=True)
class Created:
    study_id: int
    spec: StudySpec
    reused: bool  # the study existed already with the same experiment


def create_study(storage: BaseStorage, spec: StudySpec, *, exist_ok: bool = False) -> Created:
    """Create the study, store its spec and enqueue the baseline trial (once per study)."""
    existing = find_study_id(storage, spec.name)
    if existing is not None:
        return _reuse(storage, existing, spec, exist_ok)
    try:
        study = optuna.create_study(
            storage=storage, study_name=spec.name, directions=list(spec.directions)
        )
    except DuplicatedStudyError:
        # Another create-study won the race: the same rules as if it had existed before.
        existing = find_study_id(storage, spec.name)
        assert existing is not None
        return _reuse(storage, existing, spec, exist_ok)
    study_id = optuna_compat.study_id(study)
    blobs = blob_store(storage)
    if blobs is not None:  # now, not by workers racing to at their first trial's end
        blobs.ensure_table()
    try:
        study.set_user_attr(attrs.SPEC, spec.to_json())
        # Plain Optuna and the dashboard then name the objectives (val_acc, num_params).
        study.set_metric_names([m.name for m in spec.metrics])
        if spec.baseline:
            study.enqueue_trial(dict(spec.baseline), user_attrs={attrs.BASELINE: True})
    except BaseException:
        # A study without its spec is useless to workers: take it back out.
        storage.delete_study(study_id)
        raise
    return Created(study_id, spec, reused=False)


def _reuse(storage: BaseStorage, study_id: int, spec: StudySpec, exist_ok: bool) -> Created:
    stored = read_spec(storage, study_id, spec.name)
    differs = stored.same_experiment(spec)
    if not exist_ok or differs:
        reason = f" with a different {', '.join(differs)}" if differs else ""
        raise StudyExistsError(
            f"study {spec.name!r} exists already{reason}; choose another --name"
            + ("" if differs else " or resume it with hpo worker --study NAME")
        )
    return Created(study_id, stored, reused=True)


def find_study_id(storage: BaseStorage, name: str) -> int | None:
    try:
        return storage.get_study_id_from_name(name)
    except KeyError:
        return None


def load_study_id(storage: BaseStorage, name: str) -> int:
    """The study's id; StudyNotFoundError naming the closest study when there is none."""
    study_id = find_study_id(storage, name)
    if study_id is not None:
        return study_id
    names = [s.study_name for s in storage.get_all_studies()]
    close = difflib.get_close_matches(name, names, n=1)
    if close:
        hint = f"; did you mean {close[0]!r}?"
    elif names:
        hint = f"; studies here: {', '.join(names[:8])}"
    else:
        hint = "; the storage has no studies"
    raise StudyNotFoundError(f"no study named {name!r}", hint)


def read_spec(storage: BaseStorage, study_id: int, name: str) -> StudySpec:
    data = storage.get_study_user_attrs(study_id).get(attrs.SPEC)
    if data is None:
        raise HpoError(
            f"study {name!r} has no hpo spec (was it created by plain Optuna?); "
            "create it with hpo create-study"
        )
    return spec_from_stored(data, name)


def spec_from_stored(data: object, name: str) -> StudySpec:
    """The spec stored with study ``name``, or one HpoError when hpo cannot read it.

    Anything with write access to the database can store anything in ``hpo:spec``: a damaged
    study must fail the commands on it with one line, never a traceback, and never the
    commands on the other studies (which catch this error and go on).
    """
    if not isinstance(data, Mapping):
        raise HpoError(
            f"study {name!r} is damaged: its {attrs.SPEC} is {kind(data)}, not a study spec "
            "(delete it with hpo delete-study)"
        )
    try:
        return StudySpec.from_json(data)
    except HpoError as exc:
        raise HpoError(f"study {name!r}: {exc}") from None
    except (AttributeError, TypeError, ValueError, KeyError) as exc:
        raise HpoError(
            f"study {name!r} is damaged: its {attrs.SPEC} cannot be read "
            f"({type(exc).__name__}: {first_line(exc)})"
        ) from None


def load_spec(storage: BaseStorage, name: str) -> tuple[int, StudySpec]:
    study_id = load_study_id(storage, name)
    return study_id, read_spec(storage, study_id, name)


def load_optuna_study(
    storage: BaseStorage,
    spec: StudySpec,
    sampler: optuna.samplers.BaseSampler | None = None,
    pruner: optuna.pruners.BasePruner | None = None,
) -> optuna.Study:
    return optuna.load_study(study_name=spec.name, storage=storage, sampler=sampler, pruner=pruner)


def set_stopped(storage: BaseStorage, name: str, stopped: bool) -> None:
    """``hpo stop`` (True): workers finish their current trial and exit, and the time budget's
    clock pauses; ``hpo resume``: the clock runs again from the next trial a worker takes."""
    study_id, spec = load_spec(storage, name)
    storage.set_study_user_attr(study_id, attrs.STOPPED, stopped)
    if stopped:  # after the flag: a worker starting the clock from now on sees it
        pause_clock(storage, study_id, spec)


def is_stopped(study_user_attrs: Mapping[str, Any]) -> bool:
    return bool(study_user_attrs.get(attrs.STOPPED))
