"""Parsing an NNI search space: each parameter checked and typed, each mistake found in real
files either fixed with a :class:`~hpo.space.model.Notice` (bounds given in reverse order, where
the intended range is unambiguous) or refused with a :class:`~hpo.errors.SpaceError` naming
its JSON path.
"""

from __future__ import annotations

import difflib
import json
import math
from dataclasses import replace
from decimal import Decimal
from typing import Any

from hpo.errors import SpaceError
from hpo.space.limits import (
    check_integers,
    check_key_length,
    check_name,
    check_number,
    check_span,
    check_steps,
)
from hpo.space.model import (
    NESTED_SEPARATOR,
    NNI_TYPES,
    NORMAL_SPAN,
    ChoiceParam,
    Notice,
    NumericParam,
    Option,
    Param,
    Space,
)
from hpo.text import kind, show

# Keys in a parameter object that NNI and Dr.Opt files carry but that mean nothing here.
_IGNORED_PARAM_KEYS = frozenset({"_comment", "comment", "_description", "description"})


def parse_space(data: Any, path: str = "", *, key_prefix: str = "") -> Space:
    """Parse an NNI search space (the JSON object) found at JSON path ``path``.

    Raises :class:`SpaceError` naming the JSON path of the first problem; fixes it returns
    as ``Space.notices``.
    """
    notices: list[Notice] = []
    space = _parse_space(data, path, key_prefix, notices)
    if not space.params:
        raise SpaceError(path or "$", "the search space is empty: give at least one parameter")
    _check_unique_keys(space)
    return replace(space, notices=tuple(notices))


def _parse_space(data: Any, path: str, key_prefix: str, notices: list[Notice]) -> Space:
    if not isinstance(data, dict):
        raise SpaceError(path or "$", f"a search space must be a JSON object, got {kind(data)}")
    params: list[Param] = []
    for name, spec in data.items():
        at = _join(path, name)
        if not isinstance(name, str):  # parsed from a YAML or JSON file, keys are text
            raise SpaceError(at, f"a parameter name must be text, got {show(name)}")
        if not name:
            raise SpaceError(at, "a parameter name must not be empty")
        if name.startswith("_"):
            raise SpaceError(at, f"parameter names starting with '_' are reserved by NNI: {name!r}")
        check_name(name, "a parameter name", at)
        check_key_length(key_prefix + name, at)
        params.append(_parse_param(name, spec, at, key_prefix + name, notices))
    return Space(tuple(params))


