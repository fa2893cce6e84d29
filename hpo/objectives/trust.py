"""Whether a file lies in the directories a worker may run code from, and the refusal if not.

Paths are compared resolved (symbolic links followed): what counts is the file that runs, not
the name that leads to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hpo import env
from hpo.errors import InvalidInputError


def inside(path: Path | str, allowed: Sequence[Path]) -> bool:
    """Whether ``path`` (resolved) is one of ``allowed`` or lies below one."""
    resolved = Path(path).resolve()
    return any(resolved == root or root in resolved.parents for root in allowed)


def refused(what: str, allowed: Sequence[Path]) -> InvalidInputError:
    """The one-line refusal: ``the study's {what}, outside the directories …``."""
    return InvalidInputError(
        f"the study's {what}, outside the directories this worker may run code from "
        f"({', '.join(map(str, allowed))}; {env.ALLOW_CODE})"
    )


def not_allowed(what: str, why: str) -> InvalidInputError:
    """A refusal of something that cannot be checked: ``the study's {what}: {why}``."""
    return InvalidInputError(f"the study's {what}: {why} ({env.ALLOW_CODE} is set)")
