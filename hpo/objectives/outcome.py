"""What an objective's run comes to: values for the study's metrics, or a typed failure.

A trial function returns a number, a dict or a sequence; :func:`outcome_of` turns that into an
:class:`Outcome` with one finite value per metric of the study (NNI's ``"default"`` key stands
for a single metric), keeping the other numbers of a dict as the trial's metrics.

When a run raises instead, :func:`failure_of` decides from the exception's *type* what the
trial becomes (the message only explains):

- diverged (a NaN / infinite loss or result: ``FloatingPointError``, :class:`NonFiniteResultError`)
  → PRUNED, so that samplers learn to avoid that region;
- out of memory (``MemoryError``, torch's out-of-memory errors) → FAIL;
- missing data (``FileNotFoundError``, which the data loaders' errors are) → FAIL;
- anything else, the user's own error → FAIL.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from hpo.text import first_line

Direction = Literal["maximize", "minimize"]
DIRECTIONS: tuple[Direction, ...] = ("maximize", "minimize")
#: The metric a bare number returned by an objective stands for (NNI's name for it).
DEFAULT_METRIC = "default"


@dataclass(frozen=True)
class Metric:
    """One objective value: the key it has in the objective's result, and its direction."""

    name: str
    direction: Direction


@dataclass(frozen=True)
class Outcome:
    """A finished run: one value per metric, the other numbers it returned, and trial
    attributes the objective wants stored with the trial (name → JSON value)."""

    values: list[float]
    metrics: dict[str, float] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)
    #: Files the trial produced that are worth keeping (``"weights"``: its model's best
    #: weights), which the worker keeps for the study's best trials.
    files: dict[str, Path] = field(default_factory=dict)


class InvalidResultError(ValueError):
    """The objective returned something that is not a value for every metric."""


class NonFiniteResultError(InvalidResultError):
    """The objective returned NaN or an infinity for a metric: the run diverged."""


class TrialFailedError(Exception):
    """The run failed for a reason its message states in full (a command's exit status and
    the end of its stderr, a time limit): the trial FAILs with that reason as it is."""


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
            elif len(names) == 1 and DEFAULT_METRIC in result:
                values.append(_finite(result[DEFAULT_METRIC], name))
            else:
                keys = ", ".join(map(str, result)) or "none"
                raise InvalidResultError(f"the objective returned no {name!r} (its keys: {keys})")
        extra = {
            str(k): float(v)
            for k, v in result.items()
            if k not in names and k != DEFAULT_METRIC and _is_number(v) and math.isfinite(float(v))
        }
        return Outcome(values, extra)
    if _is_number(result):
        if len(names) != 1:
            raise InvalidResultError(
                f"the objective returned one number; the study has {len(names)} objectives "
                f"({', '.join(names)}): return a dict or a tuple"
            )
        return Outcome([_finite(result, names[0])])
    if isinstance(result, Sequence) and not isinstance(result, str):
        if len(result) != len(names):
            raise InvalidResultError(
                f"the objective returned {len(result)} values for {len(names)} objectives "
                f"({', '.join(names)})"
            )
        return Outcome([_finite(v, n) for v, n in zip(result, names, strict=True)])
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
        raise NonFiniteResultError(f"the objective returned {number} for {name!r}")
    return number


FailureKind = Literal["diverged", "out_of_memory", "missing_data", "error"]


@dataclass(frozen=True)
class Failure:
    """Why a run raised, as the trial records it."""

    kind: FailureKind
    reason: str  # one line, for hpo:error

    @property
    def prunes(self) -> bool:
        """A diverged run is pruned rather than failed, so that samplers learn from it."""
        return self.kind == "diverged"


def failure_of(exc: BaseException) -> Failure:
    """What an exception raised by an objective makes of its trial (by the exception's type)."""
    if isinstance(exc, NonFiniteResultError):
        return Failure("diverged", str(exc))
    if isinstance(exc, InvalidResultError | TrialFailedError):
        return Failure("error", str(exc))
    if isinstance(exc, FloatingPointError):
        return Failure("diverged", f"diverged: {first_line(exc)}")
    if isinstance(exc, MemoryError) or _torch_out_of_memory(exc):
        return Failure("out_of_memory", f"out of memory: {_describe(exc)}")
    if isinstance(exc, FileNotFoundError):
        return Failure("missing_data", _describe(exc))
    return Failure("error", _describe(exc))


def _describe(exc: BaseException) -> str:
    """``ValueError: its message`` (its first line), or the type alone when it has none."""
    name = type(exc).__name__
    line = first_line(exc)
    return name if line == name else f"{name}: {line}"


def _torch_out_of_memory(exc: BaseException) -> bool:
    """torch's GPU allocator raises ``torch.cuda.OutOfMemoryError``; its CPU allocator a plain
    RuntimeError, whose message is then the only mark (it changes the reason's wording only:
    the trial fails either way). torch is not imported for this: a run that raised a torch
    error has imported it."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(exc, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(exc, RuntimeError) and "can't allocate memory" in str(exc)
