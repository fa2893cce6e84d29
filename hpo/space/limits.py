"""What a search space can hold and still be stored and sampled: parameter names the databases
accept, numbers that floats hold, grids that Optuna's arithmetic can divide.

Each limit here was a trial failing in every worker, or a traceback at create-study, before
it was checked: a NUL in a parameter name (PostgreSQL refuses it in text), a name longer than
Optuna's 512-character column, a uniform range wider than the largest float (NumPy cannot
sample it), an integer bound past 2^53 (Optuna stores every value as a float, so it would
come back changed), a step so small that ``decimal`` cannot divide the range by it.
"""

from __future__ import annotations

import json
import math

from hpo.errors import SpaceError
from hpo.text import has_control_characters, one_line, show

#: Optuna stores a parameter's name in a VARCHAR(512) column (its nested key, for a parameter
#: of a nested choice, ``layer/conv/kernel``).
MAX_KEY_LENGTH = 512
#: Beyond 2^53 a float skips integers: an integer parameter's bounds must lie within it.
MAX_EXACT_INTEGER = 2**53
#: The most steps of q a quantised range may span: more cannot be told apart as floats, and
#: past 10^28 ``decimal`` (Optuna's and hpo's exact grid arithmetic) cannot divide at all.
MAX_GRID_STEPS = 2**53


def check_name(name: str, what: str, path: str) -> None:
    """A name without control characters: a NUL cannot be stored in PostgreSQL text, and a
    line break or an escape would break every one-line message and table that prints it."""
    if has_control_characters(name):
        raise SpaceError(
            one_line(path),
            f"{what} must not hold control characters (a NUL, a line break, …), "
            f"got {json.dumps(name)}",
        )


def check_key_length(key: str, path: str) -> None:
    if len(key) > MAX_KEY_LENGTH:
        raise SpaceError(
            one_line(path),
            f"parameter name {key[:40]!r}… is {len(key)} characters long: Optuna stores at most "
            f"{MAX_KEY_LENGTH} (the names of a nested choice's parameters included)",
        )


def check_number(x: int | float, path: str, nni_type: str) -> float:
    """A bound that is a number a float can hold (an integer of 400 digits is not)."""
    try:
        finite = math.isfinite(x)
    except OverflowError:
        digits = int(abs(x).bit_length() * math.log10(2)) + 1 if isinstance(x, int) else 0
        raise SpaceError(
            path, f"{nni_type} needs numbers a float can hold, got an integer of {digits} digits"
        ) from None
    if not finite:
        raise SpaceError(path, f"{nni_type} needs finite numbers, got {show(x)}")
    return x


def check_span(low: float, high: float, path: str, nni_type: str) -> None:
    """A range whose width is a float (sampling it computes high − low)."""
    if not (math.isfinite(low) and math.isfinite(high) and math.isfinite(high - low)):
        raise SpaceError(
            f"{path}._value",
            f"{nni_type} spans [{show(low)}, {show(high)}], wider than the largest float",
        )


def check_integers(low: float, high: float, path: str, nni_type: str) -> None:
    """Integer bounds that a float holds exactly."""
    for bound in (low, high):
        if abs(bound) > MAX_EXACT_INTEGER:
            raise SpaceError(
                f"{path}._value",
                f"{nni_type} has integer bound {show(bound)} beyond ±2^53: Optuna stores values "
                "as floats, which skip integers there",
            )


def check_steps(low: float, high: float, q: float, path: str, nni_type: str) -> None:
    """A step q that divides [low, high] into a number of steps floats can count."""
    steps = (high - low) / q
    if not math.isfinite(steps) or steps > MAX_GRID_STEPS:
        raise SpaceError(
            f"{path}._value",
            f"{nni_type} step q={show(q)} is too small for [{show(low)}, {show(high)}]: more "
            f"than 2^53 steps",
        )
