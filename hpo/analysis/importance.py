"""``hpo importance``: which hyperparameter mattered, by two methods, with error bars.

Two estimators side by side, on a study's complete trials (or, for a pruned study, on every
trial's value at the deepest epoch that enough trials reached: ``importance_target``):

* PED-ANOVA (Optuna's default, and optuna-dashboard's): how differently a parameter is
  distributed among the top 10 % of trials than among all of them. Handles conditional
  parameters (a nested ``choice``'s sub-space) natively: each is assessed on the trials
  where it exists.
* fANOVA: the share of the objective's variance a random forest attributes to each parameter.
  Optuna's fANOVA needs every parameter in every trial, so it is computed on the parameters
  every trial has; a conditional parameter gets its fANOVA within its own trials (marked
  "within branch"), which is not comparable with the others' shares.

Each gets a 5–95 % interval from half-samples (``importance_estimate``), where there are
trials enough for one. A study is flagged when the two methods disagree on the most
important parameter, when the half-samples do not agree on it, and when the sampler
concentrated its trials: importance from a model-based sampler's trials is biased toward
where it sampled (only random or QMC sampling gives an unbiased picture of the whole space).
"""

from __future__ import annotations

import logging
import math
import random
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import optuna
from optuna.distributions import BaseDistribution, FloatDistribution, IntDistribution
from optuna.trial import FrozenTrial, TrialState

from hpo.analysis.importance_estimate import (
    INTERVAL_TRIALS,
    MIN_DRAWS,
    can_interval,
    evaluate,
    half_sample_estimates,
)
from hpo.analysis.importance_result import (
    DashboardView,
    Estimate,
    Flag,
    FlagKind,
    ParamImportance,
    StudyImportance,
)
from hpo.analysis.importance_target import MIN_TRIALS, choose_target
from hpo.study import StudySpec

__all__ = [
    "MIN_TRIALS",
    "UNBIASED_SAMPLERS",
    "Estimate",
    "Flag",
    "FlagKind",
    "ParamImportance",
    "StudyImportance",
    "importance_by_tuner",
    "sampling_spread",
    "study_importance",
]

#: Samplers whose trials cover the space regardless of results: their importance is unbiased.
UNBIASED_SAMPLERS = frozenset({"random", "qmc", "grid"})
#: The top parameter must be the top one in at least this share of the half-samples.
STABLE_TOP_SHARE = 0.7
#: Below this spread of a numeric parameter (std of its values mapped onto [0, 1]; uniform
#: sampling gives 0.29), the sampler's trials are called concentrated.
CONCENTRATED_SPREAD = 0.12
#: fANOVA runs on a random subsample of this many trials of a bigger study.
FANOVA_MAX_TRIALS = 500

log = logging.getLogger("hpo.analysis")


def study_importance(
    spec: StudySpec,
    trials: Sequence[FrozenTrial],
    *,
    bootstrap: int = 20,
    seed: int = 0,
    pooled: bool = False,
) -> StudyImportance:
    """Both methods with half-sample intervals, the flags and notes, for one study's trials
    (``pooled``: the trials of several repeats, which the dashboard shows one by one)."""
    target = choose_target(spec.name, trials, multi_objective=spec.is_multi_objective)
    explained = target.trials
    direction = optuna.study.StudyDirection[spec.directions[0].upper()]
    searched = _varying_params(explained)
    everywhere = [p for p in searched if all(p in t.params for t in explained)]
    conditional = [p for p in searched if p not in everywhere]

    ped = half_sample_estimates("ped_anova", explained, direction, searched, bootstrap, seed)
    fanova_trials = _subsample(explained, FANOVA_MAX_TRIALS, seed)
    # The forest costs far more than PED-ANOVA: a quarter of the half-samples (at least 3).
    fanova_samples = max(bootstrap // 4, MIN_DRAWS) if bootstrap else 0
    fan = half_sample_estimates(
        "fanova", fanova_trials, direction, everywhere, fanova_samples, seed
    )
    rows = [
        ParamImportance(p, ped.by_param.get(p, Estimate(0.0)), fan.by_param.get(p))
        for p in searched
    ]
    for row in rows:
        if row.param in conditional:
            row.fanova = _within_branch(row.param, explained, direction, fanova_samples, seed)
            row.within_branch = row.fanova is not None
    rows.sort(key=lambda r: -(r.ped_anova.value if r.ped_anova else 0.0))
    result = StudyImportance(
        spec.name,
        spec.sampler.name,
        len(explained),
        rows,
        metric=spec.metrics[0].name,
        epoch=target.epoch,
        complete=target.complete,
        interval_note=_interval_note(len(explained), bootstrap),
    )
    result.dashboard = _dashboard_view(
        trials, spec, direction, same=not ped.draws and target.epoch is None, pooled=pooled
    )
    result.flags = _flags(result, ped.draws, fan.draws, explained)
    return result


def _interval_note(trials: int, bootstrap: int) -> str | None:
    if can_interval(trials, bootstrap):
        return None
    if trials < INTERVAL_TRIALS:
        return (
            f"no intervals: {trials} trials are too few (half-samples need {INTERVAL_TRIALS} "
            "trials to differ); the estimates are on all trials, so read them as rough"
        )
    return f"no intervals: {bootstrap} half-samples asked (--bootstrap; {MIN_DRAWS} at least)"


def _dashboard_view(
    trials: Sequence[FrozenTrial], spec: StudySpec, direction: Any, *, same: bool, pooled: bool
) -> DashboardView:
    """What optuna-dashboard draws for this study: PED-ANOVA once, on complete trials."""
    complete = [t for t in trials if t.state == TrialState.COMPLETE and t.values]
    if pooled:  # the dashboard shows each repeat alone: its rankings are not this one
        return DashboardView(len(complete), None, same_method=False, per_repeat=True)
    if len(complete) < 2:
        return DashboardView(len(complete), None, same_method=False)
    if spec.is_multi_objective:
        complete = [
            optuna.trial.create_trial(
                value=t.values[0], params=t.params, distributions=t.distributions
            )
            for t in complete
        ]
    shares = evaluate("ped_anova", complete, direction, None, 0)
    top = max(shares, key=shares.__getitem__) if shares else None
    return DashboardView(len(complete), top, same_method=same)


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
    param: str, trials: Sequence[FrozenTrial], direction: Any, samples: int, seed: int
) -> Estimate | None:
    """fANOVA of a conditional parameter among the trials where it exists."""
    subset = [t for t in trials if param in t.params]
    common = [p for p in _varying_params(subset) if all(p in t.params for t in subset)]
    if len(subset) < MIN_TRIALS or param not in common:
        return None
    subset = _subsample(subset, FANOVA_MAX_TRIALS, seed)
    return half_sample_estimates("fanova", subset, direction, common, samples, seed).by_param.get(
        param
    )


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
                    "the half-samples",
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
    results: list[StudyImportance] = []
    for sampler, members in by_sampler.items():
        trials: list[FrozenTrial] = []
        for spec in members:
            trials.extend(trials_by_study[spec.name])  # study_importance picks what it explains
        label = members[0].name if len(members) == 1 else f"{members[0].group}-{sampler}"
        # Seconds on big studies (fANOVA, the half-samples): say what is being done.
        log.info(
            "importance of %s (%d trials, %d half-samples) [%d/%d]",
            label,
            len(trials),
            bootstrap,
            len(results) + 1,
            len(by_sampler),
        )
        results.append(
            study_importance(
                replace(members[0], name=label),
                trials,
                bootstrap=bootstrap,
                pooled=len(members) > 1,
            )
        )
    return results
