"""What ``hpo importance`` finds for one study: estimates with or without interval, flags, notes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

FlagKind = Literal["methods_disagree", "unstable", "concentrated", "model_based"]


@dataclass(frozen=True)
class Flag:
    """A reason to doubt a study's importance ranking: its kind, and the sentence for users."""

    kind: FlagKind
    text: str


@dataclass(frozen=True)
class Estimate:
    """An importance share; ``low`` and ``high`` bound its 5–95 % interval, None without one.

    With an interval, ``value`` is the median of the same half-sample estimates whose spread
    the interval is, so it always lies inside; without one, it is the estimate on all trials.
    """

    value: float
    low: float | None = None
    high: float | None = None

    @property
    def has_interval(self) -> bool:
        return self.low is not None and self.high is not None

    def to_json(self) -> dict[str, float | None]:
        return {"value": self.value, "low": self.low, "high": self.high}


@dataclass
class ParamImportance:
    param: str
    ped_anova: Estimate | None
    fanova: Estimate | None
    within_branch: bool = False  # fANOVA computed on the trials that have this parameter only


@dataclass(frozen=True)
class DashboardView:
    """What optuna-dashboard's importance chart shows for the same study, to say how it differs.

    It runs PED-ANOVA once on the final values of the complete trials (at least 2), without
    interval; ``top`` is what it ranks first (None when it draws nothing).
    """

    complete: int
    top: str | None
    same_method: bool  # the CLI's PED-ANOVA column is that very computation
    per_repeat: bool = False  # the CLI pooled repeats that the dashboard shows one by one

    def to_json(self) -> dict[str, Any]:
        return {
            "method": "PED-ANOVA once on the complete trials' final values, no interval",
            "complete_trials": self.complete,
            "top": self.top,
            "same_method": self.same_method,
            "per_repeat": self.per_repeat,
        }


@dataclass
class StudyImportance:
    study: str
    sampler: str
    trials: int  # the trials the estimates are computed on
    rows: list[ParamImportance]
    metric: str = "value"
    epoch: int | None = None  # None: the final values of complete trials; else this epoch's
    complete: int = 0  # the complete trials of the study (or pooled repeats)
    interval_note: str | None = None  # why there is no interval, where there is none
    dashboard: DashboardView | None = None
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

    @property
    def target(self) -> str:
        """What the estimates explain, in words."""
        if self.epoch is None:
            return f"final {self.metric} of {self.trials} complete trials"
        return (
            f"{self.metric} at epoch {self.epoch}, the deepest epoch that {self.trials} trials "
            f"reached ({self.complete} complete: too few on their own)"
        )

    @property
    def notes(self) -> list[str]:
        """Sentences on what the numbers are, beside the flags (which are reasons to doubt)."""
        notes = []
        if self.interval_note:
            notes.append(self.interval_note)
        view = self.dashboard
        if view is not None and view.per_repeat:
            notes.append(
                "optuna-dashboard's chart uses another method: each repeat alone, PED-ANOVA "
                "once on its complete trials' final values, without interval"
            )
        elif view is not None and not view.same_method:
            shown = (
                f"ranks {view.top} first"
                if view.top
                else "draws no chart (it needs 2 complete trials)"
            )
            notes.append(
                "optuna-dashboard's chart uses another method: PED-ANOVA once on the final "
                f"values of the {view.complete} complete trials, without interval ({shown})"
            )
        return notes

    def to_json(self) -> dict[str, Any]:
        def est(e: Estimate | None) -> dict[str, float | None] | None:
            return None if e is None else e.to_json()

        return {
            "study": self.study,
            "sampler": self.sampler,
            "trials": self.trials,
            "complete": self.complete,
            "metric": self.metric,
            "epoch": self.epoch,
            "target": self.target,
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
            "notes": self.notes,
            "dashboard": None if self.dashboard is None else self.dashboard.to_json(),
        }
