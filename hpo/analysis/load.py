"""Reading what the analysis commands look at: the studies a name stands for, their trials."""

from __future__ import annotations

from collections.abc import Sequence

from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial

from hpo.errors import StudyNotFoundError
from hpo.study import StudySpec, find_study_id, group_members, load_spec, load_study_id


def resolve_studies(storage: BaseStorage, names: Sequence[str]) -> list[StudySpec]:
    """Group names and study names → the specs of every study they stand for, once each."""
    specs: list[StudySpec] = []
    for name in names:
        if find_study_id(storage, name) is not None:
            specs.append(load_spec(storage, name)[1])
            continue
        try:
            specs.extend(group_members(storage, name))
        except StudyNotFoundError:
            raise StudyNotFoundError(f"no study or group named {name!r}") from None
    unique: dict[str, StudySpec] = {}
    for spec in specs:
        unique.setdefault(spec.name, spec)
    return list(unique.values())


def load_trials(storage: BaseStorage, specs: Sequence[StudySpec]) -> dict[str, list[FrozenTrial]]:
    """Every trial of each study, read once (compare, importance and report share them)."""
    return {
        spec.name: storage.get_all_trials(load_study_id(storage, spec.name), deepcopy=False)
        for spec in specs
    }
