"""Typed NNI parameters and the search space they make: Optuna distributions, define-by-run
suggestions, and the way back from stored Optuna values to the values NNI would give a trial.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, TypeAlias

from optuna.distributions import (
    BaseDistribution,
    CategoricalChoiceType,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import BaseTrial

from hpo.text import show

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

#: Suffix of the Optuna name of a choice encoded as an index over its sorted options: how the
#: CMA-ES and QMC studies of hpo 0.1 stored numeric choices (``batch_size[index]``).
ORDINAL_SUFFIX = "[index]"

Value: TypeAlias = Any

#: Past this many options a non-numeric choice is not listed by ``Space.spanning_values``.
SPANNING_OPTIONS = 64


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

        if self.integer and self.quantum is None:
            return IntDistribution(
                int(self.low), int(self.high), log=self.log, step=int(self.step or 1)
            )
        return FloatDistribution(self.low, self.high, log=self.log, step=self.step)

    def suggest(self, trial: BaseTrial) -> Value:

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
            raise ValueError(f"expected a number, got {show(value)}")
        tolerance = 1e-9 * max(1.0, abs(self.low), abs(self.high))
        if not self.low - tolerance <= value <= self.high + tolerance:
            raise ValueError(f"{show(value)} is outside [{show(self.low)}, {show(self.high)}]")
        grid = self.quantum or self.step
        if grid is not None:
            k = (value - self.low) / grid
            if abs(k - round(k)) > 1e-6:
                raise ValueError(f"{show(value)} is not a multiple of q={show(grid)}")
        if self.integer:
            if float(value) != int(value):
                raise ValueError(f"expected an integer, got {show(value)}")
            return int(value)
        return float(value)

    def support_text(self) -> str:
        """A short human description of the values the trial can receive."""
        kind = "int" if self.integer else "float"
        scale = " log" if self.log else ""
        grid = self.quantum or self.step
        step = f" step {show(grid)}" if grid is not None and grid != 1 else ""
        return f"{kind}{scale} [{show(self.low)}, {show(self.high)}]{step}"


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
    ordinal: bool = False  # stored as an index over the options sorted by value (hpo 0.1)
    nni_type: str = "choice"

    @property
    def nni_value(self) -> list[Value]:
        return [_option_json(o) for o in self.options]

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
        raise ValueError(f"{show(raw)} is not an option of {self.key}")

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
        raise ValueError(f"{show(value)} is not one of the options {self.nni_value}")

    def support_text(self) -> str:
        shown = ", ".join(show(_option_json(o)) for o in self.options)
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

    def walk(self, conditions: tuple[str, ...] = ()) -> Iterator[tuple[Param, tuple[str, ...]]]:
        """Every parameter, nested ones included, with the conditions that activate it
        (``conditions``: those of the choice option this space hangs under)."""
        for p in self.params:
            yield p, conditions
            if isinstance(p, ChoiceParam):
                for option in p.options:
                    if option.subspace is not None and option.subspace.params:
                        cond = f"{p.key} = {option.value}"
                        yield from option.subspace.walk((*conditions, cond))

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

    def spanning_values(self) -> dict[str, tuple[Value, ...] | None]:
        """For each top-level parameter, values that span what its trials can receive: a
        numeric choice's smallest and largest option, another choice's options (None past
        ``SPANNING_OPTIONS``), a range's ends and middle. For checks that need to know whether
        a rule between params can hold for some trial, or for none."""
        spans: dict[str, tuple[Value, ...] | None] = {}
        for p in self.params:
            if isinstance(p, ChoiceParam):
                values = [o.value for o in p.options]
                if p.is_numeric:
                    spans[p.name] = (min(values), max(values))
                else:
                    spans[p.name] = tuple(values) if len(values) <= SPANNING_OPTIONS else None
            else:
                middle = (p.low * p.high) ** 0.5 if p.log else (p.low + p.high) / 2
                spans[p.name] = tuple(p.decode(x) for x in (p.low, middle, p.high))
        return spans

    def without(self, names: set[str]) -> Space:
        """This space minus the named top-level parameters (fixed from the command line)."""
        return replace(self, params=tuple(p for p in self.params if p.name not in names))

    def with_ordinal_choices(self) -> Space:
        """This space with every all-numeric choice encoded as an index over sorted options.

        The encoding of the CMA-ES and QMC studies of hpo 0.1 (``batch_size[index]``), kept
        for those studies. New studies store the values (``hpo.tuners.ordered_choices``).
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


def _plain_number(x: float) -> float | int:
    return (
        int(x)
        if isinstance(x, int) or (isinstance(x, float) and x.is_integer() and abs(x) < 2**53)
        else x
    )


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    return bool(a == b)


def _round_to_grid_digits(value: float, grid: float, low: float) -> float:
    """Remove the float noise that grid arithmetic leaves (0.30000000000000004 → 0.3)."""
    digits = max(_decimals(grid), _decimals(low))
    return round(value, digits + 2) if digits < 15 else value


def _decimals(x: float) -> int:
    exponent = Decimal(repr(x)).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0
