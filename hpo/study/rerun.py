"""A study made again from its file: the budget the file states now, against the stored one.

``hpo run --space config.yml`` (and ``create-study --exist-ok``) on a study that exists resumes
it: the experiment (space, sampler, pruner, objective, params, metrics) must be the same, or
it is refused (``hpo.study.store``). Its budgets may differ: the user raised
``maxTrialNumber`` from 8 to 10 and ran it again. Such a change is never kept silently:
``hpo run`` applies it (it is the command one re-runs after editing the file, as NNI applies
an edited config), ``create-study --exist-ok`` reports it with the ``hpo set-budget`` command
that applies it (scripts run it on many machines at once, and must not undo a budget that
``hpo set-budget`` changed meanwhile). A budget the file and the command line leave unstated
keeps the stored one: it says nothing either way.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, replace

from optuna.storages import BaseStorage

from hpo.study.budget import budget_text, change_budget
from hpo.study.config_keys import parse_duration
from hpo.study.spec import StudySpec
from hpo.study.store import Created
from hpo.text import duration


@dataclass(frozen=True)
class BudgetAsked:
    """The budgets a re-run states that differ from the stored ones (None: no change)."""

    max_trials: int | None
    max_duration_s: float | None

    def describe(self, stored: StudySpec) -> str:
        """``10 trials (stored: 8 trials / 1h)``."""
        parts = []
        if self.max_trials is not None:
            parts.append(f"{self.max_trials} trials")
        if self.max_duration_s is not None:
            parts.append(duration(self.max_duration_s))
        return f"{' / '.join(parts)} (stored: {budget_text(stored)})"

    def command(self, study: str) -> str:
        """The ``hpo set-budget`` command that applies it."""
        words = ["hpo", "set-budget", shlex.quote(study)]
        if self.max_trials is not None:
            words += ["--max-trials", str(self.max_trials)]
        if self.max_duration_s is not None:
            words += ["--max-duration", duration_text(self.max_duration_s)]
        return " ".join(words)


def changed_budget(stored: StudySpec, asked: StudySpec) -> BudgetAsked | None:
    """What the re-run asks of the budgets that the stored study does not have already."""
    trials = asked.max_trials
    seconds = asked.max_duration_s
    change = BudgetAsked(
        trials if trials is not None and trials != stored.max_trials else None,
        seconds if seconds is not None and seconds != stored.max_duration_s else None,
    )
    return None if change.max_trials is None and change.max_duration_s is None else change


def duration_text(seconds: float) -> str:
    """A duration ``--max-duration`` reads back exactly: ``2h`` where that is exact, else
    seconds."""
    short = duration(seconds)
    return short if parse_duration(short) == seconds else f"{seconds:g}s"


def settle_budget(
    storage: BaseStorage, member: Created, asked: StudySpec, *, apply: bool
) -> tuple[Created, list[str]]:
    """A resumed study whose file (or command line) now states another budget: applied
    (``apply``: ``hpo run``) or not; the study as it now is, and what to tell the user."""
    change = changed_budget(member.spec, asked) if member.reused else None
    if change is None:
        return member, []
    name = member.spec.name
    if not apply:
        wanted = change.describe(member.spec)
        return member, [
            f"study {name!r} keeps its stored budget; the file asks {wanted}: "
            + change.command(name)
        ]
    done = change_budget(
        storage,
        member.study_id,
        member.spec,
        max_trials=change.max_trials,
        max_duration_s=change.max_duration_s,
    )
    notes = [done.notice] if done.notice else []
    notes.append(
        f"study {name!r} budget changed as the file says: {budget_text(done.after)} "
        f"(was {budget_text(done.before)})"
    )
    return replace(member, spec=done.after), notes
