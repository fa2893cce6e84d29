"""The numbers users report of a trial: its value, the test accuracy of its best epoch, its
model's size, how many epochs and seconds it took.

The built-in training objective records them in the trial's ``hpo:metrics`` (``test_acc``,
``best_epoch``, ``num_params``, ``epochs``); any other objective may record the same names.
Where a number is missing, it is None, never guessed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial

from hpo import attrs


@dataclass(frozen=True)
class TrialNumbers:
    trial: int
    test_acc: float | None  # on the test split, of the model of the best epoch
    best_epoch: int | None
    num_params: int | None
    epochs: int | None  # trained (a pruned trial's: until it was pruned)
    seconds: float | None  # wall-clock, start to end

    def to_json(self) -> dict[str, Any]:
        return {
            "test_acc": self.test_acc,
            "best_epoch": self.best_epoch,
            "num_params": self.num_params,
            "epochs": self.epochs,
            "seconds": self.seconds,
        }


def trial_numbers(trial: FrozenTrial) -> TrialNumbers:
    metrics = trial.user_attrs.get(attrs.METRICS)
    recorded: Mapping[str, Any] = metrics if isinstance(metrics, Mapping) else {}
    epochs = _whole(recorded.get("epochs"))
    if epochs is None and trial.intermediate_values:
        epochs = max(trial.intermediate_values)
    seconds = None
    if trial.datetime_start is not None and trial.datetime_complete is not None:
        seconds = (trial.datetime_complete - trial.datetime_start).total_seconds()
    return TrialNumbers(
        trial=trial.number,
        test_acc=_number(recorded.get("test_acc")),
        best_epoch=_whole(recorded.get("best_epoch")),
        num_params=_whole(recorded.get("num_params")),
        epochs=epochs,
        seconds=seconds,
    )


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _whole(value: Any) -> int | None:
    number = _number(value)
    return None if number is None else int(number)


def with_numbers(storage: BaseStorage, study: str, trial_json: dict[str, Any]) -> dict[str, Any]:
    """A trial as ``hpo best`` prints it (``{"trial": N, ...}``), with the numbers above that
    the trial has (a function objective may record none)."""
    study_id = storage.get_study_id_from_name(study)
    trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, trial_json["trial"])
    numbers = trial_numbers(storage.get_trial(trial_id)).to_json()
    return {**trial_json, **{k: v for k, v in numbers.items() if v is not None}}
