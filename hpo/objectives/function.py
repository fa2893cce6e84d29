"""A user's Python function as the objective: ``module:function``, or Dr.Opt's ``train.py``.

The function takes the trial's params (a plain dict: the fixed ``params`` of the config merged
with the sampled ones, nested choices as NNI gives them) and optionally a ``report(value,
step)`` callable for per-epoch values; it returns the metric. This is the Dr.Opt convention
(``train.py`` with ``run(params)``), so existing files work unchanged:

- ``run(params)`` → a number, or a dict with the study's metric names (NNI's ``"default"``
  stands for the single metric);
- ``run(params, report)`` → the same, after calling ``report(val_acc, epoch)`` every epoch so
  that pruners can stop a bad trial early.

Numbers in a returned dict that are not objectives are kept as the trial's ``hpo:metrics``.
The function runs in the worker's own process.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Callable, Sequence
from typing import Any

from hpo.errors import ObjectiveLoadError
from hpo.objectives.base import Attempt, Objective, Report
from hpo.objectives.outcome import Metric, Outcome, outcome_of
from hpo.objectives.target import ObjectiveSpec
from hpo.text import first_line

TrialFunction = Callable[[dict[str, Any], Report], Any]


class FunctionObjective(Objective):
    """Calls the user's function in this process."""

    def __init__(self, spec: ObjectiveSpec, metrics: Sequence[Metric]) -> None:
        super().__init__(metrics)
        self.function = adapt(import_function(spec))

    def run(self, params: dict[str, Any], attempt: Attempt) -> Outcome:
        return outcome_of(self.function(params, attempt.report), self.metrics)


def import_function(spec: ObjectiveSpec) -> Callable[..., Any]:
    """The function named by ``module:function``, imported on this machine."""
    module_name, _, function_name = spec.target.partition(":")
    for directory in reversed(spec.path):
        if directory not in sys.path:
            sys.path.insert(0, directory)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            looked = (
                f" (looked in {', '.join(spec.path)} and on the Python path)" if spec.path else ""
            )
            raise ObjectiveLoadError(
                f"cannot import objective module {module_name!r}{looked}"
            ) from None
        raise ObjectiveLoadError(f"importing {module_name!r} failed: {exc}") from None
    except Exception as exc:
        raise ObjectiveLoadError(
            f"importing {module_name!r} failed: {type(exc).__name__}: {first_line(exc)}"
        ) from None
    function: Callable[..., Any] | None = getattr(module, function_name, None)
    if not callable(function):
        raise ObjectiveLoadError(
            f"module {module_name!r} ({getattr(module, '__file__', '?')}) has no function "
            f"{function_name!r}"
        )
    return function


def adapt(function: Callable[..., Any]) -> TrialFunction:
    """Call ``function(params)`` or ``function(params, report)`` as its signature allows."""
    if _takes_report(function):
        return function

    def without_report(params: dict[str, Any], report: Report) -> Any:
        return function(params)

    return without_report


def _takes_report(function: Callable[..., Any]) -> bool:
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return False
    positional = [
        p
        for p in parameters
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    variadic = any(p.kind == inspect.Parameter.VAR_POSITIONAL for p in parameters)
    return len(positional) >= 2 or variadic
