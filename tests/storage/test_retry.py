"""Storage retries, in process: which failures are waited out, the backoff, giving up."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
import sqlalchemy
import sqlalchemy.exc
from optuna.exceptions import StorageInternalError

from hpo.errors import StorageError
from hpo.storage import StorageRetry, is_transient
from hpo.storage.retry import FIRST_WAIT, MAX_WAIT


class _Unavailable(grpc.RpcError):  # type: ignore[misc]  # grpc ships no types
    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNAVAILABLE


def _lost_connection() -> sqlalchemy.exc.OperationalError:
    return sqlalchemy.exc.OperationalError(
        "SELECT 1", {}, Exception("server closed the connection unexpectedly")
    )


def _wrapped(cause: BaseException) -> StorageInternalError:
    try:
        raise StorageInternalError("An exception is raised during the commit.") from cause
    except StorageInternalError as exc:
        return exc


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (_lost_connection(), True),
        (
            sqlalchemy.exc.InterfaceError("SELECT 1", {}, Exception("connection already closed")),
            True,
        ),
        (_wrapped(_lost_connection()), True),
        (_wrapped(sqlalchemy.exc.IntegrityError("INSERT", {}, Exception("duplicate key"))), False),
        (_Unavailable(), True),
        (ValueError("a bug"), False),
        (KeyError("grid_id"), False),
    ],
    ids=["operational", "interface", "optuna-wrapped", "integrity", "grpc", "bug", "keyerror"],
)
def test_only_a_lost_connection_is_transient(exc: BaseException, transient: bool) -> None:
    assert is_transient(exc) is transient


def _connect_error(url: str) -> sqlalchemy.exc.DBAPIError:
    """The error a real connection attempt to ``url`` raises."""
    timeout = {} if url.startswith("sqlite") else {"connect_timeout": 5}
    engine = sqlalchemy.create_engine(url, connect_args=timeout)
    try:
        with engine.connect():
            pass
    except sqlalchemy.exc.DBAPIError as exc:
        return exc
    finally:
        engine.dispose()
    raise AssertionError(f"{url} connected")


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("url", "transient"),
    [
        ("postgresql+psycopg2://postgres@127.0.0.1:1/postgres", True),  # refused
        ("postgresql+psycopg2://postgres@127.0.0.1:5432/hpo_no_such_database", False),
        ("postgresql+psycopg2://hpo_no_such_role@127.0.0.1:5432/postgres", False),
        ("postgresql+psycopg2://postgres@127.0.0.1:5432/postgres?sslmode=bogus", False),
        ("postgresql+psycopg2://postgres@127.0.0.1:5432/postgres?sslmode=require", False),
    ],
    ids=["refused", "missing-database", "missing-role", "invalid-sslmode", "ssl-unsupported"],
)
def test_real_connection_errors_are_transient_only_when_waiting_can_cure_them(
    pg_server: None, url: str, transient: bool
) -> None:
    assert is_transient(_connect_error(url)) is transient


@pytest.mark.parametrize("path", ["missing-dir/hpo.db", "."], ids=["missing-dir", "directory"])
def test_a_sqlite_file_that_cannot_be_opened_is_not_transient(tmp_path: Path, path: str) -> None:
    assert not is_transient(_connect_error(f"sqlite:///{tmp_path / path}"))


def test_a_locked_sqlite_database_is_transient() -> None:
    locked = sqlalchemy.exc.OperationalError("INSERT", {}, Exception("database is locked"))
    assert is_transient(locked)


def test_transient_failures_are_retried_with_doubling_waits() -> None:
    waits: list[float] = []
    calls = iter([_lost_connection()] * 7 + [None])

    def flaky() -> str:
        failure = next(calls)
        if failure is not None:
            raise failure
        return "done"

    assert StorageRetry(patience=600, sleep=waits.append)("reading", flaky) == "done"
    assert waits == [FIRST_WAIT * 2**k for k in range(5)] + [MAX_WAIT, MAX_WAIT]


def test_a_bug_is_not_retried() -> None:
    waits: list[float] = []

    def buggy() -> None:
        raise ValueError("a bug")

    with pytest.raises(ValueError, match="a bug"):
        StorageRetry(sleep=waits.append)("reading", buggy)
    assert waits == []


def test_it_gives_up_after_its_patience_with_one_line_naming_what_and_why() -> None:
    def down() -> None:
        raise _wrapped(_lost_connection())

    with pytest.raises(StorageError) as raised:
        StorageRetry(patience=0.2, sleep=lambda s: None)("asking for a trial", down)
    message = str(raised.value)
    assert "while asking for a trial" in message
    assert "server closed the connection unexpectedly" in message
    assert "\n" not in message
