"""The sampler registry: names (hpo's and NNI's tuner names) → Optuna samplers.

Adding a sampler means adding one :class:`SamplerKind` to ``SAMPLERS``. Each kind states what
it can model, so that ``create-study`` says up front what a sampler will do with a space
(e.g. CMA-ES samples non-numeric choices at random) instead of Optuna warning at every trial.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from optuna.samplers import (
    BaseSampler,
    BruteForceSampler,
    CmaEsSampler,
    GPSampler,
    NSGAIIISampler,
    NSGAIISampler,
    QMCSampler,
    RandomSampler,
    TPESampler,
)

from hpo.errors import InvalidInputError, UnknownNameError
from hpo.space import ChoiceParam, NumericParam, Space
from hpo.tuners.component import Component
from hpo.tuners.grid import NumberedGridSampler, grid_values
from hpo.tuners.nni import NNI_TUNERS, nni_tuner
from hpo.tuners.ordered_choices import OrderedChoicesSampler


@dataclass(frozen=True)
class SamplerBuild:
    """What a sampler factory gets: the study's space, a seed and the user's options."""

    space: Space
    seed: int
    options: Mapping[str, Any]
    n_objectives: int


@dataclass(frozen=True)
class SamplerKind:
    name: str
    summary: str
    factory: Callable[[SamplerBuild], BaseSampler]
    options: Mapping[str, type] = field(default_factory=dict)
    #: False: the sampler models numbers only; it models numeric choices as ordered values
    #: (``OrderedChoicesSampler``), non-numeric ones are sampled at random.
    models_categories: bool = True
    #: hpo 0.1 stored this sampler's numeric choices as indices over the sorted options
    #: (``batch_size[index]``); the studies it created keep that encoding (``StudySpec``).
    index_choices_in_0_1: bool = False
    multi_objective: bool = True
    #: Every parameter must take finitely many values (grid search).
    discrete_only: bool = False
    #: All workers use the study seed itself: a QMC sequence, and the grid's shuffled order
    #: (Optuna's GridSampler gives trial number k the k-th point of that order, so workers
    #: with different seeds would run the same point under different numbers).
    shared_seed: bool = False


def _tpe(b: SamplerBuild) -> BaseSampler:

    # constant_liar: a worker's running trials count as bad results for the others, so that
    # parallel workers do not all sample the same promising point.
    options = {"constant_liar": True, **b.options}
    if b.space.is_conditional and "multivariate" not in options:
        options.update(multivariate=True, group=True)
    return TPESampler(seed=b.seed, **options)


def _random(b: SamplerBuild) -> BaseSampler:

    return RandomSampler(seed=b.seed)


def _cmaes(b: SamplerBuild) -> BaseSampler:

    options = dict(b.options)
    popsize = options.pop("population_size", None)
    discrete = any(
        (isinstance(p, NumericParam) and (p.integer or p.step is not None))
        or (isinstance(p, ChoiceParam) and p.is_numeric and len(p.options) > 1)
        for p, _ in b.space.walk()
    )
    if discrete and not options.get("use_separable_cma") and not options.get("lr_adapt"):
        # CMA-ES with margin keeps exploring integer dimensions and numeric choices instead of
        # collapsing onto one value.
        options.setdefault("with_margin", True)
    cmaes = CmaEsSampler(
        seed=b.seed,
        popsize=popsize,
        independent_sampler=RandomSampler(seed=b.seed),
        warn_independent_sampling=False,  # create-study lists those parameters once
        **options,
    )
    # Numeric choices are stored as the values, and CMA-ES models them as ranks; it models
    # only the top-level params, which every trial has (see OrderedChoicesSampler).
    top_level = [p.optuna_key if isinstance(p, ChoiceParam) else p.key for p in b.space.params]
    return OrderedChoicesSampler(cmaes, top_level)


def _grid(b: SamplerBuild) -> BaseSampler:
    sampler = NumberedGridSampler(grid_values(b.space), seed=b.seed)
    # The shuffled order of the points is the study's, the same in every worker. Only a budget
    # set past the grid outside hpo falls back to Optuna's random pick among unvisited points:
    # that pick should differ between workers, or two picking at once would take the same one.
    sampler.reseed_rng()
    return sampler


def _qmc(b: SamplerBuild) -> BaseSampler:

    # Optuna's QMCSampler gives every choice, numeric or not, a coordinate of its sequence
    # (only the first trial is random): choices stay categorical, their values stored.
    options = {"qmc_type": "sobol", "scramble": True, **b.options}
    return QMCSampler(
        seed=b.seed,
        independent_sampler=RandomSampler(seed=b.seed),
        warn_independent_sampling=False,
        **options,
    )


def _gp(b: SamplerBuild) -> BaseSampler:

    return GPSampler(seed=b.seed, **b.options)


def _nsga2(b: SamplerBuild) -> BaseSampler:

    return NSGAIISampler(seed=b.seed, **b.options)


def _nsga3(b: SamplerBuild) -> BaseSampler:

    return NSGAIIISampler(seed=b.seed, **b.options)


def _bruteforce(b: SamplerBuild) -> BaseSampler:

    return BruteForceSampler(seed=b.seed)


SAMPLERS: dict[str, SamplerKind] = {
    k.name: k
    for k in (
        SamplerKind(
            "tpe",
            "Tree-structured Parzen Estimator (NNI TPE); multivariate for nested spaces",
            _tpe,
            {
                "n_startup_trials": int,
                "n_ei_candidates": int,
                "multivariate": bool,
                "group": bool,
                "constant_liar": bool,
                "consider_endpoints": bool,
                "prior_weight": float,
            },
        ),
        SamplerKind("random", "uniform random search (NNI Random)", _random),
        SamplerKind(
            "cmaes",
            "CMA-ES evolution strategy (NNI Evolution); numbers only",
            _cmaes,
            {
                "population_size": int,
                "sigma0": float,
                "n_startup_trials": int,
                "restart_strategy": str,
                "use_separable_cma": bool,
                "with_margin": bool,
                "lr_adapt": bool,
            },
            models_categories=False,
            multi_objective=False,
            index_choices_in_0_1=True,
        ),
        SamplerKind(
            "grid",
            "every combination of discrete values (NNI GridSearch)",
            _grid,
            discrete_only=True,
            shared_seed=True,
        ),
        SamplerKind(
            "qmc",
            "scrambled Sobol quasi-random sequence",
            _qmc,
            {"qmc_type": str, "scramble": bool},
            shared_seed=True,
            index_choices_in_0_1=True,
        ),
        SamplerKind(
            "gp",
            "Gaussian-process Bayesian optimisation (NNI GPTuner, Metis)",
            _gp,
            {"n_startup_trials": int, "deterministic_objective": bool},
        ),
        SamplerKind(
            "nsga2",
            "NSGA-II genetic algorithm, for several objectives",
            _nsga2,
            {
                "population_size": int,
                "mutation_prob": float,
                "crossover_prob": float,
                "swapping_prob": float,
            },
        ),
        SamplerKind("nsga3", "NSGA-III, for many objectives", _nsga3, {"population_size": int}),
        SamplerKind(
            "bruteforce",
            "every combination, nested choices included",
            _bruteforce,
            discrete_only=True,
        ),
    )
}

#: Other names of hpo samplers.
ALIASES = {"evolution": "cmaes", "cma-es": "cmaes", "cma": "cmaes", "sobol": "qmc"}


def resolve_sampler_name(name: str) -> str:
    """The hpo sampler for an hpo name, alias or NNI tuner name (case-insensitive)."""
    lowered = name.strip().lower()
    if lowered in SAMPLERS:
        return lowered
    if lowered in ALIASES:
        return ALIASES[lowered]
    tuner = nni_tuner(name)
    if tuner is not None and tuner.refusal is not None:
        raise InvalidInputError(f"NNI tuner {name.strip()} is not supported: {tuner.refusal}")
    if tuner is not None:
        return tuner.sampler
    candidates = [*SAMPLERS, *ALIASES, *(n for n, t in NNI_TUNERS.items() if not t.refusal)]
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise UnknownNameError(
        f"unknown sampler {name!r}; {hint}known: {', '.join(SAMPLERS)} "
        f"(and NNI tuners {', '.join(n for n, t in NNI_TUNERS.items() if not t.refusal)})"
    )


def kind_of(name: str) -> SamplerKind:
    return SAMPLERS[resolve_sampler_name(name)]


def build_sampler(component: Component, space: Space, seed: int, n_objectives: int) -> BaseSampler:
    """The Optuna sampler of a spec; ``space`` is the spec's (``StudySpec.space``)."""
    kind = kind_of(component.name)
    try:
        return kind.factory(SamplerBuild(space, seed, component.options, n_objectives))
    except (ValueError, TypeError) as exc:
        raise InvalidInputError(f"sampler {component.describe()}: {exc}") from exc
