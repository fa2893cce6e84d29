"""Which objective a study runs: ``training`` (built in), or a user's ``module:function``."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hpo.errors import InvalidInputError
from hpo.space import Notice

#: The objective that trains a model with ``training.fit``.
BUILTIN_OBJECTIVE = "training"


@dataclass(frozen=True)
class ObjectiveSpec:
    """What a trial runs, as the study stores it.

    ``target`` is ``"training"`` (the built-in objective) or ``"module:function"``; ``path``
    lists directories put in front of ``sys.path`` before importing it (the directory of a
    Dr.Opt config, for its ``train.py``).
    """

    target: str = BUILTIN_OBJECTIVE
    path: tuple[str, ...] = ()

    @property
    def is_builtin(self) -> bool:
        return self.target == BUILTIN_OBJECTIVE


def resolve_target(target: str, directory: str, where: str) -> tuple[ObjectiveSpec, list[Notice]]:
    """An objective reference (``training``, ``module:function`` or ``file.py:function``)
    given at ``where``, relative to ``directory``; a notice when workers may not import it."""
    target = target.strip()
    if target == BUILTIN_OBJECTIVE:
        return ObjectiveSpec(BUILTIN_OBJECTIVE), []
    module, sep, function = target.partition(":")
    if not sep or not module or not function.isidentifier():
        raise InvalidInputError(
            f'{where}: expected "training", "module:function" or "file.py:function", got {target!r}'
        )
    directory = str(Path(directory).resolve())
    if module.endswith(".py"):
        file = (Path(directory) / module).resolve()
        directory, module = str(file.parent), file.stem
    notices = []
    if not _importable(module, (directory,)):
        notices.append(
            Notice(
                where,
                f"module {module!r} is not importable here (looked in {directory} and on the "
                "Python path); workers must be able to import it",
            )
        )
    return ObjectiveSpec(f"{module}:{function}", (directory,)), notices


def _importable(module: str, path: Sequence[str]) -> bool:
    top = module.split(".")[0]
    if any(
        (Path(d) / f"{top}.py").exists() or (Path(d) / top / "__init__.py").exists() for d in path
    ):
        return True
    try:
        return importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):
        return False
