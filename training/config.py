"""The typed training config, built from a trial's params.

Param names follow the course reports (``lr``, ``momentum``, ``warmup_period``, ``kd_alpha``,
…). Unknown names are refused with a suggestion, since a typo (``learning_rate``) would
otherwise be a silently ignored hyperparameter. This module imports no torch: hpo checks a
study's params with it at ``create-study``.

Units: ``num_epochs``, ``step_size``, ``milestones``, ``cycle_epochs`` and
``early_stopping_patience`` count epochs; ``warmup_period`` counts optimiser steps (batches),
as in the Food-11 transfer-learning report; ``lr`` is the peak learning rate of every schedule.
"""

from __future__ import annotations

import difflib
import itertools
import math
import os
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

# ConfigError and MODEL_NAMES are this module's to its importers too.
from training.param_values import MODEL_NAMES as MODEL_NAMES
from training.param_values import (
    OPTIONAL,
    Balance,
    DataPlacement,
    Device,
    Optimizer,
    PadMode,
    Schedule,
    Warmup,
    coerce,
    in_range,
    positive,
)
from training.param_values import ConfigError as ConfigError


@dataclass(frozen=True)
class TrainConfig:
    # what to train, on what
    model: str = "simple_cnn"
    dataset: str = "digits"
    data_dir: str | None = None
    train_split: str | None = None  # e.g. "skewed_training" for Food-11's skewed variant
    download: bool = False  # cifar10: fetch with torchvision on a machine with a network
    resolution: int | None = None  # input size in pixels; default per data set
    subset_per_class: int | None = None  # train on at most this many images per class
    val_fraction: float = 0.1  # carved from the training set where a data set has no val split
    width: float = 1.0  # channel multiplier (dw_student)
    # optimisation
    batch_size: int = 64
    lr: float = 0.01
    optimizer: Optimizer = "sgd"
    momentum: float = 0.9
    nesterov: bool = False
    # sgd, adam: PyTorch's L2 term. adamw: decoupled, scaled by the rate. sgdw: decoupled from
    # the rate (the shrink per step at the peak rate, whatever lr is: airbench's convention).
    weight_decay: float = 0.0
    bias_lr_scale: float = 1.0  # rate multiplier for BatchNorm shifts (airbench: 64)
    num_epochs: int = 10
    lr_schedule: Schedule = "constant"
    step_size: int = 7  # epochs between decays (step)
    gamma: float = 0.1  # decay factor (step, multistep)
    milestones: tuple[int, ...] = ()  # decays after these many epochs (multistep)
    cycle_epochs: float | None = None  # one triangular cycle, up and down (None: the run)
    warmup_period: int = 0  # optimiser steps of warmup (the time constant τ if exponential)
    warmup: Warmup = "linear"  # exponential: pytorch_warmup's, as the Food-11 report used
    label_smoothing: float = 0.0
    balance: Balance = "none"
    early_stopping_patience: int | None = None
    # transfer learning and distillation
    pretrained: str | None = None  # local weights file
    freeze_backbone: bool = False
    teacher: str | None = None  # checkpoint written by training (or a weights file)
    teacher_model: str | None = None  # the teacher's architecture when the file has none
    kd_temperature: float = 4.0
    kd_alpha: float = 0.9  # weight of the distillation term
    # network pruning (the compression report): fine-tune the ``pretrained`` network in
    # ``prune_rounds`` rounds, each first keeping ``prune_rate`` of its channels (dw_student)
    prune_rate: float | None = None
    prune_rounds: int = 1
    # running
    seed: int = 0
    device: Device = "auto"
    augment: bool = True
    translate: int | None = None  # pixels of random shift (small images; default size / 8)
    pad_mode: PadMode = "zeros"  # what a shift brings in at the edge
    alternate_flip: bool = False  # each image flipped every other epoch instead of at random
    tta: bool = False  # evaluate on the mean of flipped and shifted views
    checkpoint: str | None = None  # where to save the best model (e.g. a future teacher)
    cache_dir: str | None = None  # decoded-image cache (default $HPO_CACHE_DIR or ~/.cache/hpo)
    # The training state after every epoch; a run that finds it resumes from there (hpo sets
    # it so that a retried trial continues where its dead worker stopped).
    state_file: str | None = None
    # Seconds between two writes of that state (0: after every epoch). A retry then loses at
    # most this much training; a short trial writes once, at its end, instead of every epoch.
    state_every: float = 0.0
    # Where the decoded data set lives while training (training.placement): on the GPU when
    # it is at most gpu_data_fraction of the GPU's memory, else in host memory when at most
    # host_data_fraction of the host's, else read from the memory-mapped cache file.
    data_placement: DataPlacement = "auto"
    gpu_data_fraction: float = 0.25
    host_data_fraction: float = 0.5
    # The model through torch.compile, kept compiled for the next trials of the same graph in
    # this process (a worker's); the compile seconds and the seconds saved are in the metrics.
    compile: bool = False

    @classmethod
    def from_params(cls, params: Mapping[str, Any], *, searched: Searched = ()) -> TrainConfig:
        """The config of ``params``, every value and every rule between values checked.

        ``searched``: the params whose values come later, one per trial (hpo's create-study
        checks a study's fixed params with the searched ones named here), each with the values
        that span its range where known (see :data:`Searched`). A rule between params that
        involves one of them is refused only where it breaks for every value the search can
        give (``prune_rounds 20`` with ``num_epochs 5`` whatever ``prune_rate`` is); otherwise it
        is left to the trial, which checks it with every value known (a fixed ``prune_rounds``
        is fine while ``prune_rate`` is searched).
        """
        return cls.checked(params, searched=searched)[0]

    @classmethod
    def checked(
        cls, params: Mapping[str, Any], *, searched: Searched = ()
    ) -> tuple[TrainConfig, list[str]]:
        """:meth:`from_params`, with the warnings of :func:`rule_warnings` (one pass)."""
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in params.items():
            if key not in known:
                raise ConfigError(f"unknown training param {key!r}{suggest(key)}")
            if value is None and key not in OPTIONAL:
                continue  # a null in a config means "the default"
            values[key] = coerce(key, value)
        config = cls(**values)
        config.check()
        for rule in RULES:
            if not set(rule.names) & set(searched):
                message = rule.broken(config, values)
                if message:
                    raise ConfigError(message)
        warnings = []
        for rule, message, always in _searched_rules(values, searched):
            if always:
                raise ConfigError(message)
            names = ", ".join(n for n in rule.names if n in searched)
            warnings.append(f"{message} for some values of {names}: those trials fail")
        return config, warnings

    def check(self) -> None:
        """Each value alone (the rules between values are ``RULES``)."""
        positive("batch_size", self.batch_size)
        positive("num_epochs", self.num_epochs)
        positive("lr", self.lr)
        in_range("momentum", self.momentum, 0.0, 1.0, high_open=True)
        in_range("weight_decay", self.weight_decay, 0.0, math.inf)
        in_range("label_smoothing", self.label_smoothing, 0.0, 1.0, high_open=True)
        in_range("val_fraction", self.val_fraction, 0.0, 1.0, low_open=True, high_open=True)
        in_range("kd_alpha", self.kd_alpha, 0.0, 1.0)
        in_range("state_every", self.state_every, 0.0, math.inf)
        in_range("gpu_data_fraction", self.gpu_data_fraction, 0.0, 1.0, low_open=True)
        in_range("host_data_fraction", self.host_data_fraction, 0.0, 1.0, low_open=True)
        positive("kd_temperature", self.kd_temperature)
        positive("width", self.width)
        positive("bias_lr_scale", self.bias_lr_scale)
        if self.translate is not None:
            in_range("translate", self.translate, 0, math.inf)
        positive("step_size", self.step_size)
        positive("gamma", self.gamma)
        if self.warmup_period < 0:
            raise ConfigError(f"warmup_period must be ≥ 0 steps, got {self.warmup_period}")
        if self.early_stopping_patience is not None:
            positive("early_stopping_patience", self.early_stopping_patience)
        if self.subset_per_class is not None:
            positive("subset_per_class", self.subset_per_class)
        if self.resolution is not None:
            positive("resolution", self.resolution)
        if list(self.milestones) != sorted(set(self.milestones)):
            raise ConfigError(f"milestones must increase, got {list(self.milestones)}")
        if self.cycle_epochs is not None:
            positive("cycle_epochs", self.cycle_epochs)
        positive("prune_rounds", self.prune_rounds)
        if self.prune_rate is not None:
            in_range("prune_rate", self.prune_rate, 0.0, 1.0, low_open=True)


