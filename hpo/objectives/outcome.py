"""The adapter between an Optuna trial and a training function.

A trial function takes the trial's params (a plain dict: the fixed ``params`` of the config
merged with the sampled ones, nested choices as NNI gives them) and optionally a
``report(value, step)`` callable for per-epoch values; it returns the metric. This is the
Dr.Opt convention (``train.py`` with ``run(params)``), so existing files work unchanged:

- ``run(params)`` → a number, or a dict with the study's metric names (NNI's ``"default"``
  stands for the single metric);
- ``run(params, report)`` → the same, after calling ``report(val_acc, epoch)`` every epoch so
  that pruners can stop a bad trial early (``report`` raises ``optuna.TrialPruned``).

Numbers in a returned dict that are not objectives are kept as the trial's ``hpo:metrics``.
"""

from __future__ import annotations

import importlib
import inspect
import math
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hpo.errors import ObjectiveLoadError
from hpo.spec import Metric, ObjectiveSpec

if TYPE_CHECKING:
    from optuna.trial import Trial

    from hpo.pruners import PruningSchedule

Report = Callable[[float, int], None]
TrialFunction = Callable[[dict[str, Any], Report], Any]


def load_objective(spec: ObjectiveSpec) -> TrialFunction:
    """The trial function named by a spec, imported on this machine."""
    if spec.is_builtin:
        return _training_objective
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
            f"importing {module_name!r} failed: {type(exc).__name__}: {_first_line(exc)}"
        ) from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise ObjectiveLoadError(
            f"module {module_name!r} ({getattr(module, '__file__', '?')}) has no function "
            f"{function_name!r}"
        )
    return adapt(function)


def _training_objective(params: dict[str, Any], report: Report) -> Any:
    # Imported here: torch loads only in workers that train, never for hpo --help or status.
    from training import fit

    return fit(params, report)


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


class InvalidResultError(ValueError):
    """The objective returned something that is not a value for every metric."""


@dataclass(frozen=True)
class Outcome:
    values: list[float]
    extra: dict[str, float]  # other numbers the objective returned


def outcome_of(result: Any, metrics: Sequence[Metric]) -> Outcome:
    """The objective values of a trial function's result, checked."""
    names = [m.name for m in metrics]
    if result is None:
        raise InvalidResultError("the objective returned None (a missing return?)")
    if isinstance(result, Mapping):
        values = []
        for name in names:
            if name in result:
                values.append(_finite(result[name], name))
            elif len(names) == 1 and "default" in result:
                values.append(_finite(result["default"], name))
            else:
                keys = ", ".join(map(str, result)) or "none"
                raise InvalidResultError(f"the objective returned no {name!r} (its keys: {keys})")
        extra = {
            str(k): float(v)
            for k, v in result.items()
            if k not in names and k != "default" and _is_number(v) and math.isfinite(float(v))
        }
        return Outcome(values, extra)
    if _is_number(result):
        if len(names) != 1:
            raise InvalidResultError(
                f"the objective returned one number; the study has {len(names)} objectives "
                f"({', '.join(names)}): return a dict or a tuple"
            )
        return Outcome([_finite(result, names[0])], {})
    if isinstance(result, Sequence) and not isinstance(result, str):
        if len(result) != len(names):
            raise InvalidResultError(
                f"the objective returned {len(result)} values for {len(names)} objectives "
                f"({', '.join(names)})"
            )
        return Outcome([_finite(v, n) for v, n in zip(result, names, strict=True)], {})
    raise InvalidResultError(f"the objective returned {type(result).__name__}, not a number")


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    # NumPy scalars and 0-d tensors convert; strings and lists do not count.
    return (
        hasattr(value, "__float__")
        and getattr(value, "ndim", 0) == 0
        and not isinstance(value, str)
    )


def _finite(value: Any, name: str) -> float:
    if not _is_number(value):
        raise InvalidResultError(f"the objective returned {value!r} for {name!r}, not a number")
    number = float(value)
    if not math.isfinite(number):
        raise InvalidResultError(f"the objective returned {number} for {name!r}")
    return number


class TrialReporter:
    """``report(value, step)`` for one trial: records the value and prunes if told to.

    ``step`` is the number of epochs done (1, 2, …); pruners' resources count in these units.

    Values are kept in the trial at once and written to the storage before the pruner is
    asked (only at steps where it can act, see ``hpo.pruners.PruningSchedule``), when the
    trial ends (``flush``), and otherwise at most once per ``FLUSH_SECONDS``: an epoch of real
    training (seconds or more) is written as it ends, so the dashboard follows the trial and a
    killed worker loses nothing, while sub-second epochs share one transaction.
    """

    FLUSH_SECONDS = 1.0

    def __init__(self, trial: Trial, *, schedule: PruningSchedule, multi_objective: bool) -> None:
        self._trial = trial
        self._schedule = schedule
        # Optuna keeps no intermediate values for multi-objective studies.
        self._record = not multi_objective
        self._pending: dict[int, float] = {}
        self._flushed_at = time.monotonic()
        self.last_step: int | None = None
        self.last_value: float | None = None

    def __call__(self, value: float, step: int | None = None) -> None:
        import optuna

        step = (self.last_step or 0) + 1 if step is None else int(step)
        value = float(value)
        self.last_step, self.last_value = step, value
        if not self._record:
            return
        known = self._trial._cached_frozen_trial.intermediate_values
        if step in known:
            return  # a retried trial inherits the epochs its earlier attempt reported
        known[step] = value
        self._pending[step] = value
        due = self._schedule.due(step)
        if due or time.monotonic() - self._flushed_at >= self.FLUSH_SECONDS:
            self.flush()
        if due:
            if self._trial.should_prune():
                raise optuna.TrialPruned(f"pruned at step {step} (value {value:.6g})")
            self._schedule.passed(step)

    def flush(self) -> None:
        """Write the values not yet in the storage (one transaction where the storage can)."""
        if not self._pending:
            return
        storage = self._trial.storage
        backend = getattr(storage, "_backend", storage)
        write_many = getattr(backend, "set_trial_intermediate_values", None)
        if write_many is not None:
            write_many(self._trial._trial_id, dict(self._pending))
        else:
            for step, value in self._pending.items():
                storage.set_trial_intermediate_value(self._trial._trial_id, step, value)
        self._pending.clear()
        self._flushed_at = time.monotonic()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
