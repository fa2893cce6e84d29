"""Which storage failures are worth waiting out, and which are not.

A worker retries a storage call through a database restart or a cut network for minutes; the
same retries on a database that does not exist, a SQLite path that cannot be opened or a bad
connection option only delay the error. Drivers raise one exception type for both (psycopg2
and sqlite3: ``OperationalError``) and, when connecting, give no error code, so the message
decides: an error is transient when SQLAlchemy found the connection dead, or when its message
says the server was refused, reset, timed out, restarting or busy. Anything else is final.
"""

from __future__ import annotations

import re
import sys

import sqlalchemy.exc
from optuna.exceptions import StorageInternalError

from hpo.storage.url import root_cause

#: What drivers say when the network or the server is briefly away (psycopg2 / libpq,
#: sqlite3, PyMySQL). Lower case; matched anywhere in the driver's message.
TRANSIENT_MESSAGES = (
    # refused or unreachable
    "connection refused",
    "could not connect to server",
    "network is unreachable",
    "no route to host",
    "temporary failure in name resolution",
    "can't connect to mysql server",
    # reset, closed, cut
    "server closed the connection unexpectedly",
    "connection reset by peer",
    "broken pipe",
    "connection already closed",
    "no connection to the server",
    "could not receive data from server",
    "could not send data to server",
    "ssl syscall error",
    "ssl connection has been closed unexpectedly",
    "eof detected",
    "lost synchronization with server",
    "lost connection to mysql server",
    "mysql server has gone away",
    "terminating connection",
    # timed out
    "timeout expired",
    "timed out",
    # restarting, recovering, busy
    "the database system is starting up",
    "the database system is shutting down",
    "the database system is in recovery mode",
    "the database system is not yet accepting connections",
    "the database system is not accepting connections",
    "too many clients already",
    "remaining connection slots are reserved",
    "too many connections",
    "database is locked",
    "database table is locked",
    "could not serialize access",
    "deadlock detected",
    "deadlock found",
    "lock wait timeout exceeded",
)
_TRANSIENT = re.compile("|".join(re.escape(m) for m in TRANSIENT_MESSAGES), re.IGNORECASE)


def is_transient(exc: BaseException) -> bool:
    """A failure of the connection to the storage that waiting may cure (as opposed to a bug,
    a bad value, or a storage that cannot work: no such database, a bad option)."""
    if isinstance(exc, sqlalchemy.exc.PendingRollbackError):
        # A session whose connection died mid-transaction, until it is dropped (reset_session).
        return True
    if isinstance(exc, sqlalchemy.exc.DBAPIError):
        return bool(exc.connection_invalidated) or names_lost_connection(exc)
    if isinstance(exc, StorageInternalError):
        # Optuna wraps every SQLAlchemy error in this; only a lost connection is worth waiting for.
        return exc.__cause__ is None or is_transient(exc.__cause__)
    return _grpc_status(exc) in ("UNAVAILABLE", "DEADLINE_EXCEEDED")


def names_lost_connection(exc: BaseException) -> bool:
    """Whether the driver's message inside ``exc`` says the server was out of reach."""
    return _TRANSIENT.search(str(root_cause(exc))) is not None


def _grpc_status(exc: BaseException) -> str | None:
    """The status of a gRPC error (a ``grpc://`` storage). grpc is not imported for this: a
    process that got a gRPC error has loaded it, and the others need not pay for it."""
    grpc = sys.modules.get("grpc")
    if grpc is None or not isinstance(exc, grpc.RpcError):
        return None
    return str(exc.code().name)