#: The searched params: their names alone (their values unknown), or each with the values that
#: span its range (a choice's options; a range's ends and middle), or None where unknown.
Searched = Mapping[str, Sequence[Any] | None] | Collection[str]

#: Past this many combinations of searched values a rule is left to the trials unchecked.
_MAX_COMBINATIONS = 4096


def rule_warnings(params: Mapping[str, Any], searched: Searched) -> list[str]:
    """What some (not all) values of the searched params will break: each such trial fails.

    ``params``: the fixed params; ConfigError where they are wrong alone or together."""
    return TrainConfig.checked(params, searched=searched)[1]


def _searched_rules(
    values: Mapping[str, Any], searched: Searched
) -> Iterator[tuple[Rule, str, bool]]:
    """Each rule involving a searched param that some combination of the searched values
    breaks: (rule, its message, whether every valid combination breaks it)."""
    if not isinstance(searched, Mapping):
        return  # names only: nothing is known of their values
    for rule in RULES:
        names = [n for n in rule.names if n in searched]
        if not names:
            continue
        options = [searched[n] for n in names]
        if any(o is None or not o for o in options):
            continue
        if math.prod(len(o) for o in options if o is not None) > _MAX_COMBINATIONS:
            continue
        first = ""
        passed = broken = 0
        for combination in itertools.product(*(o for o in options if o is not None)):
            trial = dict(values)
            try:
                for name, value in zip(names, combination, strict=True):
                    if value is None and name not in OPTIONAL:
                        trial.pop(name, None)
                    else:
                        trial[name] = coerce(name, value)
                config = TrainConfig(**trial)
                config.check()
            except (ConfigError, TypeError, ValueError):
                continue  # a value bad alone (an open range's end): no evidence either way
            message = rule.broken(config, trial)
            if message is None:
                passed += 1
            else:
                broken += 1
                first = first or message
        if broken:
            if passed:
                yield rule, first, False
            else:
                yield rule, f"{first} (whatever the search gives {', '.join(names)})", True


