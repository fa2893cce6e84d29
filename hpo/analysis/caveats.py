"""What a comparison must say about itself: studies not finished, and trials shared by seed.

* An unfinished group compares tuners at different budgets (a tuner with more trials done
  looks better), so ``compare`` warns and names the studies.
* Repeat k of every tuner shares a seed (common random numbers: the comparison pairs
  repeats, and the noise they share cancels). A tuner that starts with random trials (TPE's
  start-up trials, GP's, …) then samples exactly what ``random`` samples for those trials:
  that part of the comparison is identical by construction. The trials that match are
  counted from the studies themselves, not assumed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from itertools import combinations

from optuna.trial import FrozenTrial, TrialState

from hpo.optuna_compat import retry_count
from hpo.study import BudgetClock, StudySpec, time_left

#: Studies named in a warning at most; the rest are counted.
NAMED = 4
SHARED_SEEDS = (
    "repeat k of every tuner shares a seed (common random numbers): tuners that start with "
    "random trials sample the same params as random in those trials"
)


def unfinished(
    specs: Sequence[StudySpec], trials: Mapping[str, Sequence[FrozenTrial]]
) -> str | None:
    """One warning naming the studies that have trials to run, or None when all are done."""
    behind = [
        f"{spec.name} {state}"
        for spec in specs
        if (state := _unfinished_state(spec, trials[spec.name])) is not None
    ]
    if not behind:
        return None
    named = "; ".join(behind[:NAMED])
    if len(behind) > NAMED:
        named += f"; {len(behind) - NAMED} more"
    return (
        f"unfinished: {len(behind)} of {len(specs)} studies have trials to run ({named}); "
        "tuners are compared at different budgets until their workers finish"
    )


def _unfinished_state(spec: StudySpec, trials: Sequence[FrozenTrial]) -> str | None:
    """ "5 of 12 trials, 1 running" for a study with work left; None when it is done."""
    active = sum(t.state in (TrialState.RUNNING, TrialState.WAITING) for t in trials)
    counted = [t for t in trials if retry_count(t) == 0]  # a retry redoes a counted trial
    finished = sum(t.state.is_finished() for t in counted)
    budget_left = spec.max_trials is not None and len(counted) < spec.max_trials
    starts = [t.datetime_start.timestamp() for t in trials if t.datetime_start is not None]
    # The trials' own start times stand in for the study's clock (this machine's, roughly).
    first = min(starts, default=None)
    clock = BudgetClock(0.0, first) if first is not None else BudgetClock()
    if spec.max_duration_s is not None and time_left(spec, clock, time.time()) <= 0:
        budget_left = False  # the time budget ended the study before its trial budget
    if not active and not budget_left:
        return None
    of = f" of {spec.max_trials}" if spec.max_trials is not None else ""
    return f"{finished}{of} trials finished" + (f", {active} running" if active else "")


def shared_starts(
    specs: Sequence[StudySpec], trials: Mapping[str, Sequence[FrozenTrial]]
) -> list[str]:
    """For each pair of tuners, the first trials whose params are equal in every repeat."""
    by_repeat: dict[int, dict[str, Sequence[FrozenTrial]]] = {}
    for spec in specs:
        by_repeat.setdefault(spec.repeat, {})[spec.sampler.name] = trials[spec.name]
    samplers = sorted({spec.sampler.name for spec in specs})
    sentences = []
    for a, b in combinations(samplers, 2):
        shared = [
            _leading_equal(tuners[a], tuners[b])
            for tuners in by_repeat.values()
            if a in tuners and b in tuners
        ]
        if shared and min(shared) > 0:
            fewest = min(shared)
            sentences.append(
                f"{a} and {b} sampled the same params in their first {fewest} trials"
                + (" of every repeat" if len(shared) > 1 else "")
            )
    return sentences


def _leading_equal(a: Sequence[FrozenTrial], b: Sequence[FrozenTrial]) -> int:
    """How many trials, from number 0 on, took the same params in both studies."""
    first = {t.number: t.params for t in a if t.params}
    second = {t.number: t.params for t in b if t.params}
    n = 0
    while n in first and n in second and _same(first[n], second[n]):
        n += 1
    return n


def _same(a: Mapping[str, object], b: Mapping[str, object]) -> bool:
    if a.keys() != b.keys():
        return False
    for name, value in a.items():
        other = b[name]
        if isinstance(value, float) and isinstance(other, float):
            if not math.isclose(value, other, rel_tol=1e-12, abs_tol=0.0):
                return False
        elif value != other:
            return False
    return True
