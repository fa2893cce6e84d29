"""The small exception tree of hpo.

Every failure a user can cause or meet is an :class:`HpoError`: its message is one line that
says what went wrong and where, and its ``exit_code`` is what the CLI exits with. The CLI
catches this tree in one place; anything else is a bug and keeps its traceback.

Exit codes: 2 means the input is invalid (a search-space file, an option, a study name that
is taken); 1 means the environment failed (database unreachable, study missing, data missing).
"""

from __future__ import annotations


class HpoError(Exception):
    """A user-facing failure with a one-line message."""

    exit_code = 1


class InvalidInputError(HpoError):
    """The user's input (a file, an option, a name) cannot be used as given."""

    exit_code = 2


class SpaceError(InvalidInputError):
    """A search space or Dr.Opt config is invalid at a JSON path.

    ``path`` is the dotted JSON path (``search_space.lr._value``); ``source`` is the file it
    came from, when known.
    """

    def __init__(self, path: str, reason: str, source: str | None = None) -> None:
        self.path = path
        self.reason = reason
        self.source = source
        where = f"{source}: " if source else ""
        location = f"{path}: " if path else ""
        super().__init__(f"{where}{location}{reason}")

    def with_source(self, source: str) -> SpaceError:
        return SpaceError(self.path, self.reason, source)


class UnknownNameError(InvalidInputError):
    """A sampler, pruner or tuner name that no registry knows."""


class StorageError(HpoError):
    """The study storage cannot be reached or used."""


class EmptyStorageError(StorageError):
    """A command that reads studies found none to read: no SQLite file, an in-memory database,
    or a database without Optuna's tables (which such a command never creates)."""


class NothingFoundError(HpoError):
    """What a command looked for in the storage is not there (a study, a group, a trial).

    The message is ``what`` and ``hint``; the command line puts the storage it read between
    them (:meth:`at`), its password masked: "no study named 'x' in sqlite:///hpo.db; did you
    mean 'y'?".
    """

    def __init__(self, what: str, hint: str = "") -> None:
        self.what = what
        self.hint = hint
        super().__init__(f"{what}{hint}")

    def at(self, storage: str) -> str:
        return f"{self.what} in {storage}{self.hint}"


class StudyNotFoundError(NothingFoundError):
    """No study of that name exists in the storage."""


class TrialNotFoundError(NothingFoundError, InvalidInputError):
    """The study has no trial of that number (exit 2: the number is the user's input)."""


class StudyDeletedError(StudyNotFoundError):
    """The study was deleted (``hpo delete-study``) while a worker ran it."""


class StudyExistsError(InvalidInputError):
    """A study of that name exists already, with a different spec."""


class ObjectiveLoadError(HpoError):
    """The objective named in a study spec cannot be imported on this machine."""


class StoppedBySignalError(HpoError):
    """A command stopped by a signal after undoing what it had done: exits 128 + the signal."""

    def __init__(self, signum: int, message: str) -> None:
        super().__init__(message)
        self.exit_code = 128 + signum


class BudgetExhausted(Exception):  # noqa: N818  (a signal, not an error)
    """Raised by the storage when a study's trial budget leaves no room for a new trial."""
