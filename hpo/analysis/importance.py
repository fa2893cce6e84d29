"""``hpo importance``: which hyperparameter mattered, by two methods, with error bars.

Two estimators side by side, on a study's complete trials:

* PED-ANOVA (Optuna's default): how differently a parameter is distributed among the top 10 %
  of trials than among all of them. Handles conditional parameters (a nested ``choice``'s
  sub-space) natively: each is assessed on the trials where it exists.
* fANOVA: the share of the objective's variance a random forest attributes to each parameter.
  Optuna's fANOVA needs every parameter in every trial, so it is computed on the parameters
  every complete trial has; a conditional parameter gets its fANOVA within its own trials
  (marked "within branch"), which is not comparable with the others' shares.

Each gets a 5–95 % interval from half-samples (random halves of the trials, without
replacement: the spread of an estimate over half-samples approximates its sampling spread,
and unlike the usual bootstrap it repeats no trial, which would give PED-ANOVA's kernel
density estimates false peaks). A study is
flagged when the two methods disagree on the most important parameter, when the bootstrap
does not agree with itself on it, and when the sampler concentrated its trials: importance
from a model-based sampler's trials is biased toward where it sampled (only random or QMC
sampling gives an unbiased picture of the whole space).
"""

from __future__ import annotations

import math
import random
import statistics
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, cast

import optuna
from optuna.distributions import BaseDistribution, FloatDistribution, IntDistribution
from optuna.trial import FrozenTrial, TrialState

from hpo.errors import HpoError
from hpo.optuna_compat import with_trial_id
from hpo.study import StudySpec

#: Samplers whose trials cover the space regardless of results: their importance is unbiased.
UNBIASED_SAMPLERS = frozenset({"random", "qmc", "grid"})
#: The top parameter must be the top one in at least this share of the bootstrap samples.
STABLE_TOP_SHARE = 0.7
#: Below this spread of a numeric parameter (std of its values mapped onto [0, 1]; uniform
#: sampling gives 0.29), the sampler's trials are called concentrated.
CONCENTRATED_SPREAD = 0.12
#: fANOVA's cost grows much faster than its trials (Optuna walks every leaf of every tree):
#: on a bigger study it runs on a random subsample of this many, with a shallower forest than
#: Optuna's default (depth 8, not 64: the same ranking on the studies we measured, 6x faster).
FANOVA_MAX_TRIALS = 500
FANOVA_TREES = 16
FANOVA_DEPTH = 8
MIN_TRIALS = 8


FlagKind = Literal["methods_disagree", "unstable", "concentrated", "model_based"]


@dataclass(frozen=True)
class Flag:
    """A reason to doubt a study's importance ranking: its kind, and the sentence for users."""

    kind: FlagKind
    text: str


@dataclass
class Estimate:
    value: float
    low: float
    high: float


@dataclass
class ParamImportance:
    param: str
    ped_anova: Estimate | None
    fanova: Estimate | None
    within_branch: bool = False  # fANOVA computed on the trials that have this parameter only


@dataclass
class StudyImportance:
    study: str
    sampler: str
    trials: int
    rows: list[ParamImportance]
    flags: list[Flag] = field(default_factory=list)

    def flagged(self, kind: FlagKind) -> bool:
        return any(f.kind == kind for f in self.flags)

    def top(self, method: str) -> str | None:
        ranked = [
            (getattr(r, method).value, r.param)
            for r in self.rows
            if getattr(r, method) is not None and not r.within_branch
        ]
        return max(ranked)[1] if ranked else None

    def to_json(self) -> dict[str, Any]:
        def est(e: Estimate | None) -> dict[str, float] | None:
            return None if e is None else {"value": e.value, "low": e.low, "high": e.high}

        return {
            "study": self.study,
            "sampler": self.sampler,
            "trials": self.trials,
            "params": [
                {
                    "param": r.param,
                    "ped_anova": est(r.ped_anova),
                    "fanova": est(r.fanova),
                    "within_branch": r.within_branch,
                }
                for r in self.rows
            ],
            "top": {"ped_anova": self.top("ped_anova"), "fanova": self.top("fanova")},
            "flags": [f.text for f in self.flags],
        }


# -- estimating --------------------------------------------------------------------------------


