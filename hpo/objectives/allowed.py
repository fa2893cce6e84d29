"""Which studies' code a worker agrees to run (``hpo worker --allow-code DIR``).

A study names code that every worker imports or runs: a ``module:function`` found in the
directories it stores, or a command run in its code directory. Whoever can write the study
database can point that at any file. A worker given allowed directories refuses, before it
runs anything, a study whose code is not all in them:

- a function: the directories it puts in front of ``sys.path`` (every later import of the
  worker looks there first), and the file its module (and each package above it) would be
  imported from, found as the import will find it; a module built into Python or installed
  elsewhere is refused;
- a command: its directory, and the files it executes (:mod:`hpo.objectives.command_policy`:
  the program, or the interpreter's script).

The built-in training objective is always allowed (it runs hpo's own package).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from hpo import env
from hpo.objectives.command_policy import check_command
from hpo.objectives.function import check_module
from hpo.objectives.target import ObjectiveSpec
from hpo.objectives.trust import inside, refused


def allowed_directories() -> list[Path] | None:
    """The directories of ``HPO_ALLOW_CODE``; None when it is not set (everything allowed)."""
    value = os.environ.get(env.ALLOW_CODE)
    if not value:
        return None
    return [Path(d).expanduser().resolve() for d in value.split(os.pathsep) if d.strip()]


def check_allowed(objective: ObjectiveSpec, allowed: Sequence[Path] | None) -> None:
    """Refuse, in one line, an objective whose code is outside the allowed directories."""
    if allowed is None or objective.is_builtin:
        return
    if objective.is_command:
        check_command(objective, allowed)
        return
    for directory in objective.path:
        resolved = Path(directory).resolve()
        if not inside(resolved, allowed):
            raise refused(f"objective {objective.target} runs code from {resolved}", allowed)
    check_module(objective, allowed)
