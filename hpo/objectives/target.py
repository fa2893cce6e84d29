"""Which objective a study runs: ``training`` (built in), a user's ``module:function``, or a
command (NNI's ``trialCommand``) run as a child process per trial."""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpo.errors import InvalidInputError
from hpo.objectives.paths import absolute_path
from hpo.space import Notice

#: The objective that trains a model with ``training.fit``.
BUILTIN_OBJECTIVE = "training"
#: The target of a study whose trials run a command (``ObjectiveSpec.command``).
COMMAND_OBJECTIVE = "command"


@dataclass(frozen=True)
class ObjectiveSpec:
    """What a trial runs, as the study stores it.

    ``target`` is ``"training"`` (the built-in objective), ``"module:function"`` or
    ``"command"``; ``path`` lists directories put in front of ``sys.path`` before importing a
    function (the directory of a Dr.Opt config, for its ``train.py``), or, for a command, the
    directory it runs in. A command trial may ask for ``gpus`` (``None``: the worker's own; 0:
    none) and a time limit ``max_seconds`` (NNI's ``maxTrialDuration``).
    """

    target: str = BUILTIN_OBJECTIVE
    path: tuple[str, ...] = ()
    command: str | None = None
    gpus: int | None = None
    max_seconds: float | None = None

    @property
    def is_builtin(self) -> bool:
        return self.target == BUILTIN_OBJECTIVE

    @property
    def is_command(self) -> bool:
        return self.target == COMMAND_OBJECTIVE

    @property
    def directory(self) -> str:
        """Where a command runs (its code directory)."""
        return self.path[0] if self.path else "."

    def describe(self) -> str:
        if self.is_command:
            return f"command {self.command!r} in {self.directory}"
        return self.target

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"target": self.target, "path": list(self.path)}
        if self.is_command:
            data.update(command=self.command, gpus=self.gpus, max_seconds=self.max_seconds)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ObjectiveSpec:
        return cls(
            data["target"],
            tuple(data["path"]),
            command=data.get("command"),
            gpus=data.get("gpus"),
            max_seconds=data.get("max_seconds"),
        )


def command_objective(
    command: str, directory: str, *, gpus: int | None = None, max_seconds: float | None = None
) -> ObjectiveSpec:
    """A command run as each trial, in ``directory`` (made absolute, for every worker)."""
    try:
        absolute = absolute_path(directory)
    except ValueError as exc:
        raise InvalidInputError(f"the command's directory {directory!r}: {exc}") from None
    return ObjectiveSpec(
        COMMAND_OBJECTIVE,
        (str(absolute),),
        command=command,
        gpus=gpus,
        max_seconds=max_seconds,
    )


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
    try:
        directory = str(absolute_path(directory))
        if module.endswith(".py"):
            file = absolute_path(module, directory)
            directory, module = str(file.parent), file.stem
    except ValueError as exc:
        raise InvalidInputError(f"{where}: {target!r}: {exc}") from None
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
    try:
        if any(
            (Path(d) / f"{top}.py").exists() or (Path(d) / top / "__init__.py").exists()
            for d in path
        ):
            return True
        return importlib.util.find_spec(top) is not None
    except (ImportError, ValueError, OSError):  # a NUL, a name the file system cannot take
        return False
