"""Storage retries, in process: which failures are waited out, the backoff, giving up."""

from __future__ import annotations

import grpc
import pytest
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
