"""The values of training params, each alone: their types, the names they may take, and the
parsing of a JSON value into the type a param has (``coerce``). ``training.config`` builds a
whole config from them and checks the rules between params. Imports no torch.
"""

from __future__ import annotations

import math
from typing import Any, Literal, get_args

Optimizer = Literal["sgd", "sgdw", "adam", "adamw"]
Schedule = Literal["constant", "step", "multistep", "cosine", "onecycle", "triangular"]
Warmup = Literal["linear", "exponential"]
Balance = Literal["none", "weighted"]
Device = Literal["auto", "cpu", "cuda"]
PadMode = Literal["zeros", "reflect"]
DataPlacement = Literal["auto", "device", "host", "stream"]

OPTIMIZERS: tuple[str, ...] = get_args(Optimizer)
SCHEDULES: tuple[str, ...] = get_args(Schedule)
#: The models of ``training.models.MODELS``, named here without importing torch, so that a
#: study naming another one is refused at create-study (a test keeps the two lists equal).
MODEL_NAMES: tuple[str, ...] = (
    "simple_cnn",
    "resnet9",
    "dw_student",
    "airbench",
    "resnet18",
    "resnet50",
    "mobilenet_v2",
)


class ConfigError(ValueError):
    """A param the training objective cannot use; the message names it."""


# Params whose null is meaningful (no file, no early stopping) rather than "use the default".
OPTIONAL = {
    "data_dir",
    "pretrained",
    "teacher",
    "teacher_model",
    "early_stopping_patience",
    "resolution",
    "subset_per_class",
    "checkpoint",
    "cache_dir",
    "train_split",
    "state_file",
    "cycle_epochs",
    "translate",
    "prune_rate",
}

_INT_KEYS = {
    "resolution",
    "subset_per_class",
    "batch_size",
    "num_epochs",
    "step_size",
    "warmup_period",
    "early_stopping_patience",
    "seed",
    "translate",
    "prune_rounds",
}
_FLOAT_KEYS = {
    "val_fraction",
    "width",
    "lr",
    "momentum",
    "weight_decay",
    "gamma",
    "cycle_epochs",
    "label_smoothing",
    "kd_temperature",
    "kd_alpha",
    "state_every",
    "bias_lr_scale",
    "prune_rate",
    "gpu_data_fraction",
    "host_data_fraction",
}
_BOOL_KEYS = {
    "download",
    "nesterov",
    "freeze_backbone",
    "augment",
    "alternate_flip",
    "tta",
    "compile",
}
_CHOICES: dict[str, tuple[str, ...]] = {
    "model": MODEL_NAMES,
    "teacher_model": MODEL_NAMES,
    "optimizer": OPTIMIZERS,
    "lr_schedule": SCHEDULES,
    "warmup": get_args(Warmup),
    "balance": get_args(Balance),
    "device": get_args(Device),
    "pad_mode": get_args(PadMode),
    "data_placement": get_args(DataPlacement),
}


def coerce(key: str, value: Any) -> Any:
    if value is None:
        return None
    if key in _INT_KEYS:
        # quniform and friends may give 24.0 where an integer is meant.
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)  # 1e999 is infinity: no integer
            or float(value) != int(value)
        ):
            raise ConfigError(f"{key} must be an integer, got {value!r}")
        return int(value)
    if key in _FLOAT_KEYS:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ConfigError(f"{key} must be a number, got {value!r}")
        return float(value)
    if key in _BOOL_KEYS:
        if not isinstance(value, bool):
            raise ConfigError(f"{key} must be true or false, got {value!r}")
        return value
    if key in _CHOICES:
        choices = _CHOICES[key]
        if value not in choices:
            raise ConfigError(f"{key} must be one of {', '.join(choices)}, got {value!r}")
        return value
    if key == "milestones":
        if not isinstance(value, list | tuple) or not all(
            isinstance(m, int) and not isinstance(m, bool) and m > 0 for m in value
        ):
            raise ConfigError(f"milestones must be a list of positive epochs, got {value!r}")
        return tuple(value)
    if not isinstance(value, str):
        raise ConfigError(f"{key} must be a string, got {value!r}")
    return value


def positive(key: str, value: float) -> None:
    if not value > 0:
        raise ConfigError(f"{key} must be > 0, got {value}")


def in_range(
    key: str,
    value: float,
    low: float,
    high: float,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> None:
    ok_low = value > low if low_open else value >= low
    ok_high = value < high if high_open else value <= high
    if not (ok_low and ok_high):
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        raise ConfigError(f"{key} must be in {left}{low}, {high}{right}, got {value}")


#: Names other tools and reports use for the same params.
