"""Opening the study storage: one line of error for every way it can fail."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy
import sqlalchemy.exc
from optuna.storages import BaseStorage, RDBStorage

from hpo.errors import EmptyStorageError, InvalidInputError, StorageError
from hpo.storage.existing import require_studies
from hpo.storage.rdb import HpoRDBStorage
from hpo.storage.retry import StorageRetry
from hpo.storage.url import (
    describe_db_error,
    engine_options,
    mask_url,
    resolve_url,
    scheme_of,
    sqlalchemy_url,
)

#: Seconds a ``grpc://`` storage has to answer before the command gives up.
GRPC_READY_TIMEOUT = 15


def open_storage(
    url: str, *, pool_size: int = 1, patience: float = 0.0, create: bool = True
) -> HpoRDBStorage:
    """Connect to the storage (creating Optuna's tables if needed); StorageError if it fails.

    ``patience``: seconds to keep trying through a transient failure (a worker starting while
    the database restarts); 0 fails at once, as a command a person typed should.

    ``create=False`` (commands that only read studies or change existing ones): nothing is
    created, neither a SQLite file nor tables; EmptyStorageError when there are no studies to
    find (``hpo.storage.existing``).

    A ``grpc://HOST:PORT`` URL gives the client of ``hpo serve-storage`` instead (typed as the
    RDB storage it stands for: callers test ``isinstance`` before using RDB-only methods).
    """
    url = resolve_url(url)
    if url.startswith("grpc://"):
        return _open_grpc(url)  # type: ignore[return-value]
    if scheme_of(url) == "sqlite":
        _check_sqlite_path(url)
    driver_url = sqlalchemy_url(url)

    def connect() -> HpoRDBStorage:
        if not create:
            require_studies(url, engine_options(url, pool_size), driver_url)
        return HpoRDBStorage(driver_url, engine_kwargs=engine_options(url, pool_size))

    try:
        storage = StorageRetry(patience)("connecting", connect) if patience else connect()
    except EmptyStorageError:  # says which storage already
        raise
    except StorageError as exc:  # the retry gave up: say which storage
        raise StorageError(f"cannot open storage {mask_url(url)}: {exc}") from None
    except (sqlalchemy.exc.SQLAlchemyError, OSError) as exc:
        raise StorageError(
            f"cannot open storage {mask_url(url)}: {describe_db_error(exc, url)}"
        ) from None
    except ImportError as exc:
        raise StorageError(f"cannot open storage {mask_url(url)}: {exc}") from None
    except RuntimeError as exc:  # Optuna's schema version check
        raise StorageError(f"storage {mask_url(url)}: {describe_db_error(exc, url)}") from None
    except (ValueError, TypeError) as exc:  # a driver option of the URL: ?timeout=abc
        raise InvalidInputError(
            f"storage {mask_url(url)}: an option the driver cannot take: "
            f"{describe_db_error(exc, url)}"
        ) from None
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        _enable_wal(storage)
    return storage


def _open_grpc(url: str) -> BaseStorage:
    # Imported here: Optuna's gRPC client loads protobuf and generated code that only a
    # grpc:// storage needs (a GPU node's bare Python may not even have protobuf).
    from hpo.storage.grpc import HpoGrpcStorageProxy

    address = url.removeprefix("grpc://").rstrip("/")
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise InvalidInputError(f"storage {url!r}: expected grpc://HOST:PORT")
    proxy = HpoGrpcStorageProxy(host=host, port=int(port))
    try:
        proxy.wait_server_ready(timeout=GRPC_READY_TIMEOUT)  # fail now, in one line
    except ConnectionError:
        raise StorageError(
            f"cannot reach storage {url}: no answer within {GRPC_READY_TIMEOUT}s"
        ) from None
    return proxy


def _check_sqlite_path(url: str) -> None:
    """Say what is wrong with a SQLite path that cannot be a database file, rather than
    SQLite's "unable to open database file" for every case."""
    parsed = sqlalchemy.engine.make_url(url)
    database = parsed.database
    if not database or database == ":memory:" or parsed.query.get("uri"):
        return
    path = Path(database)
    if path.is_dir():
        raise StorageError(f"cannot open storage {url}: {path} is a directory, not a database file")
    if not path.parent.is_dir():
        raise StorageError(f"cannot open storage {url}: directory {path.parent} does not exist")


def _enable_wal(storage: RDBStorage) -> None:
    """WAL lets SQLite readers (status, dashboard) work while a worker writes."""
    with storage.engine.connect() as conn:
        conn.execute(sqlalchemy.text("PRAGMA journal_mode=WAL"))
