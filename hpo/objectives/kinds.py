"""The kinds of objective a study can name, and what each needs from the rest of hpo.

A new kind is one more :class:`ObjectiveKind` here, with an adapter module of its own beside
``function.py``, ``command.py`` and ``training.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hpo.objectives.base import Objective
from hpo.objectives.command import CommandObjective
from hpo.objectives.function import FunctionObjective
from hpo.objectives.outcome import DEFAULT_METRIC, Metric
from hpo.objectives.target import ObjectiveSpec
from hpo.objectives.training import TRAINING_METRIC, TrainingObjective, check_training_params
from hpo.space import Notice

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


@dataclass(frozen=True)
class ObjectiveKind:
    name: str
    #: The metric of a study that names none (``val_acc`` for training, NNI's ``default``).
    metric: str
    load: Callable[[ObjectiveSpec, Sequence[Metric]], Objective]
    #: Checks (and completes) a study's fixed params at create-study.
    check_params: ParamCheck
    #: Whether its trials write files into their own directories (which a worker must then
    #: be able to write).
    keeps_trial_files: bool = False


TRAINING = ObjectiveKind(
    "training",
    TRAINING_METRIC,
    lambda spec, metrics: TrainingObjective(metrics),
    check_training_params,
    keeps_trial_files=True,
)
FUNCTION = ObjectiveKind("function", DEFAULT_METRIC, FunctionObjective, _no_check)
COMMAND = ObjectiveKind(
    "command", DEFAULT_METRIC, CommandObjective, _no_check, keeps_trial_files=True
)


def kind_of(spec: ObjectiveSpec) -> ObjectiveKind:
    if spec.is_builtin:
        return TRAINING
    return COMMAND if spec.is_command else FUNCTION


def load_objective(spec: ObjectiveSpec, metrics: Sequence[Metric]) -> Objective:
    """The objective named by a study spec, ready to run on this machine."""
    return kind_of(spec).load(spec, metrics)
