"""The study a command works on: one spelling everywhere, and its names completed in the shell.

Every command takes the study as its first argument (``hpo best NAME``, ``hpo worker NAME``)
and accepts ``--study NAME`` as well (what ``hpo worker`` took first, and the deploy files and
older scripts still write). The shell completes the argument, and the option, with the names
of the studies in the storage that ``--storage`` or ``HPO_STORAGE`` names: read only, never
creating a database, and silent whatever goes wrong (a completion that prints breaks the
user's command line).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import warnings
from typing import Annotated, Any

import typer

from hpo import env


def complete_study(ctx: typer.Context, incomplete: str) -> list[str]:
    """The names of the storage's studies that start with what was typed; none on failure."""
    url = ctx.params.get("storage") or os.environ.get(env.STORAGE)
    try:
        with _silenced():
            return [name for name in study_names(url) if name.startswith(incomplete)]
    except Exception:  # an unreachable or empty storage completes nothing
        return []


def study_names(url: str | None) -> list[str]:
    """The studies of a storage, read without creating anything (no file, no tables)."""
    from hpo.storage import open_storage

    store = open_storage(url or "", create=False)
    try:
        return sorted(s.study_name for s in store.get_all_studies())
    finally:
        engine = getattr(store, "engine", None)
        if engine is not None:
            engine.dispose()


@contextlib.contextmanager
def _silenced() -> Any:
    """No log line, warning or stray print reaches the terminal while completing."""
    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
        ):
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(previous)


StudyArgument = Annotated[
    str | None,
    typer.Argument(
        help="Study name (or --study NAME).",
        autocompletion=complete_study,
        show_default=False,
    ),
]
StudyAlias = Annotated[
    str | None,
    typer.Option(
        "--study",
        help="The study, as an option (the same as the argument).",
        autocompletion=complete_study,
        show_default=False,
    ),
]


def chosen_study(argument: str | None, option: str | None, *, required: bool = True) -> str | None:
    """The study named by the argument or by ``--study``; one line of error when neither or
    two different ones are given."""
    from hpo.errors import InvalidInputError

    if argument is not None and option is not None and argument != option:
        raise InvalidInputError(
            f"two studies given: {argument!r} and --study {option!r}; give one of them"
        )
    study = argument if argument is not None else option
    if study is None and required:
        raise InvalidInputError("give the study's name (as the argument, or --study NAME)")
    return study


def one_study(argument: str | None, option: str | None) -> str:
    study = chosen_study(argument, option)
    assert study is not None
    return study


def study_and_number(
    argument: str | None, option: str | None, number: int | None
) -> tuple[str, int]:
    """The study and trial number of ``hpo logs`` and ``hpo kill``: ``STUDY N``, or
    ``--study STUDY N`` (where the number lands in the first argument)."""
    from hpo.errors import InvalidInputError

    if option is not None and number is None and argument is not None:
        if not argument.isdigit():
            raise InvalidInputError(f"expected a trial number, got {argument!r}")
        number = int(argument)
        argument = None
    study = one_study(argument, option)
    if number is None:
        raise InvalidInputError("give the trial's number after the study's name")
    return study, number


StudiesArgument = Annotated[
    list[str] | None,
    typer.Argument(
        help="Study or group names (or --study NAME, repeatable).",
        autocompletion=complete_study,
        show_default=False,
    ),
]
StudiesAlias = Annotated[
    list[str] | None,
    typer.Option(
        "--study",
        help="A study or group, as an option (the same as the arguments); repeatable.",
        autocompletion=complete_study,
        show_default=False,
    ),
]


def studies_given(arguments: list[str] | None, options: list[str] | None) -> list[str]:
    """The names given as arguments and with ``--study``, in that order, once each."""
    from hpo.errors import InvalidInputError

    names = list(dict.fromkeys([*(arguments or []), *(options or [])]))
    if not names:
        raise InvalidInputError("give at least one study or group name (or --study NAME)")
    return names
