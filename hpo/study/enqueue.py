"""``hpo enqueue``: a trial with params chosen by hand (NNI's "customized trial").

The params are given as the trial receives them (NNI-shaped: a choice's value, a nested
choice as ``{"_name": …, …}``) and checked against the study's stored search space, strictly:
a name the space does not search, or a value outside it, is refused, where the baseline of a
Dr.Opt config is only trimmed with a warning. Params left out are the sampler's to choose
(Optuna's partial ``enqueue_trial``: the given ones are fixed, the others sampled when a
worker claims the trial). The trial waits in the queue, before any new trial, and counts
against the study's trial budget like any other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.storages import BaseStorage
from optuna.trial import TrialState

from hpo import attrs
from hpo.errors import BudgetExhausted, HpoError, InvalidInputError
from hpo.optuna_compat import FIXED_PARAMS
from hpo.space import ChoiceParam, NumericParam, Param, Space
from hpo.study.store import load_spec
from hpo.text import clip


@dataclass(frozen=True)
class Enqueued:
    number: int  # the queued trial's number
    fixed: dict[str, Any]  # the params as given (NNI-shaped)
    sampled: list[str]  # the searched params left to the sampler


def enqueue(storage: BaseStorage, study: str, params: Mapping[str, Any]) -> Enqueued:
    """Queue a trial of ``study`` with these params, checked against its search space."""
    study_id, spec = load_spec(storage, study)
    if not params:
        raise InvalidInputError("give the trial's params: -p NAME=VALUE (repeatable)")
    for name in params:
        if name in spec.params:
            raise InvalidInputError(
                f"--param {name}: fixed by study {study!r} to {clip(repr(spec.params[name]), 60)}"
                ", not searched: every trial runs with it"
            )
    encoded = encode_strictly(spec.space, params, "")
    try:
        optuna.load_study(study_name=study, storage=storage).enqueue_trial(
            encoded, user_attrs={attrs.ENQUEUED: True}
        )
    except BudgetExhausted:
        raise HpoError(
            f"study {study!r} has used its budget of {spec.max_trials} trials: raise it first "
            f"(hpo set-budget {study} --max-trials N)"
        ) from None
    return Enqueued(
        _queued_number(storage, study_id, encoded),
        dict(params),
        [name for name in spec.space.names() if name not in params],
    )


def encode_strictly(space: Space, values: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """Optuna params for trial values; InvalidInputError naming the first one that does not
    fit: an unknown name, a value outside its parameter's range or options."""
    by_name = {p.name: p for p in space.params}
    encoded: dict[str, Any] = {}
    for name, value in values.items():
        if prefix and name == "_name":
            continue
        where = f"{prefix}{name}"
        param = by_name.get(name)
        if param is None:
            known = ", ".join(by_name) or "none"
            raise InvalidInputError(
                f"--param {where}: not a parameter of the search space (its parameters: {known})"
            )
        encoded.update(_encode_one(param, value, where))
    return encoded


def _encode_one(param: Param, value: Any, where: str) -> dict[str, Any]:
    try:
        if isinstance(param, NumericParam):
            return {param.key: param.encode(value)}
        option, raw = param.encode_option(value)
    except ValueError as exc:
        raise InvalidInputError(
            f"--param {where}: {exc} (the space allows {param.support_text()})"
        ) from None
    assert isinstance(param, ChoiceParam)
    encoded = {param.optuna_key: raw}
    if option.subspace is not None and isinstance(value, Mapping):
        encoded.update(encode_strictly(option.subspace, value, f"{where}."))
    return encoded


def _queued_number(storage: BaseStorage, study_id: int, encoded: Mapping[str, Any]) -> int:
    """The number of the trial just queued: the last waiting one with these fixed params."""
    waiting = storage.get_all_trials(study_id, deepcopy=False, states=(TrialState.WAITING,))
    ours = [t.number for t in waiting if t.system_attrs.get(FIXED_PARAMS) == dict(encoded)]
    return max(ours) if ours else max(t.number for t in waiting)
