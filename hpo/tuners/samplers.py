"""The sampler registry: names (hpo's and NNI's tuner names) → Optuna samplers.

Adding a sampler means adding one :class:`SamplerKind` to ``SAMPLERS``. Each kind states what
it can model, so that ``create-study`` says up front what a sampler will do with a space
(e.g. CMA-ES samples non-numeric choices at random) instead of Optuna warning at every trial.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from hpo.errors import InvalidInputError, UnknownNameError
from hpo.space import ChoiceParam, Notice, NumericParam, Space

if TYPE_CHECKING:
    from optuna.samplers import BaseSampler

    from hpo.spec import Component


@dataclass(frozen=True)
class SamplerBuild:
    """What a sampler factory gets: the encoded space, a seed and the user's options."""

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
    #: Numeric choices become an index over the sorted options (samplers of numbers only).
    ordinal_choices: bool = False
    #: False: non-numeric choices are sampled at random by the independent sampler.
    models_categories: bool = True
    multi_objective: bool = True
    #: Every parameter must take finitely many values (grid search).
    discrete_only: bool = False
    #: All workers use the study seed itself: a QMC sequence, and the grid's shuffled order
    #: (Optuna's GridSampler gives trial number k the k-th point of that order, so workers
    #: with different seeds would run the same point under different numbers).
    shared_seed: bool = False


def _tpe(b: SamplerBuild) -> BaseSampler:
    from optuna.samplers import TPESampler

    # constant_liar: a worker's running trials count as bad results for the others, so that
    # parallel workers do not all sample the same promising point.
    options = {"constant_liar": True, **b.options}
    if b.space.is_conditional and "multivariate" not in options:
        options.update(multivariate=True, group=True)
    return TPESampler(seed=b.seed, **options)


def _random(b: SamplerBuild) -> BaseSampler:
    from optuna.samplers import RandomSampler

    return RandomSampler(seed=b.seed)


def _cmaes(b: SamplerBuild) -> BaseSampler:
    from optuna.samplers import CmaEsSampler, RandomSampler

    options = dict(b.options)
    popsize = options.pop("population_size", None)
    discrete = any(
        (isinstance(p, NumericParam) and (p.integer or p.step is not None))
        or (isinstance(p, ChoiceParam) and p.ordinal)
        for p, _ in b.space.walk()
    )
    if discrete and not options.get("use_separable_cma") and not options.get("lr_adapt"):
        # CMA-ES with margin keeps exploring integer and ordinal dimensions instead of
        # collapsing onto one value.
        options.setdefault("with_margin", True)
    return CmaEsSampler(
        seed=b.seed,
        popsize=popsize,
        independent_sampler=RandomSampler(seed=b.seed),
        warn_independent_sampling=False,  # create-study lists those parameters once
        **options,
    )


def _grid(b: SamplerBuild) -> BaseSampler:
    import secrets

    from hpo.grid import NumberedGridSampler

    sampler = NumberedGridSampler(grid_values(b.space), seed=b.seed)
    # The shuffled order above is the study's, the same in every worker. Only a budget set past
    # the grid outside hpo falls back to Optuna's random pick among unvisited points: that pick
    # should differ between workers, or two workers picking at once would take the same one.
    rng = getattr(sampler, "_rng", None)
    if rng is not None:
        rng.rng.seed(secrets.randbelow(2**31))
    return sampler


def _qmc(b: SamplerBuild) -> BaseSampler:
    from optuna.samplers import QMCSampler, RandomSampler

    options = {"qmc_type": "sobol", "scramble": True, **b.options}
    return QMCSampler(
        seed=b.seed,
        independent_sampler=RandomSampler(seed=b.seed),
        warn_independent_sampling=False,
        **options,
    )


def _gp(b: SamplerBuild) -> BaseSampler:
    from optuna.samplers import GPSampler

    return GPSampler(seed=b.seed, **b.options)


def _nsga2(b: SamplerBuild) -> BaseSampler:
    from optuna.samplers import NSGAIISampler

    return NSGAIISampler(seed=b.seed, **b.options)


def _nsga3(b: SamplerBuild) -> BaseSampler:
    from optuna.samplers import NSGAIIISampler

    return NSGAIIISampler(seed=b.seed, **b.options)


def _bruteforce(b: SamplerBuild) -> BaseSampler:
    from optuna.samplers import BruteForceSampler

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
            ordinal_choices=True,
            models_categories=False,
            multi_objective=False,
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
            "scrambled Sobol quasi-random sequence; numbers only",
            _qmc,
            {"qmc_type": str, "scramble": bool},
            ordinal_choices=True,
            models_categories=False,
            shared_seed=True,
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


