"""The worker's progress lines: one when a trial starts, one when it ends with the study's
best so far, and (``-v``) the trial's own lines tagged with its study and number::

    trial 7 started | lr=0.01 momentum=0.9
    [digits_cnn #7] step 1: 0.8812
    trial 7 COMPLETE 0.9123 in 4.2s | best 0.9301 (trial 3) | lr=0.01 momentum=0.9

A group worker's lines name the study (``digits_cnn-tpe: trial 7 …``).
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Iterator, Sequence
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
        self.name_study = False  # a group worker's lines say which study they are about

    @property
    def prefix(self) -> str:
        return f"{self._spec.name}: " if self.name_study else ""

    def started(self, trial_number: int, params: dict[str, Any]) -> None:
        """The line of a trial that starts: its number and params."""
        if log.isEnabledFor(logging.INFO):
            log.info("%strial %d started | %s", self.prefix, trial_number, self._shown(params))

    def _shown(self, params: dict[str, Any]) -> str:
        searched = self._spec.space.names()
        return " ".join(f"{k}={_value(v)}" for k, v in params.items() if k in searched)

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
        log.info(
            "%strial %d %s in %.1fs | %s | %s",
            self.prefix,
            trial_number,
            what,
            time.monotonic() - started,
            self._best_text(trial_number, values),
            self._shown(params),
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


@contextlib.contextmanager
def tagged(tag: str) -> Iterator[None]:
    """While a trial runs, the log lines of its code (training's epochs at ``-v``, the
    reporter's steps) begin with ``[study #number]``, so that they can be told apart."""
    # The CLI gives every logger it configures (the objective's code included) hpo's handler.
    handlers = set(logging.getLogger("hpo").handlers)
    prefix = f"[{tag}] ".replace("%", "%%")

    def add_tag(record: logging.LogRecord) -> bool:
        if record.levelno < logging.INFO and not getattr(record, "hpo_tagged", False):
            record.msg = prefix + str(record.msg)
            record.hpo_tagged = True
        return True

    for handler in handlers:
        handler.addFilter(add_tag)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(add_tag)
