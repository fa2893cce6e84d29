"""How a run stops early: patience without improvement, or a loss that diverged."""

from __future__ import annotations

import math
from dataclasses import dataclass


class DivergedError(FloatingPointError):
    """The training loss became NaN or infinite."""


@dataclass
class EarlyStopping:
    """Stop after ``patience`` epochs without a better validation value (None: never)."""

    patience: int | None
    best: float = -math.inf
    best_epoch: int = 0
    since_best: int = 0

    def update(self, value: float, epoch: int) -> bool:
        """Record an epoch's value; True when training should stop now."""
        if value > self.best:
            self.best, self.best_epoch, self.since_best = value, epoch, 0
        else:
            self.since_best += 1
        return self.patience is not None and self.since_best >= self.patience