@dataclass(frozen=True)
class Rule:
    """A rule between params: ``broken(config, given)`` says what is wrong, or None.

    ``given``: the params given a value (a param given where it changes nothing is refused:
    searched, it would be a dimension of the search space that only adds noise)."""

    names: tuple[str, ...]
    broken: Callable[[TrainConfig, Mapping[str, Any]], str | None]


def _inert_kd(key: str) -> Rule:
    return Rule(
        (key, "teacher"),
        lambda c, given: (
            f"{key} needs a teacher (teacher: a checkpoint file)"
            if c.teacher is None and key in given
            else None
        ),
    )


def _pruned(c: TrainConfig, broken: bool, message: str) -> str | None:
    return message if c.prune_rate is not None and broken else None


# No rule between nesterov and momentum: Nesterov's update with momentum 0 is plain SGD, which
# is what a trial with both gets (a grid over momentum × nesterov, as the momentum report's,
# has such trials, and they must run, not fail).
RULES: tuple[Rule, ...] = (
    Rule(
        ("freeze_backbone", "pretrained"),
        lambda c, _: (
            "freeze_backbone needs pretrained weights (pretrained: a file)"
            if c.freeze_backbone and not c.pretrained
            else None
        ),
    ),
    Rule(
        ("prune_rate", "model"),
        lambda c, _: _pruned(
            c, c.model != "dw_student", f"prune_rate works on model dw_student, not {c.model}"
        ),
    ),
    Rule(
        ("prune_rate", "pretrained"),
        lambda c, _: _pruned(
            c,
            not c.pretrained,
            "prune_rate needs the trained network to prune (pretrained: a file)",
        ),
    ),
    Rule(
        ("prune_rate", "freeze_backbone"),
        lambda c, _: _pruned(
            c, c.freeze_backbone, "prune_rate and freeze_backbone cannot be combined"
        ),
    ),
    Rule(
        ("prune_rate", "prune_rounds", "num_epochs"),
        lambda c, _: _pruned(
            c,
            c.num_epochs < c.prune_rounds,
            f"prune_rounds {c.prune_rounds} needs num_epochs ≥ {c.prune_rounds} (one per round)",
        ),
    ),
    _inert_kd("kd_temperature"),
    _inert_kd("kd_alpha"),
    Rule(
        ("prune_rounds", "prune_rate"),
        lambda c, given: (
            "prune_rounds needs prune_rate"
            if c.prune_rate is None and "prune_rounds" in given
            else None
        ),
    ),
)


SYNONYMS = {
    "learning_rate": "lr",
    "epochs": "num_epochs",
    "n_epochs": "num_epochs",
    "max_epochs": "num_epochs",
    "wd": "weight_decay",
    "bs": "batch_size",
    "batchsize": "batch_size",
    "warmup_steps": "warmup_period",
    "temperature": "kd_temperature",
    "alpha": "kd_alpha",
    "lambda": "kd_alpha",
    "patience": "early_stopping_patience",
    "arch": "model",
    "network": "model",
    "optim": "optimizer",
    "scheduler": "lr_schedule",
    "lr_scheduler": "lr_schedule",
    "img_size": "resolution",
    "image_size": "resolution",
}


def suggest(name: str) -> str:
    """``"; did you mean 'lr'?"`` for a near miss or a synonym, else nothing."""
    if name.lower() in SYNONYMS:
        return f"; did you mean {SYNONYMS[name.lower()]!r}?"
    close = difflib.get_close_matches(name, known_params(), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def cache_root(configured: str | None = None) -> Path:
    """Where a machine keeps hpo's caches: decoded data sets, local trial checkpoints."""
    return Path(configured or os.environ.get("HPO_CACHE_DIR") or Path.home() / ".cache" / "hpo")


def known_params() -> list[str]:
    return [f.name for f in fields(TrainConfig)]