class _TrialsView:
    """What Optuna's importance evaluators read of a study, over a list of complete trials.

    Building an in-memory study for every bootstrap resample would cost more than the
    estimates themselves on a 10,000-trial study. Resampled duplicates get ids of their own:
    PED-ANOVA tells its top trials apart by id.
    """

    def __init__(self, trials: Sequence[FrozenTrial], direction: Any) -> None:
        self._trials = [with_trial_id(trial, n) for n, trial in enumerate(trials)]
        self.directions = [direction]
        self.direction = direction

    def _is_multi_objective(self) -> bool:
        return False

    def get_trials(self, deepcopy: bool = False, states: Any = None) -> list[FrozenTrial]:
        return self._trials  # complete trials only, which is all the evaluators ask for

    @property
    def trials(self) -> list[FrozenTrial]:
        return self._trials


def _evaluate(
    method: str, trials: Sequence[FrozenTrial], direction: Any, params: list[str], seed: int
) -> dict[str, float]:
    present = {name for t in trials for name in t.params}
    assessed = [p for p in params if p in present]  # a resample may miss a rare branch
    if not assessed:
        return {}
    evaluator: optuna.importance.BaseImportanceEvaluator = (
        optuna.importance.PedAnovaImportanceEvaluator()
        if method == "ped_anova"
        else optuna.importance.FanovaImportanceEvaluator(
            n_trees=FANOVA_TREES, max_depth=FANOVA_DEPTH, seed=seed
        )
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "importances will be equal" on degenerate samples
        return optuna.importance.get_param_importances(
            cast("optuna.Study", _TrialsView(trials, direction)),
            evaluator=evaluator,
            params=assessed,
            normalize=True,
        )


def _bootstrap(
    method: str,
    trials: Sequence[FrozenTrial],
    direction: Any,
    params: list[str],
    samples: int,
    seed: int,
) -> tuple[dict[str, float], list[dict[str, float]]]:
    """The point estimate on all ``trials`` and one estimate per resample."""
    rng = random.Random(seed)
    point = _evaluate(method, trials, direction, params, seed)
    half = max(len(trials) // 2, MIN_TRIALS)
    resampled = [
        _evaluate(method, rng.sample(list(trials), half), direction, params, seed + i)
        for i in range(samples)
    ]
    return point, resampled


def _interval(point: float, draws: list[float]) -> Estimate:
    if not draws:
        return Estimate(point, point, point)
    ordered = sorted(draws)
    low = ordered[int(0.05 * (len(ordered) - 1))]
    high = ordered[math.ceil(0.95 * (len(ordered) - 1))]
    return Estimate(point, low, high)


def study_importance(
    spec: StudySpec, trials: Sequence[FrozenTrial], *, bootstrap: int = 20, seed: int = 0
) -> StudyImportance:
    """Both methods with bootstrap intervals, and the flags, for one study's trials."""
    complete = [t for t in trials if t.state == TrialState.COMPLETE and t.values]
    if len(complete) < MIN_TRIALS:
        raise HpoError(
            f"study {spec.name!r} has {len(complete)} complete trials; importance needs at "
            f"least {MIN_TRIALS}"
        )
    if spec.is_multi_objective:
        # Importance of the first objective; a trial's other values are dropped.
        complete = [
            optuna.trial.create_trial(
                value=t.values[0], params=t.params, distributions=t.distributions
            )
            for t in complete
        ]
    direction = optuna.study.StudyDirection[spec.directions[0].upper()]
    searched = _varying_params(complete)
    everywhere = [p for p in searched if all(p in t.params for t in complete)]
    conditional = [p for p in searched if p not in everywhere]

    ped_point, ped_draws = _bootstrap("ped_anova", complete, direction, searched, bootstrap, seed)
    fanova_trials = _subsample(complete, FANOVA_MAX_TRIALS, seed)
    # The forest costs far more than PED-ANOVA: a quarter of the resamples (at least 3).
    fanova_samples = max(bootstrap // 4, 3) if bootstrap else 0
    fan_point, fan_draws = (
        _bootstrap("fanova", fanova_trials, direction, everywhere, fanova_samples, seed)
        if len(everywhere) > 0
        else ({}, [])
    )
    rows = [
        ParamImportance(
            p,
            _interval(ped_point.get(p, 0.0), [d.get(p, 0.0) for d in ped_draws]),
            _interval(fan_point[p], [d.get(p, 0.0) for d in fan_draws]) if p in fan_point else None,
        )
        for p in searched
    ]
    for row in rows:
        if row.param in conditional:
            row.fanova = _within_branch(row.param, complete, direction, seed)
            row.within_branch = row.fanova is not None
    rows.sort(key=lambda r: -(r.ped_anova.value if r.ped_anova else 0.0))
    result = StudyImportance(spec.name, spec.sampler.name, len(complete), rows)
    result.flags = _flags(result, ped_draws, fan_draws, complete)
    return result


def _varying_params(trials: Sequence[FrozenTrial]) -> list[str]:
    """Parameters seen in the trials, in first-seen order, that took more than one value."""
    seen: dict[str, set[Any]] = {}
    for t in trials:
        for name, value in t.params.items():
            seen.setdefault(name, set()).add(value)
    return [name for name, values in seen.items() if len(values) > 1]


def _subsample(trials: Sequence[FrozenTrial], limit: int, seed: int) -> list[FrozenTrial]:
    if len(trials) <= limit:
        return list(trials)
    return random.Random(seed).sample(list(trials), limit)


def _within_branch(
    param: str, trials: Sequence[FrozenTrial], direction: Any, seed: int
) -> Estimate | None:
    """fANOVA of a conditional parameter among the trials where it exists."""
    subset = [t for t in trials if param in t.params]
    common = [p for p in _varying_params(subset) if all(p in t.params for t in subset)]
    if len(subset) < MIN_TRIALS or param not in common:
        return None
    subset = _subsample(subset, FANOVA_MAX_TRIALS, seed)
    value = _evaluate("fanova", subset, direction, common, seed).get(param, 0.0)
    return Estimate(value, value, value)


def _flags(
    result: StudyImportance,
    ped_draws: list[dict[str, float]],
    fan_draws: list[dict[str, float]],
    trials: Sequence[FrozenTrial],
) -> list[Flag]:
    flags = []
    ped_top, fan_top = result.top("ped_anova"), result.top("fanova")
    if ped_top and fan_top and ped_top != fan_top:
        flags.append(
            Flag(
                "methods_disagree",
                f"methods disagree: PED-ANOVA ranks {ped_top} first, fANOVA {fan_top}",
            )
        )
    for method, top, draws in (("PED-ANOVA", ped_top, ped_draws), ("fANOVA", fan_top, fan_draws)):
        if top is None or not draws:
            continue
        share = sum(max(d, key=d.__getitem__) == top for d in draws if d) / len(draws)
        if share < STABLE_TOP_SHARE:
            flags.append(
                Flag(
                    "unstable",
                    f"{method} ranking unstable: {top} is first in only {share:.0%} of "
                    "the bootstrap samples",
                )
            )
    spread = sampling_spread(trials)
    if result.sampler not in UNBIASED_SAMPLERS and spread is not None:
        if spread < CONCENTRATED_SPREAD:
            flags.append(
                Flag(
                    "concentrated",
                    f"sampling concentrated (spread {spread:.2f}; uniform 0.29): "
                    f"{result.sampler}'s ranking describes where it searched, not the whole space",
                )
            )
        else:
            flags.append(
                Flag(
                    "model_based",
                    f"{result.sampler} samples where it expects good results: its importances "
                    "are biased toward that region (random sampling gives the unbiased view)",
                )
            )
    return flags


def sampling_spread(trials: Sequence[FrozenTrial]) -> float | None:
    """Median over numeric parameters of the std of their values mapped onto [0, 1]
    (log scale where the distribution is), over the later half of the trials."""
    later = sorted(trials, key=lambda t: t.number)[len(trials) // 2 :]
    spreads = []
    names = {n for t in later for n in t.params}
    for name in sorted(names):
        points = [
            u
            for t in later
            if name in t.params and (u := _unit(t.distributions[name], t.params[name])) is not None
        ]
        if len(points) >= 4:
            spreads.append(statistics.pstdev(points))
    return statistics.median(spreads) if spreads else None


def _unit(distribution: BaseDistribution, value: Any) -> float | None:
    if not isinstance(distribution, FloatDistribution | IntDistribution):
        return None
    low, high = float(distribution.low), float(distribution.high)
    if high <= low:
        return None
    if distribution.log:
        return (math.log(value) - math.log(low)) / (math.log(high) - math.log(low))
    return (float(value) - low) / (high - low)


def importance_by_tuner(
    specs: Sequence[StudySpec],
    trials_by_study: Mapping[str, Sequence[FrozenTrial]],
    *,
    bootstrap: int = 20,
) -> list[StudyImportance]:
    """One estimate per tuner: the trials of its repeats pooled (one study: that study)."""
    by_sampler: dict[str, list[StudySpec]] = {}
    for spec in specs:
        by_sampler.setdefault(spec.sampler.name, []).append(spec)
    results = []
    for sampler, members in by_sampler.items():
        trials: list[FrozenTrial] = []
        for spec in members:
            trials.extend(trials_by_study[spec.name])  # study_importance keeps the complete
        label = members[0].name if len(members) == 1 else f"{members[0].group}-{sampler}"
        results.append(
            study_importance(replace(members[0], name=label), trials, bootstrap=bootstrap)
        )
    return results
