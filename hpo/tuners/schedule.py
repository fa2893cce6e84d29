"""When a pruner can act, so that the worker asks it (a database read) only then.

Each schedule follows its pruner's own code exactly (Optuna 5), so that skipping the other
steps changes no decision (pinned by ``tests/tuners/test_pruning_schedule.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class PruningSchedule:
    """When a pruner can act: the worker asks it (a database read) only then.

    The default: every step. Subclasses follow the pruner's own code exactly (Optuna 5), so
    that skipping the other steps changes no decision.
    """

    def due(self, step: int) -> bool:
        return True

    def passed(self, step: int) -> None:
        """The pruner was asked at ``step`` and let the trial go on."""


class Never(PruningSchedule):
    def due(self, step: int) -> bool:
        return False


class AfterWarmup(PruningSchedule):
    """Median, percentile, threshold: ``step < n_warmup_steps`` always returns False."""

    def __init__(self, warmup: int) -> None:
        self.warmup = warmup

    def due(self, step: int) -> bool:
        return step >= self.warmup


class Rungs(PruningSchedule):
    """Successive halving with an integer ``min_resource``: nothing happens below the next rung,
    ``min_resource × reduction_factor^(min_early_stopping_rate + rung)``; a trial that goes on
    has completed every rung up to the step it was asked at."""

    def __init__(self, first: int, factor: int) -> None:
        self.next = first
        self.factor = factor

    def due(self, step: int) -> bool:
        return step >= self.next

    def passed(self, step: int) -> None:
        while self.next <= step:
            self.next *= self.factor


def asha_schedule(o: Mapping[str, Any]) -> PruningSchedule:
    options = {"min_resource": 1, "reduction_factor": 3, "min_early_stopping_rate": 0, **o}
    if not isinstance(options["min_resource"], int):
        return PruningSchedule()  # "auto": estimated from the trials, so ask every step
    rate = options["reduction_factor"] ** options["min_early_stopping_rate"]
    return Rungs(options["min_resource"] * rate, options["reduction_factor"])
