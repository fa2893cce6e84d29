"""The kinds of objective a study can name, and what each needs from the rest of hpo.

A new kind is one more :class:`ObjectiveKind` here, with an adapter module of its own beside
``function.py``, ``command.py`` and ``training.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpo.objectives.base import Objective
from hpo.objectives.command import CommandObjective
from hpo.objectives.function import FunctionObjective
from hpo.objectives.outcome import DEFAULT_METRIC, Metric
from hpo.objectives.target import ObjectiveSpec
from hpo.objectives.training import TRAINING_METRIC, TrainingObjective, check_training_params
from hpo.space import Notice
from training.preflight import missing_inputs, missing_packages

#: (params, the searched params with the values that span each (None: unknown), JSON path of
#: the space, working directory) → (params, notices)
ParamCheck = Callable[
    [Mapping[str, Any], Mapping[str, Sequence[Any] | None], str, str],
    tuple[dict[str, Any], list[Notice]],
]


def _no_check(
    params: Mapping[str, Any],
    searched: Mapping[str, Sequence[Any] | None],
    space_path: str,
    cwd: str,
) -> tuple[dict[str, Any], list[Notice]]:
    return dict(params), []


#: (the objective, the study's fixed params, the searched param names) → one sentence per
#: thing this machine lacks to run a trial (a data set, a package, a directory).
Preflight = Callable[[ObjectiveSpec, Mapping[str, Any], frozenset[str]], list[str]]


#: What adds the built-in objective's packages to an install (pyproject's extra): hpo alone
#: is the coordinator's install, without torch.
TRAIN_EXTRA = "hpo[train]"


def _training_preflight(
    spec: ObjectiveSpec, params: Mapping[str, Any], searched: frozenset[str]
) -> list[str]:
    return _missing_packages() + missing_inputs(params, searched=searched)


def _missing_packages() -> list[str]:
    missing = missing_packages()
    if not missing:
        return []
    verb = "is" if len(missing) == 1 else "are"
    return [
        f"{' and '.join(missing)} {verb} not installed in this Python, and the built-in "
        f"objective trains with them: pip install '{TRAIN_EXTRA}'"
    ]


def _command_preflight(
    spec: ObjectiveSpec, params: Mapping[str, Any], searched: frozenset[str]
) -> list[str]:
    if Path(spec.directory).is_dir():
        return []
    return [f"the command's directory {spec.directory} is not a directory on this machine"]


def _nothing_needed(
    spec: ObjectiveSpec, params: Mapping[str, Any], searched: frozenset[str]
) -> list[str]:
    return []  # a function's module is imported when the worker starts: that is its check


@dataclass(frozen=True)
class ObjectiveKind:
    name: str
    #: The metric of a study that names none (``val_acc`` for training, NNI's ``default``).
    metric: str
    load: Callable[[ObjectiveSpec, Sequence[Metric]], Objective]
    #: Checks (and completes) a study's fixed params at create-study.
    check_params: ParamCheck
    #: What this machine lacks to run the study's trials: a worker stops on it before taking
    #: a trial; create-study and validate warn of it.
    preflight: Preflight
    #: Whether its trials write files into their own directories (which a worker must then
    #: be able to write).
    keeps_trial_files: bool = False


TRAINING = ObjectiveKind(
    "training",
    TRAINING_METRIC,
    lambda spec, metrics: TrainingObjective(metrics),
    check_training_params,
    _training_preflight,
    keeps_trial_files=True,
)
FUNCTION = ObjectiveKind("function", DEFAULT_METRIC, FunctionObjective, _no_check, _nothing_needed)
COMMAND = ObjectiveKind(
    "command",
    DEFAULT_METRIC,
    CommandObjective,
    _no_check,
    _command_preflight,
    keeps_trial_files=True,
)


def kind_of(spec: ObjectiveSpec) -> ObjectiveKind:
    if spec.is_builtin:
        return TRAINING
    return COMMAND if spec.is_command else FUNCTION


def load_objective(spec: ObjectiveSpec, metrics: Sequence[Metric]) -> Objective:
    """The objective named by a study spec, ready to run on this machine."""
    return kind_of(spec).load(spec, metrics)
