"""What a trial runs: the objective interface and its adapters.

- ``base``: :class:`Attempt` (what the worker tells an objective) and :class:`Objective`;
- ``outcome``: metrics, the typed :class:`Outcome`, and :func:`failure_of` (exception types
  → pruned or failed, with the reason);
- ``target``: which objective a study names (``training``, ``module:function``, a command);
- ``function``: a user's Python function (Dr.Opt's ``train.py`` unchanged);
- ``command``: a command run as a child process per trial (NNI's ``trialCommand``), with
  ``command_run`` (one run, the worker's side), ``command_guard`` (its first process, which
  owns every process it starts), ``command_io`` (its output, read in a thread),
  ``command_env`` (its environment: an allow list of the worker's), ``channel`` (how it
  reports) and ``shim/nni`` (the NNI trial API its Python scripts import);
- ``allowed``: ``--allow-code``, with ``command_policy`` (what a command executes) and
  ``trust`` (inside the allowed directories or not);
- ``training``: the built-in objective, ``training.fit``, with its seed and resumable state;
- ``kinds``: one :class:`ObjectiveKind` per kind of objective.
"""

from __future__ import annotations

from hpo.objectives.base import Attempt, AttemptInterrupted, AttemptKilled, Objective, Report
from hpo.objectives.kinds import ObjectiveKind, kind_of, load_objective
from hpo.objectives.outcome import (
    DEFAULT_METRIC,
    DIRECTIONS,
    Direction,
    Failure,
    InvalidResultError,
    Metric,
    NonFiniteResultError,
    Outcome,
    failure_of,
    outcome_of,
)
from hpo.objectives.target import (
    BUILTIN_OBJECTIVE,
    COMMAND_OBJECTIVE,
    ObjectiveSpec,
    command_objective,
    resolve_target,
)

__all__ = [
    "BUILTIN_OBJECTIVE",
    "COMMAND_OBJECTIVE",
    "DEFAULT_METRIC",
    "DIRECTIONS",
    "Attempt",
    "AttemptInterrupted",
    "AttemptKilled",
    "Direction",
    "Failure",
    "InvalidResultError",
    "Metric",
    "NonFiniteResultError",
    "Objective",
    "ObjectiveKind",
    "ObjectiveSpec",
    "Outcome",
    "Report",
    "command_objective",
    "failure_of",
    "kind_of",
    "load_objective",
    "outcome_of",
    "resolve_target",
]
