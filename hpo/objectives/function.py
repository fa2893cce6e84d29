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
import importlib.machinery
import importlib.util
import inspect
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from hpo.errors import ObjectiveLoadError
from hpo.objectives.base import Attempt, Objective, Report
from hpo.objectives.outcome import Metric, Outcome, outcome_of
from hpo.objectives.target import ObjectiveSpec
from hpo.objectives.trust import inside, refused
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
    add_to_path(spec)
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


def add_to_path(spec: ObjectiveSpec) -> None:
    """Put the study's directories in front of ``sys.path``, where the import looks first."""
    for directory in reversed(spec.path):
        if directory not in sys.path:
            sys.path.insert(0, directory)


def check_module(spec: ObjectiveSpec, allowed: Sequence[Path]) -> None:
    """Refuse a function whose module, or a package above it, would be imported from outside
    ``allowed``: each is found as the import will find it (``sys.modules``, Python's own
    modules, then ``sys.path`` with the study's directories first), before it is imported.
    Finding a submodule imports the packages above it, which passed this check first."""
    module_name = spec.target.partition(":")[0]
    add_to_path(spec)
    parts = module_name.split(".")
    for end in range(1, len(parts) + 1):
        name = ".".join(parts[:end])
        try:
            found = importlib.util.find_spec(name)
        except ValueError:  # imported already, with no spec (``__main__``): from where is unknown
            what = f"objective {spec.target} imports {name}, from no known file"
            raise refused(what, allowed) from None
        except Exception:  # the import fails the same way, and says so (ObjectiveLoadError)
            return
        if found is None:
            return
        locations = _locations(found)
        if not locations:
            raise refused(f"objective {spec.target} imports {name}, built into Python", allowed)
        for location in locations:
            if not inside(location, allowed):
                raise refused(
                    f"objective {spec.target} imports {name} from {Path(location).resolve()}",
                    allowed,
                )


def _locations(found: importlib.machinery.ModuleSpec) -> list[str]:
    """The files and directories a module is loaded from (none for a built-in or frozen
    one; every portion of a namespace package)."""
    places = [found.origin] if found.origin and found.has_location else []
    return places + list(found.submodule_search_locations or [])


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