@dataclass(frozen=True)
class NniTuner:
    sampler: str
    pruner: str | None = None  # a tuner with built-in early stopping (BOHB, Hyperband)
    note: str | None = None


#: NNI / Dr.Opt ``builtinTunerName`` → the nearest hpo sampler (and pruner).
NNI_TUNERS: dict[str, NniTuner] = {
    "TPE": NniTuner("tpe"),
    "Random": NniTuner("random"),
    "Evolution": NniTuner("cmaes", note="NNI's Evolution tuner runs as CMA-ES"),
    "RegularizedEvolution": NniTuner("cmaes", note="runs as CMA-ES"),
    "GridSearch": NniTuner("grid"),
    "BatchTuner": NniTuner("grid", note="runs as grid search over the choices"),
    "Anneal": NniTuner(
        "tpe", note="NNI's Anneal tuner runs as TPE, which also narrows towards good trials"
    ),
    "SMAC": NniTuner("tpe", note="SMAC runs as TPE (a model-based tuner like it)"),
    "GPTuner": NniTuner("gp"),
    "MetisTuner": NniTuner("gp", note="Metis runs as Gaussian-process optimisation"),
    "DNGOTuner": NniTuner("gp", note="DNGO runs as Gaussian-process optimisation"),
    "Hyperband": NniTuner("random", "hyperband"),
    "BOHB": NniTuner("tpe", "hyperband", note="BOHB runs as TPE with the Hyperband pruner"),
}


def known_names() -> list[str]:
    return [*SAMPLERS, *ALIASES]


def resolve_sampler_name(name: str) -> str:
    """The hpo sampler for an hpo name, alias or NNI tuner name (case-insensitive)."""
    lowered = name.strip().lower()
    if lowered in SAMPLERS:
        return lowered
    if lowered in ALIASES:
        return ALIASES[lowered]
    tuner = nni_tuner(name)
    if tuner is not None:
        return tuner.sampler
    candidates = [*SAMPLERS, *ALIASES, *NNI_TUNERS]
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise UnknownNameError(
        f"unknown sampler {name!r}; {hint}known: {', '.join(SAMPLERS)} "
        f"(and NNI tuners {', '.join(NNI_TUNERS)})"
    )


def nni_tuner(name: str) -> NniTuner | None:
    for tuner_name, tuner in NNI_TUNERS.items():
        if tuner_name.lower() == name.strip().lower():
            return tuner
    return None


def kind_of(name: str) -> SamplerKind:
    return SAMPLERS[resolve_sampler_name(name)]


def encode_space_for(sampler: str, space: Space) -> Space:
    """The space as this sampler sees it (numeric choices as ordinals for CMA-ES and QMC)."""
    return space.with_ordinal_choices() if kind_of(sampler).ordinal_choices else space


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
    if not kind.models_categories:
        encoded = encode_space_for(kind.name, space)
        random_choices = [
            p.key for p, _ in encoded.walk() if isinstance(p, ChoiceParam) and not p.ordinal
        ]
        ordinal = [p.key for p, _ in encoded.walk() if isinstance(p, ChoiceParam) and p.ordinal]
        if ordinal:
            notices.append(
                Notice(
                    "",
                    f"{kind.name} optimises these numeric choices as ordered values: "
                    f"{', '.join(ordinal)}",
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


def _is_continuous(p: NumericParam | ChoiceParam) -> bool:
    return isinstance(p, NumericParam) and not p.integer and p.step is None and p.quantum is None


def grid_values(space: Space) -> dict[str, list[Any]]:
    """Every value of every parameter, by Optuna name, for the grid sampler."""
    grid: dict[str, list[Any]] = {}
    for p, _ in space.walk():
        if isinstance(p, ChoiceParam):
            grid[p.optuna_key] = [o.label for o in p.options]
            continue
        step = p.quantum or p.step or 1
        n = int((Decimal(repr(p.high)) - Decimal(repr(p.low))) / Decimal(repr(step))) + 1
        values = [Decimal(repr(p.low)) + i * Decimal(repr(step)) for i in range(n)]
        grid[p.key] = [int(v) if p.integer else float(v) for v in values]
    return grid


def grid_size(space: Space) -> int:
    size = 1
    for values in grid_values(space).values():
        size *= len(values)
    return size


def build_sampler(component: Component, space: Space, seed: int, n_objectives: int) -> BaseSampler:
    """The Optuna sampler of a spec; ``space`` must be encoded for it (``encode_space_for``)."""
    kind = kind_of(component.name)
    try:
        return kind.factory(SamplerBuild(space, seed, component.options, n_objectives))
    except (ValueError, TypeError) as exc:
        raise InvalidInputError(f"sampler {component.describe()}: {exc}") from exc
