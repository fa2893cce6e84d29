"""Which studies' code a worker agrees to run (``hpo worker --allow-code DIR``).

A study names code that every worker imports or runs: a ``module:function`` found in the
directories it stores, or a command run in its code directory. Whoever can write the study
database can point that at any file. A worker given allowed directories refuses a study whose
code lies outside them, before it runs anything; the built-in training objective is always
allowed (it runs hpo's own package).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from hpo import env
from hpo.errors import InvalidInputError
from hpo.objectives.target import ObjectiveSpec


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
    for directory in objective.path:
        resolved = Path(directory).resolve()
        if not any(resolved == root or root in resolved.parents for root in allowed):
            what = "command" if objective.is_command else f"objective {objective.target}"
            raise InvalidInputError(
                f"the study's {what} runs code from {resolved}, outside the directories this "
                f"worker may run code from ({', '.join(map(str, allowed))}; {env.ALLOW_CODE})"
            )
