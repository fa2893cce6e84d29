"""Importance estimates with 5–95 % intervals from half-samples, by Optuna's evaluators.

A half-sample is a random half of the trials, drawn without replacement: the spread of an
estimate over half-samples approximates its sampling spread, and unlike the usual bootstrap
it repeats no trial, which would give PED-ANOVA's kernel density estimates false peaks.

The estimate and its interval come from the same half-sample estimates (their median and
their 5th and 95th percentiles), so the estimate always lies inside its interval. Estimates
on all trials are not used beside them: importance estimators are biased by the number of
trials (on more trials the shares concentrate), which put the estimate on all trials outside
the interval of half as many ("lr 0.64 [0.12, 0.51]").
"""

from __future__ import annotations

import functools
import math
import random
import statistics
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

import optuna
from optuna.trial import FrozenTrial

from hpo.analysis.importance_result import Estimate
from hpo.analysis.importance_target import MIN_TRIALS
from hpo.errors import HpoError
from hpo.optuna_compat import with_trial_id
from hpo.text import first_line

Method = Literal["ped_anova", "fanova"]

#: An interval needs half-samples that differ: halves of at least this many trials (with
#: 8 to 15, every "half" of MIN_TRIALS is most or all of the set, and the interval shrinks
#: to a width that looks like certainty).
INTERVAL_TRIALS = 2 * MIN_TRIALS
#: Fewer half-samples than this give no interval.
MIN_DRAWS = 3
#: fANOVA's cost grows much faster than its trials (Optuna walks every leaf of every tree):
#: a shallower forest than Optuna's default (depth 8, not 64: the same ranking on the studies
#: we measured, 6x faster).
FANOVA_TREES = 16
FANOVA_DEPTH = 8
#: Values beyond this in magnitude are scaled down before estimating: squares and sums of
#: values near the largest float (1.8e308) overflow.
LARGE_VALUE = 1e150


class _TrialsView:
    """What Optuna's importance evaluators read of a study, over a list of complete trials.

    Building an in-memory study for every half-sample would cost more than the estimates
    themselves on a 10,000-trial study.
    """

    def __init__(self, trials: Sequence[FrozenTrial], direction: Any) -> None:
        # PED-ANOVA tells its top trials apart by id: every stand-in gets one of its own.
        self._trials = [with_trial_id(trial, n) for n, trial in enumerate(trials)]
        # Values near the largest float overflow fANOVA's variances (an assertion failed in
        # Optuna): scaled down, which changes no importance (a share of variance, a rank).
        largest = max((abs(t.values[0]) for t in self._trials if t.values), default=0.0)
        if largest > LARGE_VALUE:
            for trial in self._trials:
                if trial.values:
                    trial.values = [value / largest for value in trial.values]
        self.directions = [direction]
        self.direction = direction

    def _is_multi_objective(self) -> bool:
        return False

    def get_trials(self, deepcopy: bool = False, states: Any = None) -> list[FrozenTrial]:
        return self._trials  # complete trials only, which is all the evaluators ask for

    @property
    def trials(self) -> list[FrozenTrial]:
        return self._trials


def evaluate(
    method: Method,
    trials: Sequence[FrozenTrial],
    direction: Any,
    params: list[str] | None,
    seed: int,
) -> dict[str, float]:
    """Normalised importances of ``params`` (None: Optuna's choice, as the dashboard's)."""
    if params is not None:
        present = {name for t in trials for name in t.params}
        params = [p for p in params if p in present]  # a half-sample may miss a rare branch
        if not params:
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
        try:
            return optuna.importance.get_param_importances(
                cast("optuna.Study", _TrialsView(trials, direction)),
                evaluator=evaluator,
                params=params,
                normalize=True,
            )
        except ValueError as exc:
            # Trials written into the study by other means than its workers: a parameter
            # with two ranges ("dynamic search spaces"), which Optuna's evaluators refuse.
            raise HpoError(f"importance cannot be estimated: {first_line(exc)}") from None


@dataclass
class Estimates:
    """One method's estimate per parameter, and the half-sample estimates behind them."""

    by_param: dict[str, Estimate]
    draws: list[dict[str, float]]  # empty without intervals


def half_sample_estimates(
    method: Method,
    trials: Sequence[FrozenTrial],
    direction: Any,
    params: list[str],
    samples: int,
    seed: int,
) -> Estimates:
    """Median and 5–95 % interval over ``samples`` half-samples; with too few trials or
    half-samples for an interval, the estimate on all trials and no interval."""
    on_all = functools.cache(lambda: evaluate(method, trials, direction, params, seed))
    if not can_interval(len(trials), samples):
        return Estimates({p: Estimate(v) for p, v in on_all().items()}, [])
    rng = random.Random(seed)
    half = len(trials) // 2
    draws = [
        evaluate(method, rng.sample(list(trials), half), direction, params, seed + i)
        for i in range(samples)
    ]
    by_param = {}
    for param in params:
        values = [d[param] for d in draws if param in d]
        if len(values) >= MIN_DRAWS:
            by_param[param] = spread(values)
        elif param in on_all():  # a rare branch, in too few half-samples for an interval
            by_param[param] = Estimate(on_all()[param])
    return Estimates(by_param, draws)


def can_interval(trials: int, samples: int) -> bool:
    return trials >= INTERVAL_TRIALS and samples >= MIN_DRAWS


def spread(values: Sequence[float]) -> Estimate:
    """Median and 5th–95th percentiles of the same values: the median lies between them."""
    ordered = sorted(values)
    last = len(ordered) - 1
    return Estimate(
        statistics.median(ordered),
        ordered[int(0.05 * last)],
        ordered[math.ceil(0.95 * last)],
    )
