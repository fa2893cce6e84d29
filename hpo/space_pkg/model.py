"""NNI search spaces as typed parameters and Optuna distributions.

A search space is a JSON object of parameters, each ``{"_type": T, "_value": [...]}``. This
module turns one into a :class:`Space`: a tuple of typed parameters that know their Optuna
distribution, how to suggest themselves on a trial (define-by-run, so that the parameters
of a nested ``choice`` exist only when their option is chosen), and how to turn an Optuna
value back into the value NNI would have given the trial.

The mapping of each NNI type (see ``docs/search-spaces.md``; pinned by ``tests/test_space.py``):

==============  ===================  =====================================================
NNI type        ``_value``           values hpo gives the trial / Optuna distribution
==============  ===================  =====================================================
choice          [v, ...]             one of the options / Categorical over the options
                                     (an index over the sorted options for samplers that
                                     cannot model categories, when all options are numbers)
randint         [lower, upper)       integers lower..upper-1 / Int(lower, upper-1);
                                     the legacy ``[upper]`` means [0, upper)
uniform         [low, high]          Float(low, high)
quniform        [low, high, q]       the multiples of q in [low, high] / Int or Float with
                                     step q (Int when low, high and q are integers)
loguniform      [low, high]          Float(low, high, log)
qloguniform     [low, high, q]       the multiples of q in [low, high], log-distributed /
                                     Float(log) rounded to q (Int(log) when q is 1)
normal          [mu, sigma]          Float(mu - 3σ, mu + 3σ)
qnormal         [mu, sigma, q]       the multiples of q in [mu - 3σ, mu + 3σ]
lognormal       [mu, sigma]          Float(exp(mu - 3σ), exp(mu + 3σ), log)
qlognormal      [mu, sigma, q]       the multiples of q in that range, log-distributed
==============  ===================  =====================================================

Optuna has no unbounded distribution and no log scale with a step: the normal family keeps
its 99.7 % range (±3σ) but not its bell shape, and the quantised log types sample on a
continuous log scale and round to q (the trial stores the continuous value; the objective
receives the rounded one).

Mistakes found in real files are either fixed with a :class:`Notice` (bounds given in
reverse order, where the intended range is unambiguous) or refused with a
:class:`~hpo.errors.SpaceError` that names the JSON path.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeAlias

from hpo.errors import SpaceError

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution, CategoricalChoiceType
    from optuna.trial import BaseTrial

# Optuna is imported where a distribution is built, not here: parsing a file (and refusing a
# bad one) stays fast and needs nothing but the standard library.

NNI_TYPES = (
    "choice",
    "randint",
    "uniform",
    "quniform",
    "loguniform",
    "qloguniform",
    "normal",
    "qnormal",
    "lognormal",
    "qlognormal",
)

#: How many standard deviations either side of the mean the normal family covers.
NORMAL_SPAN = 3.0

#: Separator between a nested choice, its option and a sub-parameter in Optuna names:
#: ``layer0/Conv/kernel_size``.
NESTED_SEPARATOR = "/"

#: Suffix of the Optuna name of a choice encoded as an index over its sorted options.
ORDINAL_SUFFIX = "[index]"

# Keys in a parameter object that NNI and Dr.Opt files carry but that mean nothing here.
_IGNORED_PARAM_KEYS = frozenset({"_comment", "comment", "_description", "description"})

Value: TypeAlias = Any


@dataclass(frozen=True)
class Notice:
    """Something hpo changed or ignored in a file, at a JSON path."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


