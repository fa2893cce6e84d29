"""The pruner registry: names (hpo's and NNI's assessor names) → Optuna pruners.

A pruner stops a trial early from the per-epoch values its objective reports. ``none`` is
a real choice too: then the worker skips the pruning check entirely (one database round trip
less per epoch).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from optuna.pruners import (
    BasePruner,
    HyperbandPruner,
    MedianPruner,
    NopPruner,
    PatientPruner,
    PercentilePruner,
    SuccessiveHalvingPruner,
    ThresholdPruner,
)

from hpo.errors import InvalidInputError, UnknownNameError
from hpo.tuners.component import Component
from hpo.tuners.nni import NNI_ASSESSORS
from hpo.tuners.schedule import AfterWarmup, Never, PruningSchedule, asha_schedule


@dataclass(frozen=True)
class PrunerKind:
    name: str
    summary: str
    factory: Callable[[Mapping[str, Any]], BasePruner]
    options: Mapping[str, tuple[type, ...]] = field(default_factory=dict)
    #: When this pruner can act, for the options given.
    schedule: Callable[[Mapping[str, Any]], PruningSchedule] = lambda o: PruningSchedule()


def _none(o: Mapping[str, Any]) -> BasePruner:

    return NopPruner()


def _median(o: Mapping[str, Any]) -> BasePruner:

    return MedianPruner(**o)


def _percentile(o: Mapping[str, Any]) -> BasePruner:

    return PercentilePruner(**{"percentile": 25.0, **o})


def _asha(o: Mapping[str, Any]) -> BasePruner:

    # Asynchronous successive halving: rungs at min_resource × reduction_factor^k epochs.
    return SuccessiveHalvingPruner(**{"min_resource": 1, "reduction_factor": 3, **o})


def _hyperband(o: Mapping[str, Any]) -> BasePruner:

    return HyperbandPruner(**{"min_resource": 1, "reduction_factor": 3, **o})


def _patient(o: Mapping[str, Any]) -> BasePruner:

    options = dict(o)
    wrapped_name = options.pop("wrapped", "none")
    if wrapped_name == "patient":
        raise ValueError("the patient pruner cannot wrap itself")
    wrapped = (
        None if wrapped_name == "none" else PRUNERS[resolve_pruner_name(wrapped_name)].factory({})
    )
    return PatientPruner(wrapped, **{"patience": 3, **options})


def _threshold(o: Mapping[str, Any]) -> BasePruner:

    if "lower" not in o and "upper" not in o:
        raise ValueError('give lower and/or upper, e.g. {"name": "threshold", "lower": 0.2}')
    return ThresholdPruner(**o)


_NUMBER = (int, float)
_WARMUP = {"n_warmup_steps": (int,), "interval_steps": (int,)}

PRUNERS: dict[str, PrunerKind] = {
    k.name: k
    for k in (
        PrunerKind("none", "never prune", _none, schedule=lambda o: Never()),
        PrunerKind(
            "median",
            "prune below the median of earlier trials at the same epoch (NNI Medianstop)",
            _median,
            {"n_startup_trials": (int,), "n_min_trials": (int,), **_WARMUP},
            schedule=lambda o: AfterWarmup(o.get("n_warmup_steps", 0)),
        ),
        PrunerKind(
            "percentile",
            "prune below the given percentile of earlier trials (default 25)",
            _percentile,
            {"percentile": _NUMBER, "n_startup_trials": (int,), "n_min_trials": (int,), **_WARMUP},
            schedule=lambda o: AfterWarmup(o.get("n_warmup_steps", 0)),
        ),
        PrunerKind(
            "asha",
            "asynchronous successive halving (rungs at 1, 3, 9, … epochs)",
            _asha,
            {
                "min_resource": (int, str),
                "reduction_factor": (int,),
                "min_early_stopping_rate": (int,),
                "bootstrap_count": (int,),
            },
            schedule=asha_schedule,
        ),
        PrunerKind(
            "hyperband",
            "Hyperband: several successive-halving brackets",
            _hyperband,
            {
                "min_resource": (int,),
                "max_resource": (int, str),
                "reduction_factor": (int,),
                "bootstrap_count": (int,),
            },
        ),
        PrunerKind(
            "patient",
            "prune a trial that has not improved for `patience` epochs",
            _patient,
            {"patience": (int,), "min_delta": _NUMBER, "wrapped": (str,)},
        ),
        PrunerKind(
            "threshold",
            "prune when the value leaves [lower, upper]",
            _threshold,
            {"lower": _NUMBER, "upper": _NUMBER, **_WARMUP},
            schedule=lambda o: AfterWarmup(o.get("n_warmup_steps", 0)),
        ),
    )
}

ALIASES = {
    "nop": "none",
    "off": "none",
    "successive_halving": "asha",
    "successivehalving": "asha",
    "sha": "asha",
    **NNI_ASSESSORS,
}


def resolve_pruner_name(name: str) -> str:
    lowered = name.strip().lower()
    if lowered in PRUNERS:
        return lowered
    if lowered in ALIASES:
        return ALIASES[lowered]
    close = difflib.get_close_matches(lowered, [*PRUNERS, *ALIASES], n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise UnknownNameError(f"unknown pruner {name!r}; {hint}known: {', '.join(PRUNERS)}")


def pruning_schedule(component: Component) -> PruningSchedule:
    return PRUNERS[resolve_pruner_name(component.name)].schedule(component.options)


def build_pruner(component: Component) -> BasePruner:
    """The Optuna pruner of a spec; InvalidInputError for an unknown option or a bad value."""
    kind = PRUNERS[resolve_pruner_name(component.name)]
    for key, value in component.options.items():
        if key not in kind.options:
            accepted = ", ".join(kind.options) or "none"
            raise InvalidInputError(
                f"pruner {kind.name} has no option {key!r} (its options: {accepted})"
            )
        types = kind.options[key]
        if isinstance(value, bool) or not isinstance(value, types):
            names = " or ".join(t.__name__ for t in types)
            raise InvalidInputError(
                f"pruner {kind.name} option {key} must be {names}, got {value!r}"
            )
    try:
        return kind.factory(component.options)
    except (ValueError, TypeError, UnknownNameError) as exc:
        raise InvalidInputError(f"pruner {component.describe()}: {exc}") from exc
