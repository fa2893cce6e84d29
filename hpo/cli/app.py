"""The ``hpo`` app: its one error boundary, logging, and opening the storage.

Every failure a user can cause or meet becomes one line on stderr and an exit code, here and
nowhere else: hpo's own errors (:class:`~hpo.errors.HpoError`: 2 for bad input, 1 for a failed
environment), a database failing mid-command (1, its password removed), a bad option or
argument caught by Typer (2), an interrupt (130). Anything else is a bug and keeps its
traceback.

Commands import what they need inside their bodies, so that ``hpo --help`` answers at once
without loading Optuna, SQLAlchemy or torch.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

import typer
from typer.core import TyperGroup

from hpo import env
from hpo.errors import HpoError

log = logging.getLogger("hpo")
F = TypeVar("F", bound=Callable[..., Any])


#: The commands in the order a user meets them (``hpo --help`` lists them so).
COMMAND_ORDER = (
    "validate",
    "create-study",
    "worker",
    "run",
    "down",
    "status",
    "trials",
    "best",
    "logs",
    "kill",
    "enqueue",
    "compare",
    "importance",
    "report",
    "dashboard",
    "stop",
    "resume",
    "set-budget",
    "serve-storage",
    "delete-study",
)


class _OneLineErrors(TyperGroup):
    """Typer's group, with its errors about the command line as one line, exit code 2.

    Typer would print them as a framed box of five or more lines, and ``hpo --help`` (or a
    test's CliRunner) goes through here too, so every caller sees the same.
    """

    def list_commands(self, ctx: Any) -> list[str]:
        def rank(name: str) -> int:
            return COMMAND_ORDER.index(name) if name in COMMAND_ORDER else len(COMMAND_ORDER)

        return sorted(super().list_commands(ctx), key=rank)

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            code = super().main(
                args=args,
                prog_name=prog_name,
                complete_var=complete_var,
                standalone_mode=False,
                **extra,
            )
        except typer.Abort:
            error("aborted")
            code = 1
        except Exception as exc:
            if not _is_usage_error(exc):
                raise
            if type(exc).__name__ == "NoArgsIsHelpError":  # plain ``hpo``: show the help
                typer.echo(exc.format_message())  # type: ignore[attr-defined]
            else:
                lines = exc.format_message().strip().splitlines()  # type: ignore[attr-defined]
                error(lines[0] if lines else type(exc).__name__)
            code = 2
        if standalone_mode:
            sys.exit(code or 0)
        return code


def _is_usage_error(exc: Exception) -> bool:
    """An error of Typer's about the command line (click's UsageError and kin): Typer bundles
    click privately and exports only BadParameter, whose base that class is."""
    return isinstance(exc, typer.BadParameter.__mro__[1])


app = typer.Typer(
    name="hpo",
    cls=_OneLineErrors,
    help=(
        "Hyperparameter search for PyTorch image classification: NNI / Dr.Opt search spaces "
        "become Optuna studies that any number of workers share."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Plain help: Rich would read "[default: …]" in a help text as markup and drop it.
    rich_markup_mode=None,
)


def command(name: str) -> Callable[[F], F]:
    """``app.command(name)`` behind the error boundary."""

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                if "storage" in kwargs and not kwargs["storage"]:
                    kwargs["storage"] = _inherited_url()
                _check_text(kwargs)
                return function(*args, **kwargs)
            except HpoError as exc:
                error(_scrubbed(_with_storage(exc, kwargs), kwargs))
                raise typer.Exit(exc.exit_code) from None
            except KeyboardInterrupt:
                error("interrupted")
                raise typer.Exit(130) from None
            except Exception as exc:
                message = _storage_failure(exc, _url_in_use(kwargs))
                if message is None:
                    raise
                error(message)
                raise typer.Exit(1) from None

        app.command(name)(wrapper)
        return function

    return decorate


def _inherited_url() -> str | None:
    """The storage URL a parent hpo process passed down a pipe (``HPO_STORAGE_FD``): the
    workers of ``hpo worker --gpus`` and ``hpo run --workers`` get it so, not in their
    environment."""
    if env.STORAGE_FD not in os.environ:
        return None
    from hpo.storage.credentials import read_inherited_url

    return read_inherited_url()


def _check_text(kwargs: dict[str, Any]) -> None:
    """Refuse an option that is not text: bytes that are not UTF-8 in a name or a value
    (Python keeps them as lone surrogates) cannot be stored or printed, and were tracebacks
    from the database driver. File paths (``Path`` options) may hold any bytes."""
    from hpo.errors import InvalidInputError
    from hpo.text import is_text

    for key, value in kwargs.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and not is_text(item):
                raise InvalidInputError(f"{key.rstrip('_')}: {item!r} is not UTF-8 text")


def error(message: str) -> None:
    """One line on stderr, whatever the message holds (a name with a line break in it)."""
    from hpo.text import one_line

    typer.echo(f"error: {one_line(message)}", err=True)


def _url_in_use(kwargs: dict[str, Any]) -> str | None:
    """The storage URL of this command: its ``--storage`` (Typer fills it from HPO_STORAGE)."""
    if "storage" not in kwargs:
        return None
    from hpo.storage import resolve_url

    try:
        return resolve_url(kwargs["storage"])
    except HpoError:
        return str(kwargs["storage"] or "")


def _with_storage(exc: HpoError, kwargs: dict[str, Any]) -> str:
    """The message; one that found nothing names the storage it read (password masked)."""
    from hpo.errors import NothingFoundError

    url = _url_in_use(kwargs)
    if not isinstance(exc, NothingFoundError) or url is None:
        return str(exc)
    from hpo.storage import mask_url

    return exc.at(mask_url(url))


def _scrubbed(message: str, kwargs: dict[str, Any]) -> str:
    """The message without the password of the storage in use, wherever it got in."""
    if not kwargs.get("storage"):  # the default, SQLite: no password to hide
        return message
    from hpo.storage import scrub

    return scrub(message, _url_in_use(kwargs) or "")


def _storage_failure(exc: Exception, url: str | None) -> str | None:
    """One line for a database failure in the middle of a command (password removed)."""
    if url is None:  # a command without storage
        return None
    import sqlalchemy.exc
    from optuna.exceptions import StorageInternalError

    from hpo.storage import describe_db_error, mask_url

    if not isinstance(exc, sqlalchemy.exc.SQLAlchemyError | StorageInternalError):
        return None
    return f"storage {mask_url(url)} failed: {describe_db_error(exc, url)}"


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"hpo {version('hpo')}")
        raise typer.Exit()


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show debug logs.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only warnings and errors.")] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print hpo's version."
        ),
    ] = False,
) -> None:
    configure_logging(logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO)


class _Formatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__()
        # Workers started by hpo worker --gpus label their lines (gpu0, gpu1.1, …).
        label = os.environ.get(env.WORKER_LABEL)
        self.prefix = f"[{label}] " if label else ""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.levelno >= logging.ERROR:
            return f"{self.prefix}error: {message}"
        if record.levelno >= logging.WARNING:
            return f"{self.prefix}warning: {message}"
        return f"{self.prefix}{message}"


def configure_logging(level: int) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter())
    for name in ("hpo", "training"):  # training logs each epoch at debug level (-v)
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False
    warnings.filterwarnings("ignore", message=".*is experimental.*")


def open_storage(
    url: str | None, *, patience: float = 0.0, pool_size: int = 1, create: bool = True
) -> Any:
    """The storage of a command, Optuna's own log routed through hpo's. ``create=False`` for
    a command that reads studies or changes existing ones: it creates no database file and no
    tables, and fails in one line naming the storage when there are no studies there."""
    from hpo.storage import open_storage as connect

    _route_optuna_log()
    return connect(url or "", patience=patience, pool_size=pool_size, create=create)


def _route_optuna_log() -> None:
    """Optuna's log through hpo's handler, warnings only: its INFO lines would repeat ours.

    Called once optuna is imported (its import installs its own handler).
    """
    import optuna

    optuna.logging.disable_default_handler()
    optuna_logger = logging.getLogger("optuna")
    optuna_logger.handlers[:] = logging.getLogger("hpo").handlers
    verbose = logging.getLogger("hpo").level <= logging.DEBUG
    optuna_logger.setLevel(logging.DEBUG if verbose else logging.WARNING)
    optuna_logger.propagate = False


def print_notices(notices: Sequence[object]) -> None:
    for notice in notices:
        log.warning("%s", notice)