# --------------------------------------------------------------------------------------------
# Typed parameters
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NumericParam:
    """A parameter of any NNI type but ``choice``."""

    name: str  # the key in its (sub-)space
    key: str  # the Optuna parameter name (prefixed inside nested choices)
    path: str  # the JSON path of the parameter, for messages
    nni_type: str
    nni_value: tuple[float, ...]  # the normalised ``_value`` (after fixes)
    low: float
    high: float
    log: bool = False
    step: float | None = None  # Optuna's step; None for a continuous distribution
    quantum: float | None = None  # rounding applied after a continuous (log) sample
    integer: bool = False

    def distribution(self) -> BaseDistribution:
        from optuna.distributions import FloatDistribution, IntDistribution

        if self.integer and self.quantum is None:
            return IntDistribution(
                int(self.low), int(self.high), log=self.log, step=int(self.step or 1)
            )
        return FloatDistribution(self.low, self.high, log=self.log, step=self.step)

    def suggest(self, trial: BaseTrial) -> Value:
        from optuna.distributions import FloatDistribution, IntDistribution

        dist = self.distribution()
        if isinstance(dist, IntDistribution):
            return trial.suggest_int(self.key, dist.low, dist.high, step=dist.step, log=dist.log)
        assert isinstance(dist, FloatDistribution)
        raw = trial.suggest_float(self.key, dist.low, dist.high, step=dist.step, log=dist.log)
        return self.decode(raw)

    def decode(self, raw: Any) -> Value:
        """The value the trial receives for the stored Optuna value ``raw``."""
        value = float(raw)
        grid = self.quantum or self.step
        if grid is not None:
            value = self.low + round((value - self.low) / grid) * grid
            value = min(max(value, self.low), self.high)
            value = _round_to_grid_digits(value, grid, self.low)
        if self.integer:
            return round(value)
        return value

    def encode(self, value: Any) -> Value:
        """The Optuna value for a trial value (a baseline); ValueError if outside the space."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"expected a number, got {_show(value)}")
        tolerance = 1e-9 * max(1.0, abs(self.low), abs(self.high))
        if not self.low - tolerance <= value <= self.high + tolerance:
            raise ValueError(f"{_show(value)} is outside [{_show(self.low)}, {_show(self.high)}]")
        grid = self.quantum or self.step
        if grid is not None:
            k = (value - self.low) / grid
            if abs(k - round(k)) > 1e-6:
                raise ValueError(f"{_show(value)} is not a multiple of q={_show(grid)}")
        if self.integer:
            if float(value) != int(value):
                raise ValueError(f"expected an integer, got {_show(value)}")
            return int(value)
        return float(value)

    def support_text(self) -> str:
        """A short human description of the values the trial can receive."""
        kind = "int" if self.integer else "float"
        scale = " log" if self.log else ""
        grid = self.quantum or self.step
        step = f" step {_show(grid)}" if grid is not None and grid != 1 else ""
        return f"{kind}{scale} [{_show(self.low)}, {_show(self.high)}]{step}"


@dataclass(frozen=True)
class Option:
    """One option of a ``choice``: a plain value or a named sub-space."""

    label: CategoricalChoiceType  # what Optuna stores for this option
    value: Value  # what the trial receives (for a nested option: its ``_name``)
    subspace: Space | None = None  # a nested option's parameters (None: a plain value)


@dataclass(frozen=True)
class ChoiceParam:
    """An NNI ``choice``; options with ``_name`` open a conditional sub-space."""

    name: str
    key: str
    path: str
    options: tuple[Option, ...]
    ordinal: bool = False  # encode as an index over the options sorted by value
    nni_type: str = "choice"

    @property
    def nni_value(self) -> list[Value]:
        return [_option_json(o) for o in self.options]

    @property
    def is_nested(self) -> bool:
        return any(o.subspace is not None and o.subspace.params for o in self.options)

    @property
    def is_numeric(self) -> bool:
        return all(
            o.subspace is None
            and isinstance(o.value, int | float)
            and not isinstance(o.value, bool)
            for o in self.options
        )

    @property
    def optuna_key(self) -> str:
        return self.key + ORDINAL_SUFFIX if self.ordinal else self.key

    def _sorted_options(self) -> list[Option]:
        return sorted(self.options, key=lambda o: float(o.value))

    def distribution(self) -> BaseDistribution:
        from optuna.distributions import CategoricalDistribution, IntDistribution

        if self.ordinal:
            return IntDistribution(0, len(self.options) - 1)
        return CategoricalDistribution([o.label for o in self.options])

    def suggest(self, trial: BaseTrial) -> Value:
        return self._value_of(self.chosen_option(self._suggest_raw(trial)), trial)

    def _suggest_raw(self, trial: BaseTrial) -> Any:
        if self.ordinal:
            return trial.suggest_int(self.optuna_key, 0, len(self.options) - 1)
        return trial.suggest_categorical(self.key, [o.label for o in self.options])

    def chosen_option(self, raw: Any) -> Option:
        if self.ordinal:
            return self._sorted_options()[int(raw)]
        for option in self.options:
            if option.label == raw and type(option.label) is type(raw):
                return option
        for option in self.options:
            if option.label == raw:
                return option
        raise ValueError(f"{_show(raw)} is not an option of {self.key}")

    def _value_of(self, option: Option, trial: BaseTrial | None) -> Value:
        if option.subspace is None:
            return option.value
        nested: dict[str, Value] = {"_name": option.value}
        if trial is not None:
            nested.update(option.subspace.suggest(trial))
        return nested

    def encode_option(self, value: Any) -> tuple[Option, Any]:
        """The option a trial value (a baseline) selects, and its Optuna value."""
        name = value.get("_name") if isinstance(value, dict) else None
        for option in self.options:
            matches = (
                option.subspace is not None and name == option.value
                if isinstance(value, dict)
                else option.subspace is None and _same_value(option.value, value)
            )
            if matches:
                if self.ordinal:
                    return option, self._sorted_options().index(option)
                return option, option.label
        raise ValueError(f"{_show(value)} is not one of the options {self.nni_value}")

    def support_text(self) -> str:
        shown = ", ".join(_show(_option_json(o)) for o in self.options)
        return f"one of {shown}"


Param: TypeAlias = NumericParam | ChoiceParam


@dataclass(frozen=True)
class Space:
    """A parsed NNI search space."""

    params: tuple[Param, ...]
    notices: tuple[Notice, ...] = field(default=(), compare=False)

    # -- sampling ------------------------------------------------------------------------

    def suggest(self, trial: BaseTrial) -> dict[str, Value]:
        """Suggest every active parameter on ``trial``; return the NNI-shaped values."""
        return {p.name: p.suggest(trial) for p in self.params}

    def decode(self, optuna_params: Mapping[str, Any]) -> dict[str, Value]:
        """The NNI-shaped values of a finished trial from its Optuna params."""
        values: dict[str, Value] = {}
        for p in self.params:
            if isinstance(p, NumericParam):
                if p.key in optuna_params:
                    values[p.name] = p.decode(optuna_params[p.key])
                continue
            if p.optuna_key not in optuna_params:
                continue
            option = p.chosen_option(optuna_params[p.optuna_key])
            if option.subspace is None:
                values[p.name] = option.value
            else:
                values[p.name] = {"_name": option.value, **option.subspace.decode(optuna_params)}
        return values

    def encode(
        self, values: Mapping[str, Any], path: str = "params"
    ) -> tuple[dict[str, Any], list[Notice]]:
        """Optuna params for trial values (the Dr.Opt baseline), skipping what does not fit.

        Values for parameters of this space that lie outside it are left out with a notice,
        so that the sampler chooses them instead; keys that are not parameters are ignored.
        """
        encoded: dict[str, Any] = {}
        notices: list[Notice] = []
        for p in self.params:
            if p.name not in values:
                continue
            value = values[p.name]
            at = f"{path}.{p.name}"
            try:
                if isinstance(p, NumericParam):
                    encoded[p.key] = p.encode(value)
                    continue
                option, raw = p.encode_option(value)
            except ValueError as exc:
                notices.append(Notice(at, f"baseline value not used: {exc}"))
                continue
            encoded[p.optuna_key] = raw
            if option.subspace is not None and isinstance(value, dict):
                sub, sub_notices = option.subspace.encode(value, at)
                encoded.update(sub)
                notices.extend(sub_notices)
        return encoded, notices

    # -- structure -----------------------------------------------------------------------

    def walk(self) -> Iterator[tuple[Param, tuple[str, ...]]]:
        """Every parameter, nested ones included, with the conditions that activate it."""
        yield from self._walk(())

    def _walk(self, conditions: tuple[str, ...]) -> Iterator[tuple[Param, tuple[str, ...]]]:
        for p in self.params:
            yield p, conditions
            if isinstance(p, ChoiceParam):
                for option in p.options:
                    if option.subspace is not None and option.subspace.params:
                        cond = f"{p.key} = {option.value}"
                        yield from option.subspace._walk((*conditions, cond))

    def distributions(self) -> dict[str, BaseDistribution]:
        """The Optuna distribution of every parameter, conditional ones included."""
        return {
            (p.optuna_key if isinstance(p, ChoiceParam) else p.key): p.distribution()
            for p, _ in self.walk()
        }

    @property
    def is_conditional(self) -> bool:
        return any(conds for _, conds in self.walk())

    def names(self) -> list[str]:
        return [p.name for p in self.params]

    def without(self, names: set[str]) -> Space:
        """This space minus the named top-level parameters (fixed from the command line)."""
        return replace(self, params=tuple(p for p in self.params if p.name not in names))

    def with_ordinal_choices(self) -> Space:
        """This space with every all-numeric choice encoded as an index over sorted options.

        For samplers that model only numbers (CMA-ES, QMC): the options keep their order,
        so the sampler can learn that 64 lies between 32 and 128.
        """
        params: list[Param] = []
        for p in self.params:
            if isinstance(p, ChoiceParam):
                if p.is_numeric and len(p.options) > 1:
                    p = replace(p, ordinal=True)
                else:
                    p = replace(
                        p,
                        options=tuple(
                            replace(o, subspace=o.subspace.with_ordinal_choices())
                            if o.subspace is not None
                            else o
                            for o in p.options
                        ),
                    )
            params.append(p)
        return replace(self, params=tuple(params))

    def to_json(self) -> dict[str, Any]:
        """The normalised NNI JSON of this space (fixes applied)."""
        out: dict[str, Any] = {}
        for p in self.params:
            if isinstance(p, ChoiceParam):
                out[p.name] = {"_type": "choice", "_value": p.nni_value}
            else:
                out[p.name] = {
                    "_type": p.nni_type,
                    "_value": [_plain_number(v) for v in p.nni_value],
                }
        return out


def _option_json(option: Option) -> Value:
    if option.subspace is None:
        return option.value
    return {"_name": option.value, **option.subspace.to_json()}


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


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
        raise SpaceError(path or "$", f"a search space must be a JSON object, got {_kind(data)}")
    params: list[Param] = []
    for name, spec in data.items():
        at = _join(path, name)
        if not name:
            raise SpaceError(at, "a parameter name must not be empty")
        if name.startswith("_"):
            raise SpaceError(at, f"parameter names starting with '_' are reserved by NNI: {name!r}")
        params.append(_parse_param(name, spec, at, key_prefix + name, notices))
    return Space(tuple(params))


def _parse_param(name: str, spec: Any, path: str, key: str, notices: list[Notice]) -> Param:
    if not isinstance(spec, dict):
        raise SpaceError(
            path,
            f'expected {{"_type": ..., "_value": [...]}}, got {_show(spec)} '
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
        raise SpaceError(f"{path}._type", f"expected a type name, got {_show(nni_type)}")
    value_path = f"{path}._value"
    value = spec["_value"]
    if not isinstance(value, list):
        raise SpaceError(value_path, f"{nni_type} needs a list, got {_show(value)}")
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
            raise SpaceError(at, f"options must be finite, got {_show(raw)}")
        elif raw is None or isinstance(raw, bool | int | float | str):
            options.append(Option(label=raw, value=raw))
        else:
            # Lists (e.g. multistep milestones) are valid options; Optuna stores their JSON.
            options.append(Option(label=json.dumps(raw), value=raw))
    for i, a in enumerate(options):
        for b in options[:i]:
            if a.label == b.label:
                raise SpaceError(
                    value_path,
                    f"choice has duplicate options {_show(b.value)} and {_show(a.value)} "
                    "(each option must be distinct)",
                )
    return ChoiceParam(name=name, key=key, path=path, options=tuple(options))


def _parse_nested_option(raw: dict[str, Any], path: str, key: str, notices: list[Notice]) -> Option:
    if "_name" not in raw:
        raise SpaceError(path, "an object option of a choice needs a _name (a nested sub-space)")
    option_name = raw["_name"]
    if not isinstance(option_name, str) or not option_name:
        raise SpaceError(f"{path}._name", f"expected a non-empty string, got {_show(option_name)}")
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
        notices.append(Notice(at, f"legacy randint [upper] read as [0, {_show(v[0])})"))
        v = [0.0, v[0]]
    if len(v) != 2:
        raise SpaceError(at, f"randint needs [lower, upper], got {_show(v)}")
    for i, x in enumerate(v):
        if not float(x).is_integer():
            raise SpaceError(f"{at}[{i}]", f"randint bounds must be integers, got {_show(x)}")
    lower, upper = int(v[0]), int(v[1])
    if lower >= upper:
        raise SpaceError(
            at,
            f"randint needs [lower, upper] with lower < upper (upper is excluded), got {_show(v)}",
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
            f"{path}._value", f"loguniform needs 0 < low < high, got {_show([low, high])}"
        )
    return NumericParam(name, key, path, "loguniform", (low, high), low, high, log=True)


def _parse_quniform(
    name: str, key: str, path: str, v: list[float], notices: list[Notice]
) -> NumericParam:
    low, high, q = _quantised_bounds(v, path, "quniform", notices)
    lo, hi = _grid_within(low, high, q, path, "quniform")
    integer = all(float(x).is_integer() for x in (lo, hi, q))
    return NumericParam(
        name, key, path, "quniform", (low, high, q), lo, hi, step=q, integer=integer
    )


def _parse_qloguniform(
    name: str, key: str, path: str, v: list[float], notices: list[Notice]
) -> NumericParam:
    low, high, q = _quantised_bounds(v, path, "qloguniform", notices)
    if low <= 0:
        raise SpaceError(
            f"{path}._value", f"qloguniform needs 0 < low < high, got {_show([low, high, q])}"
        )
    lo, hi = _grid_within(low, high, q, path, "qloguniform")
    return _log_quantised(name, key, path, "qloguniform", (low, high, q), lo, hi, q)


def _parse_normal(
    name: str, key: str, path: str, v: list[float], notices: list[Notice]
) -> NumericParam:
    mu, sigma = _mu_sigma(v, path, "normal")
    low, high = mu - NORMAL_SPAN * sigma, mu + NORMAL_SPAN * sigma
    return NumericParam(name, key, path, "normal", (mu, sigma), low, high)


def _parse_qnormal(
    name: str, key: str, path: str, v: list[float], notices: list[Notice]
) -> NumericParam:
    mu, sigma, q = _mu_sigma_q(v, path, "qnormal")
    lo, hi = _grid_within(mu - NORMAL_SPAN * sigma, mu + NORMAL_SPAN * sigma, q, path, "qnormal")
    integer = all(float(x).is_integer() for x in (lo, hi, q))
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
        raise SpaceError(path, f"{nni_type} needs numbers, got {_show(x)}")
    if not math.isfinite(x):
        raise SpaceError(path, f"{nni_type} needs finite numbers, got {_show(x)}")
    return x


def _bounds(v: list[float], path: str, nni_type: str, notices: list[Notice]) -> tuple[float, float]:
    at = f"{path}._value"
    if len(v) != 2:
        raise SpaceError(at, f"{nni_type} needs [low, high], got {_show(v)}")
    low, high = v
    if low == high:
        raise SpaceError(
            at,
            f"{nni_type} needs [low, high] with low < high, got {_show(v)} "
            "(a fixed value belongs in the config's params)",
        )
    if low > high:
        notices.append(
            Notice(at, f"bounds reversed {_show(v)}; using [{_show(high)}, {_show(low)}]")
        )
        low, high = high, low
    return low, high


def _quantised_bounds(
    v: list[float], path: str, nni_type: str, notices: list[Notice]
) -> tuple[float, float, float]:
    at = f"{path}._value"
    if len(v) != 3:
        raise SpaceError(at, f"{nni_type} needs [low, high, q], got {_show(v)}")
    low, high = _bounds(v[:2], path, nni_type, notices)
    q = v[2]
    if q <= 0:
        raise SpaceError(f"{at}[2]", f"{nni_type} needs q > 0, got {_show(q)}")
    return low, high, q


def _mu_sigma(v: list[float], path: str, nni_type: str) -> tuple[float, float]:
    at = f"{path}._value"
    if len(v) != 2:
        raise SpaceError(at, f"{nni_type} needs [mu, sigma], got {_show(v)}")
    mu, sigma = v
    if sigma <= 0:
        raise SpaceError(f"{at}[1]", f"{nni_type} needs sigma > 0, got {_show(sigma)}")
    return mu, sigma


def _mu_sigma_q(v: list[float], path: str, nni_type: str) -> tuple[float, float, float]:
    at = f"{path}._value"
    if len(v) != 3:
        raise SpaceError(at, f"{nni_type} needs [mu, sigma, q], got {_show(v)}")
    mu, sigma = _mu_sigma(v[:2], path, nni_type)
    q = v[2]
    if q <= 0:
        raise SpaceError(f"{at}[2]", f"{nni_type} needs q > 0, got {_show(q)}")
    return mu, sigma, q


def _exp_range(mu: float, sigma: float, path: str, nni_type: str) -> tuple[float, float]:
    lo_exp, hi_exp = mu - NORMAL_SPAN * sigma, mu + NORMAL_SPAN * sigma
    if hi_exp > 700 or lo_exp < -700:
        raise SpaceError(
            f"{path}._value",
            f"{nni_type} [mu, sigma] = {_show([mu, sigma])} spans exp({_show(lo_exp)}).."
            f"exp({_show(hi_exp)}), beyond floating point; mu and sigma are in log space",
        )
    return math.exp(lo_exp), math.exp(hi_exp)


def _grid_within(
    low: float, high: float, q: float, path: str, nni_type: str
) -> tuple[float, float]:
    """The smallest and largest multiples of q in [low, high], computed exactly."""
    dq, dlow, dhigh = Decimal(repr(q)), Decimal(repr(low)), Decimal(repr(high))
    lo = (dlow / dq).to_integral_value(rounding="ROUND_CEILING") * dq
    hi = (dhigh / dq).to_integral_value(rounding="ROUND_FLOOR") * dq
    if lo > hi:
        raise SpaceError(
            f"{path}._value",
            f"{nni_type} has no multiple of q={_show(q)} in [{_show(low)}, {_show(high)}]",
        )
    return float(lo), float(hi)


def _round_to_grid_digits(value: float, grid: float, low: float) -> float:
    """Remove the float noise that grid arithmetic leaves (0.30000000000000004 → 0.3)."""
    digits = max(_decimals(grid), _decimals(low))
    return round(value, digits + 2) if digits < 15 else value


def _decimals(x: float) -> int:
    exponent = Decimal(repr(x)).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _check_unique_keys(space: Space) -> None:
    seen: dict[str, str] = {}
    for p, _ in space.walk():
        key = p.optuna_key if isinstance(p, ChoiceParam) else p.key
        if key in seen:
            raise SpaceError(p.path, f"parameter name {key!r} is also used at {seen[key]}")
        seen[key] = p.path


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    return bool(a == b)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _kind(x: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(x),
        "a number" if isinstance(x, int | float) else "null" if x is None else type(x).__name__,
    )


def _plain_number(x: float) -> float | int:
    return (
        int(x)
        if isinstance(x, int) or (isinstance(x, float) and x.is_integer() and abs(x) < 2**53)
        else x
    )


def _show(x: Any) -> str:
    """A value as it would look in the JSON file (numbers without float noise)."""
    if isinstance(x, float):
        if x.is_integer() and abs(x) < 1e16:
            return str(int(x))
        return repr(x)
    if isinstance(x, Sequence) and not isinstance(x, str):
        return "[" + ", ".join(_show(i) for i in x) + "]"
    return json.dumps(x) if isinstance(x, str | bool) or x is None else str(x)


# --------------------------------------------------------------------------------------------
# Presentation
# --------------------------------------------------------------------------------------------


def describe_distribution(dist: BaseDistribution) -> str:
    """A compact, exact text of an Optuna distribution for tables and messages."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if isinstance(dist, FloatDistribution | IntDistribution):
        args = [f"{_show(dist.low)}", f"{_show(dist.high)}"]
        if dist.log:
            args.append("log=True")
        if dist.step is not None and not (isinstance(dist, IntDistribution) and dist.step == 1):
            args.append(f"step={_show(dist.step)}")
        return f"{type(dist).__name__}({', '.join(args)})"
    if isinstance(dist, CategoricalDistribution):
        return f"CategoricalDistribution({json.dumps(list(dist.choices))})"
    return repr(dist)
