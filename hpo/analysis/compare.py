"""``hpo compare``: which tuner found the better model, how fast, and how sure that is.

For each tuner (sampler) of a group, over its repeats: trials complete / pruned / failed, the
best value (mean ± standard deviation over repeats), how many trials and how much compute it
took to reach a target, the mean best-so-far over the first N trials (the area under the
best-so-far curve divided by N, N the shortest run: a tuner that finds good models early
scores better), the mean rank over repeats and, with repeats, a rank test: Friedman for three
or more tuners, Wilcoxon signed-rank for two (repeat k of every tuner shares a seed, so the
repeats pair up). Compute is the wall-clock time of trials in the order they finished.
What the numbers cannot show (a group still running, trials equal by seed) is said beside
them (``caveats``).
"""

from __future__ import annotations

import math
import statistics
import warnings
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from optuna.trial import FrozenTrial, TrialState
from scipy.stats import friedmanchisquare, rankdata, wilcoxon

from hpo.analysis.caveats import SHARED_SEEDS, shared_starts, unfinished
from hpo.errors import InvalidInputError
from hpo.study import StudySpec


@dataclass(frozen=True)
class Run:
    """One study of a comparison: its finished trials in the order they finished."""

    study: str
    sampler: str
    repeat: int
    maximize: bool
    trials: list[FrozenTrial]

    def curve(self) -> list[tuple[float, float]]:
        """(compute seconds so far, best value so far) after each finished trial.

        The best is NaN until the first complete trial.
        """
        points = []
        spent, best = 0.0, math.nan
        for t in self.trials:
            spent += _seconds(t)
            if (
                t.state == TrialState.COMPLETE
                and t.value is not None
                and (math.isnan(best) or (t.value > best if self.maximize else t.value < best))
            ):
                best = t.value
            points.append((spent, best))
        return points

    @property
    def best(self) -> float:
        values = [b for _, b in self.curve() if not math.isnan(b)]
        return values[-1] if values else math.nan

    def reach(self, target: float) -> tuple[int, float] | None:
        """(trials, compute seconds) until the best first reached ``target``; None if never."""
        for n, (spent, best) in enumerate(self.curve(), 1):
            if not math.isnan(best) and (best >= target if self.maximize else best <= target):
                return n, spent
        return None


def _seconds(trial: FrozenTrial) -> float:
    if trial.datetime_start is None or trial.datetime_complete is None:
        return 0.0
    return max(0.0, (trial.datetime_complete - trial.datetime_start).total_seconds())


@dataclass
class TunerRow:
    sampler: str
    studies: list[str]
    complete: int
    pruned: int
    failed: int
    best: list[float]  # per repeat
    reached: int
    trials_to_target: float | None  # median over the repeats that reached it
    seconds_to_target: float | None
    mean_best_so_far: float  # area under the best-so-far curve / N, mean over repeats
    mean_rank: float | None = None

    @property
    def best_mean(self) -> float:
        finite = [b for b in self.best if not math.isnan(b)]
        return _mean(finite) if finite else math.nan

    @property
    def best_std(self) -> float:
        finite = [b for b in self.best if not math.isnan(b)]
        return _stdev(finite) if len(finite) > 1 else 0.0


@dataclass
class RankTest:
    method: str
    statistic: float
    p_value: float
    note: str = ""


@dataclass
class Comparison:
    maximize: bool
    target: float | None
    horizon: int  # N of the mean best-so-far
    rows: list[TunerRow]
    test: RankTest | None
    runs: list[Run] = field(repr=False)
    #: Why the numbers may mislead (an unfinished group), and what they are (shared seeds).
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        def number(x: float | None) -> float | None:
            return None if x is None or math.isnan(x) else x

        return {
            "direction": "maximize" if self.maximize else "minimize",
            "target": self.target,
            "horizon": self.horizon,
            "tuners": [
                {
                    "sampler": r.sampler,
                    "studies": r.studies,
                    "complete": r.complete,
                    "pruned": r.pruned,
                    "failed": r.failed,
                    "best": [number(b) for b in r.best],
                    "best_mean": number(r.best_mean),
                    "best_std": number(r.best_std),
                    "reached": r.reached,
                    "trials_to_target": r.trials_to_target,
                    "seconds_to_target": r.seconds_to_target,
                    "mean_best_so_far": number(r.mean_best_so_far),
                    "mean_rank": r.mean_rank,
                }
                for r in self.rows
            ],
            "rank_test": None
            if self.test is None
            else {
                "method": self.test.method,
                "statistic": number(self.test.statistic),
                "p_value": number(self.test.p_value),
                "note": self.test.note,
            },
            "warnings": self.warnings,
            "notes": self.notes,
        }


# -- runs --------------------------------------------------------------------------------------


def runs_from(specs: Sequence[StudySpec], trials: Mapping[str, Sequence[FrozenTrial]]) -> list[Run]:
    """The runs of a comparison: each study's finished trials in the order they finished."""
    finished_states = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
    runs = []
    directions = {tuple(s.directions) for s in specs}
    if len(directions) > 1:
        raise InvalidInputError(
            "these studies optimise in different directions; compare one kind at a time"
        )
    for spec in specs:
        if spec.is_multi_objective:
            raise InvalidInputError(
                f"study {spec.name!r} has several objectives; hpo compare needs one"
            )
        finished = sorted(
            (t for t in trials[spec.name] if t.state in finished_states),
            key=lambda t: (t.datetime_complete or t.datetime_start, t.number),
        )
        runs.append(
            Run(
                spec.name,
                spec.sampler.name,
                spec.repeat,
                spec.directions[0] == "maximize",
                finished,
            )
        )
    return runs