def _parse_param(name: str, spec: Any, path: str, key: str, notices: list[Notice]) -> Param:
    if not isinstance(spec, dict):
        raise SpaceError(
            path,
            f'expected {{"_type": ..., "_value": [...]}}, got {show(spec)} '
            "(fixed values belong in the config's params)",
        )
    if "_type" not in spec:
        raise SpaceError(path, f"missing _type (one of {', '.join(NNI_TYPES)})")
    if "_value" not in spec:
        raise SpaceError(path, "missing _value")
    for extra in spec.keys() - {"_type", "_value"}:
        if extra in _IGNORED_PARAM_KEYS:
            continue
        close = difflib.get_close_matches(extra, ["_type", "_value"], n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        notices.append(Notice(f"{path}.{extra}", f"unknown key ignored{hint}"))
    nni_type = spec["_type"]
    if not isinstance(nni_type, str):
        raise SpaceError(f"{path}._type", f"expected a type name, got {show(nni_type)}")
    value_path = f"{path}._value"
    value = spec["_value"]
    if not isinstance(value, list):
        raise SpaceError(value_path, f"{nni_type} needs a list, got {show(value)}")
    if nni_type == "choice":
        return _parse_choice(name, value, path, key, notices)
    if nni_type not in NNI_TYPES:
        close = difflib.get_close_matches(nni_type, NNI_TYPES, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise SpaceError(
            f"{path}._type", f"unknown type {nni_type!r}; {hint}known: {', '.join(NNI_TYPES)}"
        )
    numbers = [_number(v, f"{value_path}[{i}]", nni_type) for i, v in enumerate(value)]
    parser = _NUMERIC_PARSERS[nni_type]
    return parser(name, key, path, numbers, notices)


def _parse_choice(
    name: str, values: list[Any], path: str, key: str, notices: list[Notice]
) -> ChoiceParam:
    value_path = f"{path}._value"
    if not values:
        raise SpaceError(value_path, "choice needs at least one option, got []")
    options: list[Option] = []
    for i, raw in enumerate(values):
        at = f"{value_path}[{i}]"
        if isinstance(raw, dict):
            options.append(_parse_nested_option(raw, at, key, notices))
        elif isinstance(raw, float) and not math.isfinite(raw):
            raise SpaceError(at, f"options must be finite, got {show(raw)}")
        elif raw is None or isinstance(raw, bool | int | float | str):
            options.append(Option(label=raw, value=raw))
        else:
            # Lists (e.g. multistep milestones) are valid options; Optuna stores their JSON.
            options.append(Option(label=json.dumps(raw), value=raw))
    seen: dict[Any, Option] = {}  # by label: 1, 1.0 and true are one option, as before
    for option in options:
        earlier = seen.setdefault(option.label, option)
        if earlier is not option:
            raise SpaceError(
                value_path,
                f"choice has duplicate options {show(earlier.value)} and {show(option.value)} "
                "(each option must be distinct)",
            )
    return ChoiceParam(name=name, key=key, path=path, options=tuple(options))


def _parse_nested_option(raw: dict[str, Any], path: str, key: str, notices: list[Notice]) -> Option:
    if "_name" not in raw:
        raise SpaceError(path, "an object option of a choice needs a _name (a nested sub-space)")
    option_name = raw["_name"]
    if not isinstance(option_name, str) or not option_name:
        raise SpaceError(f"{path}._name", f"expected a non-empty string, got {show(option_name)}")
    check_name(option_name, "an option's _name", f"{path}._name")
    sub = {k: v for k, v in raw.items() if k != "_name"}
    prefix = f"{key}{NESTED_SEPARATOR}{option_name}{NESTED_SEPARATOR}"
    # An option without sub-parameters still reaches the trial as {"_name": ...}, as in NNI.
    subspace = _parse_space(sub, path, prefix, notices)
    return Option(label=option_name, value=option_name, subspace=subspace)


def _parse_randint(
    name: str, key: str, path: str, v: list[float], notices: list[Notice]
) -> NumericParam:
    at = f"{path}._value"
    if len(v) == 1:
        notices.append(Notice(at, f"legacy randint [upper] read as [0, {show(v[0])})"))
        v = [0.0, v[0]]
    if len(v) != 2:
        raise SpaceError(at, f"randint needs [lower, upper], got {show(v)}")
    for i, x in enumerate(v):
        if not float(x).is_integer():
            raise SpaceError(f"{at}[{i}]", f"randint bounds must be integers, got {show(x)}")
    check_integers(v[0], v[1], path, "randint")
    lower, upper = int(v[0]), int(v[1])
    if lower >= upper:
        raise SpaceError(
            at,
            f"randint needs [lower, upper] with lower < upper (upper is excluded), got {show(v)}",
        )
    return NumericParam(
        name, key, path, "randint", (lower, upper), lower, upper - 1, step=1, integer=True
    )


def _parse_uniform(
    name: str, key: str, path: str, v: list[float], notices: list[Notice]
) -> NumericParam:
    low, high = _bounds(v, path, "uniform", notices)
    return NumericParam(name, key, path, "uniform", (low, high), low, high)


def _parse_loguniform(
    name: str, key: str, path: str, v: list[float], notices: list[Notice]
) -> NumericParam:
    low, high = _bounds(v, path, "loguniform", notices)
    if low <= 0:
        raise SpaceError(
            f"{path}._value", f"loguniform needs 0 < low < high, got {show([low, high])}"
        )
    return NumericParam(name, key, path, "loguniform", (low, high), low, high, log=True)


def _parse_quniform(name: str, key: str, path: str, v: list[float], notices: list[Notice]) -> Param:
    low, high, q = _quantised_bounds(v, path, "quniform", notices)
    values = _nni_quniform_values(low, high, q)
    if values is not None:
        # Bounds that are not multiples of q: NNI clips the rounded value to them, so they
        # are values too, and the grid between is not evenly spaced: a choice of them all.
        shown = ", ".join(show(x) for x in values[:10]) + (", …" if len(values) > 10 else "")
        notices.append(
            Notice(
                f"{path}._value",
                f"quniform {show([low, high, q])} takes NNI's values clip(round(x/q)·q, low, "
                f"high) = {shown}: searched as a choice of them",
            )
        )
        options = tuple(Option(label=x, value=x) for x in values)
        return ChoiceParam(name=name, key=key, path=path, options=options)
    lo, hi = _grid_within(low, high, q, path, "quniform")
    integer = all(float(x).is_integer() for x in (lo, hi, q))
    if integer:
        check_integers(lo, hi, path, "quniform")
    return NumericParam(
        name, key, path, "quniform", (low, high, q), lo, hi, step=q, integer=integer
    )


def _nni_quniform_values(low: float, high: float, q: float) -> list[float | int] | None:
    """NNI's quniform values, clip(round(x / q) · q, low, high) for x in [low, high] (round
    half to even, as NumPy's), when a bound is not a multiple of q and they are few; None when
    they are the multiples of q from low to high (or too many to list: then those)."""
    dq, dlow, dhigh = Decimal(repr(q)), Decimal(repr(low)), Decimal(repr(high))
    if dlow % dq == 0 and dhigh % dq == 0:
        return None
    first = int((dlow / dq).to_integral_value(rounding="ROUND_HALF_EVEN"))
    last = int((dhigh / dq).to_integral_value(rounding="ROUND_HALF_EVEN"))
    if last - first > MAX_IRREGULAR_QUNIFORM:
        return None
    values = sorted({min(max(k * dq, dlow), dhigh) for k in range(first, last + 1)})
    integer = all(float(x).is_integer() for x in (low, high, q))
    return [int(x) if integer else float(x) for x in values]


def _parse_qloguniform(
    name: str, key: str, path: str, v: list[float], notices: list[Notice]
) -> NumericParam:
    low, high, q = _quantised_bounds(v, path, "qloguniform", notices)
    if low <= 0:
        raise SpaceError(
            f"{path}._value", f"qloguniform needs 0 < low < high, got {show([low, high, q])}"
        )
    lo, hi = _grid_within(low, high, q, path, "qloguniform")
    return _log_quantised(name, key, path, "qloguniform", (low, high, q), lo, hi, q)


def _parse_normal(
    name: str, key: str, path: str, v: list[float], notices: list[Notice]
) -> NumericParam:
    mu, sigma = _mu_sigma(v, path, "normal")
    low, high = mu - NORMAL_SPAN * sigma, mu + NORMAL_SPAN * sigma
    check_span(low, high, path, "normal")
    return NumericParam(name, key, path, "normal", (mu, sigma), low, high)


def _parse_qnormal(
    name: str, key: str, path: str, v: list[float], notices: list[Notice]
) -> NumericParam:
    mu, sigma, q = _mu_sigma_q(v, path, "qnormal")
    check_span(mu - NORMAL_SPAN * sigma, mu + NORMAL_SPAN * sigma, path, "qnormal")
    lo, hi = _grid_within(mu - NORMAL_SPAN * sigma, mu + NORMAL_SPAN * sigma, q, path, "qnormal")
    integer = all(float(x).is_integer() for x in (lo, hi, q))
    if integer:
        check_integers(lo, hi, path, "qnormal")
    return NumericParam(name, key, path, "qnormal", (mu, sigma, q), lo, hi, step=q, integer=integer)


def _parse_lognormal(
    name: str, key: str, path: str, v: list[float], notices: list[Notice]
) -> NumericParam:
    mu, sigma = _mu_sigma(v, path, "lognormal")
    low, high = _exp_range(mu, sigma, path, "lognormal")
    return NumericParam(name, key, path, "lognormal", (mu, sigma), low, high, log=True)


def _parse_qlognormal(
    name: str, key: str, path: str, v: list[float], notices: list[Notice]
) -> NumericParam:
    mu, sigma, q = _mu_sigma_q(v, path, "qlognormal")
    low, high = _exp_range(mu, sigma, path, "qlognormal")
    lo, hi = _grid_within(low, high, q, path, "qlognormal")
    return _log_quantised(name, key, path, "qlognormal", (mu, sigma, q), lo, hi, q)


def _log_quantised(
    name: str,
    key: str,
    path: str,
    nni_type: str,
    nni_value: tuple[float, ...],
    lo: float,
    hi: float,
    q: float,
) -> NumericParam:
    integer = all(float(x).is_integer() for x in (lo, hi, q))
    if integer:
        check_integers(lo, hi, path, nni_type)
    if integer and q == 1:
        # Optuna's IntDistribution has a log scale for step 1: no rounding needed.
        return NumericParam(name, key, path, nni_type, nni_value, lo, hi, log=True, integer=True)
    return NumericParam(
        name, key, path, nni_type, nni_value, lo, hi, log=True, quantum=q, integer=integer
    )


_NUMERIC_PARSERS = {
    "randint": _parse_randint,
    "uniform": _parse_uniform,
    "quniform": _parse_quniform,
    "loguniform": _parse_loguniform,
    "qloguniform": _parse_qloguniform,
    "normal": _parse_normal,
    "qnormal": _parse_qnormal,
    "lognormal": _parse_lognormal,
    "qlognormal": _parse_qlognormal,
}


# --------------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------------


def _number(x: Any, path: str, nni_type: str) -> float:
    if isinstance(x, bool) or not isinstance(x, int | float):
        raise SpaceError(path, f"{nni_type} needs numbers, got {show(x)}")
    return check_number(x, path, nni_type)


def _bounds(v: list[float], path: str, nni_type: str, notices: list[Notice]) -> tuple[float, float]:
    at = f"{path}._value"
    if len(v) != 2:
        raise SpaceError(at, f"{nni_type} needs [low, high], got {show(v)}")
    low, high = v
    if low == high:
        raise SpaceError(
            at,
            f"{nni_type} needs [low, high] with low < high, got {show(v)} "
            "(a fixed value belongs in the config's params)",
        )
    if low > high:
        notices.append(Notice(at, f"bounds reversed {show(v)}; using [{show(high)}, {show(low)}]"))
        low, high = high, low
    check_span(low, high, path, nni_type)
    return low, high


def _quantised_bounds(
    v: list[float], path: str, nni_type: str, notices: list[Notice]
) -> tuple[float, float, float]:
    at = f"{path}._value"
    if len(v) != 3:
        raise SpaceError(at, f"{nni_type} needs [low, high, q], got {show(v)}")
    low, high = _bounds(v[:2], path, nni_type, notices)
    q = v[2]
    if q <= 0:
        raise SpaceError(f"{at}[2]", f"{nni_type} needs q > 0, got {show(q)}")
    check_steps(low, high, q, path, nni_type)
    return low, high, q


def _mu_sigma(v: list[float], path: str, nni_type: str) -> tuple[float, float]:
    at = f"{path}._value"
    if len(v) != 2:
        raise SpaceError(at, f"{nni_type} needs [mu, sigma], got {show(v)}")
    mu, sigma = v
    if sigma <= 0:
        raise SpaceError(f"{at}[1]", f"{nni_type} needs sigma > 0, got {show(sigma)}")
    return mu, sigma


def _mu_sigma_q(v: list[float], path: str, nni_type: str) -> tuple[float, float, float]:
    at = f"{path}._value"
    if len(v) != 3:
        raise SpaceError(at, f"{nni_type} needs [mu, sigma, q], got {show(v)}")
    mu, sigma = _mu_sigma(v[:2], path, nni_type)
    q = v[2]
    if q <= 0:
        raise SpaceError(f"{at}[2]", f"{nni_type} needs q > 0, got {show(q)}")
    return mu, sigma, q


def _exp_range(mu: float, sigma: float, path: str, nni_type: str) -> tuple[float, float]:
    lo_exp, hi_exp = mu - NORMAL_SPAN * sigma, mu + NORMAL_SPAN * sigma
    if hi_exp > 700 or lo_exp < -700:
        raise SpaceError(
            f"{path}._value",
            f"{nni_type} [mu, sigma] = {show([mu, sigma])} spans exp({show(lo_exp)}).."
            f"exp({show(hi_exp)}), beyond floating point; mu and sigma are in log space",
        )
    return math.exp(lo_exp), math.exp(hi_exp)


#: A quniform whose bounds are not multiples of q is listed as a choice up to this many values;
#: beyond, its grid is the multiples of q inside the bounds.
MAX_IRREGULAR_QUNIFORM = 1000


def _grid_within(
    low: float, high: float, q: float, path: str, nni_type: str
) -> tuple[float, float]:
    """The smallest and largest multiples of q in [low, high], computed exactly."""
    check_steps(low, high, q, path, nni_type)
    dq, dlow, dhigh = Decimal(repr(q)), Decimal(repr(low)), Decimal(repr(high))
    lo = (dlow / dq).to_integral_value(rounding="ROUND_CEILING") * dq
    hi = (dhigh / dq).to_integral_value(rounding="ROUND_FLOOR") * dq
    if lo > hi:
        raise SpaceError(
            f"{path}._value",
            f"{nni_type} has no multiple of q={show(q)} in [{show(low)}, {show(high)}]",
        )
    return float(lo), float(hi)


def _check_unique_keys(space: Space) -> None:
    seen: dict[str, str] = {}
    for p, _ in space.walk():
        key = p.optuna_key if isinstance(p, ChoiceParam) else p.key
        if key in seen:
            raise SpaceError(p.path, f"parameter name {key!r} is also used at {seen[key]}")
        seen[key] = p.path


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
