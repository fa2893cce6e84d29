"""Study-wide budgets: how many trials, until when; and changing them while workers run."""

from __future__ import annotations

from dataclasses import dataclass, replace

from optuna.storages import BaseStorage

from hpo import attrs
from hpo.space import Space
from hpo.study.spec import StudySpec
from hpo.text import duration
from hpo.tuners import grid_size


def grid_budget(space: Space, baseline: bool, max_trials: int | None) -> tuple[int, str | None]:
    """A grid study's trial budget: at most one trial per point, plus the baseline's.

    Past that, Optuna's GridSampler would run points again. Returns the budget and, when the
    asked one was cut, a sentence saying so.
    """
    # The baseline trial runs besides the grid (it takes a trial number but no grid point).
    points = grid_size(space)
    size = points + (1 if baseline else 0)
    if max_trials is None:
        return size, None
    if max_trials <= size:
        return max_trials, None
    besides = " and the baseline" if baseline else ""
    return size, f"the grid has {points} combinations{besides}: budget cut to {size} trials"


def budget_text(spec: StudySpec) -> str:
    """``20 trials / 30m``, or ``unlimited``."""
    parts = []
    if spec.max_trials is not None:
        parts.append(f"{spec.max_trials} trials")
    if spec.max_duration_s is not None:
        parts.append(duration(spec.max_duration_s))
    return " / ".join(parts) or "unlimited"


@dataclass(frozen=True)
class BudgetChange:
    before: StudySpec
    after: StudySpec
    notice: str | None  # a grid budget cut to the grid's size


def change_budget(
    storage: BaseStorage,
    study_id: int,
    spec: StudySpec,
    *,
    max_trials: int | None = None,
    max_duration_s: float | None = None,
) -> BudgetChange:
    """Store new budgets in the study's spec; running workers pick them up within seconds."""
    notice = None
    if max_trials is not None and spec.sampler.name == "grid":
        max_trials, notice = grid_budget(spec.space, bool(spec.baseline), max_trials)
    updated = replace(
        spec,
        max_trials=spec.max_trials if max_trials is None else max_trials,
        max_duration_s=spec.max_duration_s if max_duration_s is None else max_duration_s,
    )
    storage.set_study_user_attr(study_id, attrs.SPEC, updated.to_json())
    return BudgetChange(spec, updated, notice)