# -- summarising -------------------------------------------------------------------------------


def compare_studies(
    specs: Sequence[StudySpec],
    trials: Mapping[str, Sequence[FrozenTrial]],
    target: float | None = None,
) -> Comparison:
    """The comparison of these studies, with its warnings and notes."""
    comparison = compare(runs_from(specs, trials), target)
    warning = unfinished(specs, trials)
    comparison.warnings = [] if warning is None else [warning]
    if len({spec.sampler.name for spec in specs}) > 1:
        comparison.notes = [SHARED_SEEDS, *shared_starts(specs, trials)]
    return comparison


def compare(runs: Sequence[Run], target: float | None = None) -> Comparison:
    if not runs:
        raise InvalidInputError("nothing to compare")
    maximize = runs[0].maximize
    horizon = min((len(r.trials) for r in runs), default=0)
    by_sampler: dict[str, list[Run]] = defaultdict(list)
    for run in runs:
        by_sampler[run.sampler].append(run)
    rows = []
    for sampler, sampler_runs in by_sampler.items():
        sampler_runs.sort(key=lambda r: r.repeat)
        reached = [r.reach(target) for r in sampler_runs] if target is not None else []
        hits = [h for h in reached if h is not None]
        rows.append(
            TunerRow(
                sampler=sampler,
                studies=[r.study for r in sampler_runs],
                complete=sum(
                    t.state == TrialState.COMPLETE for r in sampler_runs for t in r.trials
                ),
                pruned=sum(t.state == TrialState.PRUNED for r in sampler_runs for t in r.trials),
                failed=sum(t.state == TrialState.FAIL for r in sampler_runs for t in r.trials),
                best=[r.best for r in sampler_runs],
                reached=len(hits),
                trials_to_target=statistics.median(h[0] for h in hits) if hits else None,
                seconds_to_target=statistics.median(h[1] for h in hits) if hits else None,
                mean_best_so_far=_mean([_mean_best_so_far(r, horizon) for r in sampler_runs])
                if horizon
                else math.nan,
            )
        )
    _mean_ranks(rows, maximize)
    rows.sort(key=lambda r: (math.isnan(r.best_mean), -r.best_mean if maximize else r.best_mean))
    return Comparison(maximize, target, horizon, rows, _rank_test(rows, maximize), list(runs))


def _mean_best_so_far(run: Run, horizon: int) -> float:
    """Mean of the best-so-far over the first ``horizon`` trials; before the first complete
    trial, the run's worst complete value (no credit for finding nothing yet)."""
    values = [t.value for t in run.trials if t.state == TrialState.COMPLETE and t.value is not None]
    if not values:
        return math.nan
    worst = min(values) if run.maximize else max(values)
    curve = [worst if math.isnan(b) else b for _, b in run.curve()[:horizon]]
    return _mean(curve)


def _mean(values: Sequence[float]) -> float:
    """The mean, also of values near the largest float (a result of 1e308), whose sum
    overflows."""
    try:
        return statistics.fmean(values)
    except OverflowError:
        return math.fsum(value / len(values) for value in values)


def _stdev(values: Sequence[float]) -> float:
    """The sample standard deviation; on scaled values where the squares overflow."""
    try:
        return statistics.stdev(values)
    except OverflowError:
        scale = max(abs(value) for value in values)
        return statistics.stdev([value / scale for value in values]) * scale


def _paired_bests(rows: list[TunerRow]) -> list[list[float]] | None:
    """best[tuner][repeat] when every tuner has the same number of finite repeats."""
    bests = [r.best for r in rows]
    if len({len(b) for b in bests}) != 1 or any(math.isnan(v) for b in bests for v in b):
        return None
    return bests


def _mean_ranks(rows: list[TunerRow], maximize: bool) -> None:
    bests = _paired_bests(rows)
    if bests is None or len(rows) < 2:
        return
    ranks: list[list[float]] = [[] for _ in rows]
    for k in range(len(bests[0])):
        column = [b[k] for b in bests]
        ranked = rankdata([-v for v in column] if maximize else column)  # 1 = best
        for i, rank in enumerate(ranked):
            ranks[i].append(float(rank))
    for row, r in zip(rows, ranks, strict=True):
        row.mean_rank = statistics.fmean(r)


def _rank_test(rows: list[TunerRow], maximize: bool) -> RankTest | None:
    bests = _paired_bests(rows)
    if bests is None or len(rows) < 2 or len(bests[0]) < 2:
        return None
    repeats = len(bests[0])
    note = "few repeats: a large p-value says little" if repeats < 5 else ""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns about small samples and ties
        if len(rows) == 2:
            differences = [a - b for a, b in zip(bests[0], bests[1], strict=True)]
            if all(d == 0 for d in differences):
                return RankTest("Wilcoxon signed-rank", 0.0, 1.0, "identical results")
            result = wilcoxon(bests[0], bests[1])
            return RankTest(
                "Wilcoxon signed-rank", float(result.statistic), float(result.pvalue), note
            )
        result = friedmanchisquare(*bests)
        return RankTest("Friedman", float(result.statistic), float(result.pvalue), note)
