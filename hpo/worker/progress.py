"""The worker's progress lines: one per trial, with the study's best so far.

``trial 7 COMPLETE 0.9123 in 4.2s | best 0.9301 (trial 3) | lr=0.01 momentum=0.9``
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from typing import Any

import optuna

from hpo.study import StudySpec
from hpo.text import number

log = logging.getLogger("hpo.worker")

#: At most this often (seconds) a worker reads the study back from the storage: its best value
#: here, its stop flag and budgets in the loop (not at every trial when trials take milliseconds).
REFRESH = 2.0


class Progress:
    """Writes a trial's line; reads the study's best at most every REFRESH seconds, with this
    worker's own results merged in between."""

    def __init__(self, study: optuna.Study, spec: StudySpec) -> None:
        self._study = study
        self._spec = spec
        self._best: tuple[float, int] | None = None  # the study's best (value, trial number)
        self._best_read = -math.inf

    def trial(
        self,
        trial_number: int,
        what: str,
        started: float,
        params: dict[str, Any],
        values: Sequence[float] | None = None,
    ) -> None:
        if not log.isEnabledFor(logging.INFO):
            return
        searched = self._spec.space.names()
        shown = " ".join(f"{k}={_value(v)}" for k, v in params.items() if k in searched)
        log.info(
            "trial %d %s in %.1fs | %s | %s",
            trial_number,
            what,
            time.monotonic() - started,
            self._best_text(trial_number, values),
            shown,
        )

    def _best_text(self, trial_number: int, values: Sequence[float] | None) -> str:
        if self._spec.is_multi_objective:
            return "several objectives"
        maximize = self._spec.metrics[0].direction == "maximize"
        now = time.monotonic()
        if now - self._best_read >= REFRESH:
            self._best_read = now
            try:
                best = self._study.best_trial
                self._best = (float(best.value or 0.0), best.number)
            except ValueError:
                self._best = None
            except Exception:  # progress output must never fail a trial
                pass
        elif values:
            value = values[0]
            if self._best is None or (value > self._best[0] if maximize else value < self._best[0]):
                self._best = (value, trial_number)
        if self._best is None:
            return "best: none yet"
        return f"best {number(self._best[0])} (trial {self._best[1]})"


def _value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, dict):
        inner = ",".join(f"{k}={_value(x)}" for k, x in v.items() if k != "_name")
        return f"{v.get('_name')}({inner})" if inner else str(v.get("_name"))
    return str(v)
