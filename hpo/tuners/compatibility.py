"""What a sampler can do with a search space, said before any trial runs.

``create-study`` and ``validate`` tell the user up front what a sampler will do with a space
(CMA-ES samples non-numeric choices at random, grid search needs finitely many values) instead
of Optuna warning at every trial.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hpo.errors import InvalidInputError
from hpo.space import ChoiceParam, Notice, NumericParam, Space
from hpo.tuners.component import Component
from hpo.tuners.samplers import kind_of

#: Integer options of samplers, bounded. Two size what a sampler computes for every trial
#: (TPE's candidates, a generation of CMA-ES or NSGA): past 10,000, sampling one trial takes
#: hours or all memory (a population of 10^12 hung the worker), far beyond any search hpo
#: runs. The others are counts that cannot be negative.
OPTION_BOUNDS: dict[str, tuple[int, int]] = {
    "n_ei_candidates": (1, 10_000),
    "population_size": (2, 10_000),
    "n_startup_trials": (0, 10**9),
}


def encode_space_for(sampler: str, space: Space, *, index_choices: bool = False) -> Space:
    """The space as a study of this sampler stores it.

    Trials store what the user wrote (a numeric choice's value); ``index_choices`` is for the
    CMA-ES and QMC studies of hpo 0.1, which stored numeric choices as indices over the sorted
    options (``batch_size[index]``) and keep doing so.
    """
    if index_choices and kind_of(sampler).index_choices_in_0_1:
        return space.with_ordinal_choices()
    return space


def check_options(name: str, options: Mapping[str, Any]) -> None:
    """Refuse options the sampler does not have or values of the wrong type."""
    kind = kind_of(name)
    for key, value in options.items():
        if key not in kind.options:
            accepted = ", ".join(kind.options) or "none"
            raise InvalidInputError(
                f"sampler {kind.name} has no option {key!r} (its options: {accepted})"
            )
        expected = kind.options[key]
        ok = (
            isinstance(value, bool)
            if expected is bool
            else isinstance(value, int | float) and not isinstance(value, bool)
            if expected is float
            else isinstance(value, expected) and not isinstance(value, bool)
        )
        if not ok:
            raise InvalidInputError(
                f"sampler {kind.name} option {key} must be {expected.__name__}, got {value!r}"
            )
        low, high = OPTION_BOUNDS.get(key, (None, None))
        if low is not None and high is not None and not low <= value <= high:
            raise InvalidInputError(
                f"sampler {kind.name} option {key} must be from {low} to {high:,}, got {value!r}"
            )


def check_compatibility(sampler: Component, space: Space, n_objectives: int) -> list[Notice]:
    """What this sampler will do with this space: notices, or an error where it cannot run.

    ``space`` is the space as parsed (before encoding for the sampler).
    """
    kind = kind_of(sampler.name)
    check_options(kind.name, sampler.options)
    if n_objectives > 1 and not kind.multi_objective:
        raise InvalidInputError(
            f"sampler {kind.name} optimises one objective, this study has {n_objectives}; "
            "use nsga2, tpe, gp or random"
        )
    notices: list[Notice] = []
    if kind.discrete_only:
        if kind.name == "grid" and space.is_conditional:
            raise InvalidInputError(
                "grid search needs a flat space; nested choices make parameters conditional "
                "(use the bruteforce sampler for nested spaces)"
            )
        continuous = [p.key for p, _ in space.walk() if _is_continuous(p)]
        if continuous:
            raise InvalidInputError(
                f"sampler {kind.name} needs parameters with finitely many values; continuous: "
                f"{', '.join(continuous)} (use choice, randint or quniform)"
            )
        if kind.name == "grid":
            _check_grid_size(space)
    if not kind.models_categories:
        choices = [p for p, _ in space.walk() if isinstance(p, ChoiceParam) and len(p.options) > 1]
        ordered = [p.key for p in choices if p.is_numeric]
        random_choices = [p.key for p in choices if not p.is_numeric]
        if ordered:
            notices.append(
                Notice(
                    "",
                    f"{kind.name} optimises these numeric choices as ordered values: "
                    f"{', '.join(ordered)}",
                )
            )
        nested = [p.key for p, conditions in space.walk() if conditions]
        if nested:
            notices.append(
                Notice(
                    "",
                    f"{kind.name} models only the parameters every trial has; these, inside "
                    f"nested choices, are sampled at random: {', '.join(nested)}",
                )
            )
        if random_choices:
            notices.append(
                Notice(
                    "",
                    f"{kind.name} cannot model non-numeric choices; it samples these at random: "
                    f"{', '.join(random_choices)} (use tpe or gp to optimise them)",
                )
            )
    return notices


#: Optuna's grid sampler holds every point of the grid in memory, and each trial stores every
#: value of every parameter: two randint [0, 10^9] (a grid of 10^18 points) hung validate and
#: create-study. A million points is more trials than any study here runs.
MAX_GRID_POINTS = 1_000_000
#: Values of one parameter of a grid (each trial stores them all).
MAX_GRID_VALUES = 10_000


def _check_grid_size(space: Space) -> None:
    """Refuse a grid too large to hold, counted without listing it."""
    points = 1
    for p, _ in space.walk():
        if isinstance(p, ChoiceParam):
            values = len(p.options)
        else:
            values = int((p.high - p.low) / (p.quantum or p.step or 1)) + 1
        if values > MAX_GRID_VALUES:
            raise InvalidInputError(
                f"grid search over {p.key}: {values:,} values, at most {MAX_GRID_VALUES:,} per "
                "parameter (use another sampler, or a coarser q)"
            )
        points *= values
        if points > MAX_GRID_POINTS:
            raise InvalidInputError(
                f"grid search over more than {MAX_GRID_POINTS:,} points (use another sampler)"
            )


def _is_continuous(p: NumericParam | ChoiceParam) -> bool:
    return isinstance(p, NumericParam) and not p.integer and p.step is None and p.quantum is None
