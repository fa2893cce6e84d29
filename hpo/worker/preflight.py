"""What this machine must have before it takes a trial of a study: the objective's own list
(a data set, the built-in objective's torch, a command's directory).

Without it every trial would fail in turn, each after its start-up, each taking one of the
study's budget; so a worker, and ``hpo run`` before it creates anything, stop in one line.
"""

from __future__ import annotations

from hpo.errors import HpoError
from hpo.objectives import kind_of
from hpo.study import StudySpec


def check_runnable_here(spec: StudySpec) -> None:
    """HpoError naming everything this machine lacks to run the trials of ``spec``."""
    objective = spec.objective
    searched = frozenset(spec.space.names())
    missing = kind_of(objective).preflight(objective, spec.params, searched)
    if missing:
        raise HpoError(
            f"this machine cannot run the trials of study {spec.name!r}: " + "; ".join(missing)
        )
