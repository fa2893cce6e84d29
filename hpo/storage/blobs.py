"""What trials leave behind, kept in the study's own database: weights and logs.

A study lives in its storage; so does everything a coordinator needs after the workers'
machines are gone: the weights of the best trials (Optuna artifacts) and each trial's log. They
are stored as chunks in one table of the study's database, ``hpo_blobs``, beside Optuna's own
tables: every worker that reaches the study reaches it, with no shared file system and no
object store to set up. Workers behind ``hpo serve-storage`` reach the same table through the
proxy (``hpo.storage.grpc``).

A blob is named by a kind (``artifact``, ``log``) and a name (an artifact id, a trial's id);
its chunks are read in the order they were written (the table's own id). Writing a whole blob
is one transaction (a reader sees all of it or none); appending adds one chunk (a log as it
grows). The table is created by the first write, never by a read (a read of a database without
it finds nothing).
"""

from __future__ import annotations

import io
import threading
import weakref
from collections.abc import Iterator
from typing import BinaryIO, Protocol

import sqlalchemy
import sqlalchemy.dialects.mysql
import sqlalchemy.exc
from optuna.storages import BaseStorage, RDBStorage

from hpo.optuna_compat import storage_backend

#: Bytes per stored chunk: well under PostgreSQL's and gRPC's message limits, and what a
#: reader holds in memory at once.
CHUNK = 1 << 20

_metadata = sqlalchemy.MetaData()
BLOBS = sqlalchemy.Table(
    "hpo_blobs",
    _metadata,
    sqlalchemy.Column("chunk_id", sqlalchemy.Integer, primary_key=True, autoincrement=True),
    sqlalchemy.Column("kind", sqlalchemy.String(16), nullable=False),
    sqlalchemy.Column("name", sqlalchemy.String(255), nullable=False),
    # The study the blob belongs to, so that deleting a study deletes its blobs (None: an
    # artifact uploaded through the dashboard, which does not say).
    sqlalchemy.Column("study_id", sqlalchemy.Integer, nullable=True),
    # MySQL's plain BLOB holds 64 KiB: a chunk needs LONGBLOB there.
    sqlalchemy.Column(
        "data",
        sqlalchemy.LargeBinary().with_variant(sqlalchemy.dialects.mysql.LONGBLOB(), "mysql"),
        nullable=False,
    ),
    sqlalchemy.Index("ix_hpo_blobs_name", "kind", "name", "chunk_id"),
    sqlalchemy.Index("ix_hpo_blobs_study", "study_id"),
)


class BlobStore(Protocol):
    """Chunks of bytes by kind and name, in the study's storage."""

    def ensure_table(self) -> None:
        """Make the store's table now, if it has one to make (``create-study``)."""

    def append(self, kind: str, name: str, data: bytes, study_id: int | None) -> None:
        """Add ``data`` at the end of the blob (a new chunk)."""

    def write(self, kind: str, name: str, body: BinaryIO, study_id: int | None) -> int:
        """Replace the blob with everything ``body`` holds, in one transaction; its size."""

    def chunks(self, kind: str, name: str, after: int = 0) -> Iterator[tuple[int, bytes]]:
        """The blob's chunks written after chunk ``after`` (0: all), as (chunk id, bytes)."""

    def delete(self, kind: str, name: str) -> bool:
        """Remove the blob; False when there was none."""

    def delete_study(self, study_id: int) -> int:
        """Remove every blob of a study; how many chunks there were."""


def read_all(store: BlobStore, kind: str, name: str) -> bytes | None:
    """The whole blob, or None when there is none."""
    parts = [data for _, data in store.chunks(kind, name)]
    return b"".join(parts) if parts else None


class SqlBlobStore:
    """:class:`BlobStore` on the study's own database (SQLite, PostgreSQL, MySQL)."""

    def __init__(self, engine: sqlalchemy.Engine) -> None:
        self._engine = engine
        self._exists = False
        self._lock = threading.Lock()

    def _table_exists(self, *, create: bool) -> bool:
        """Whether the table is there; ``create``: make it first (a write)."""
        if self._exists:
            return True
        with self._lock:
            if not self._exists:
                if create:
                    self._create()
                    self._exists = True
                else:
                    self._exists = sqlalchemy.inspect(self._engine).has_table(BLOBS.name)
        return self._exists

    def _create(self) -> None:
        """Make the table. Workers may race to: PostgreSQL then refuses all but one
        ``CREATE TABLE`` (a duplicate type name), which finds the table made by another."""
        try:
            _metadata.create_all(self._engine, checkfirst=True)
        except sqlalchemy.exc.DBAPIError:
            if not sqlalchemy.inspect(self._engine).has_table(BLOBS.name):
                raise

    def ensure_table(self) -> None:
        """Make the table now (``create-study``), rather than at a worker's first write."""
        self._table_exists(create=True)

    def append(self, kind: str, name: str, data: bytes, study_id: int | None) -> None:
        if not data:
            return
        self._table_exists(create=True)
        rows = [
            {"kind": kind, "name": name, "study_id": study_id, "data": data[i : i + CHUNK]}
            for i in range(0, len(data), CHUNK)
        ]
        with self._engine.begin() as conn:
            conn.execute(BLOBS.insert(), rows)

    def write(self, kind: str, name: str, body: BinaryIO, study_id: int | None) -> int:
        self._table_exists(create=True)
        size = 0
        with self._engine.begin() as conn:
            conn.execute(BLOBS.delete().where(BLOBS.c.kind == kind, BLOBS.c.name == name))
            while chunk := body.read(CHUNK):
                conn.execute(
                    BLOBS.insert(),
                    {"kind": kind, "name": name, "study_id": study_id, "data": chunk},
                )
                size += len(chunk)
            if size == 0:  # an empty blob still exists
                conn.execute(
                    BLOBS.insert(), {"kind": kind, "name": name, "study_id": study_id, "data": b""}
                )
        return size

    def chunks(self, kind: str, name: str, after: int = 0) -> Iterator[tuple[int, bytes]]:
        if not self._table_exists(create=False):
            return
        while True:
            # One chunk per query: a reader never holds more than one in memory.
            with self._engine.connect() as conn:
                row = conn.execute(
                    sqlalchemy.select(BLOBS.c.chunk_id, BLOBS.c.data)
                    .where(BLOBS.c.kind == kind, BLOBS.c.name == name, BLOBS.c.chunk_id > after)
                    .order_by(BLOBS.c.chunk_id)
                    .limit(1)
                ).first()
            if row is None:
                return
            after = int(row.chunk_id)
            yield after, bytes(row.data)

    def tail(self, kind: str, name: str, max_bytes: int) -> bytes | None:
        """The end of a blob (about ``max_bytes``, whole chunks), read from its last chunk
        backwards: a long log's end without reading all of it. None when there is no blob."""
        if not self._table_exists(create=False):
            return None
        parts: list[bytes] = []
        size, before = 0, None
        with self._engine.connect() as conn:
            while size < max_bytes:
                query = sqlalchemy.select(BLOBS.c.chunk_id, BLOBS.c.data).where(
                    BLOBS.c.kind == kind, BLOBS.c.name == name
                )
                if before is not None:
                    query = query.where(BLOBS.c.chunk_id < before)
                row = conn.execute(query.order_by(BLOBS.c.chunk_id.desc()).limit(1)).first()
                if row is None:
                    break
                before = int(row.chunk_id)
                parts.append(bytes(row.data))
                size += len(row.data)
        return b"".join(reversed(parts)) if parts else None

    def delete(self, kind: str, name: str) -> bool:
        if not self._table_exists(create=False):
            return False
        with self._engine.begin() as conn:
            result = conn.execute(BLOBS.delete().where(BLOBS.c.kind == kind, BLOBS.c.name == name))
        return bool(result.rowcount)

    def delete_study(self, study_id: int) -> int:
        if not self._table_exists(create=False):
            return 0
        with self._engine.begin() as conn:
            result = conn.execute(BLOBS.delete().where(BLOBS.c.study_id == study_id))
        return int(result.rowcount)


class BlobReader(io.RawIOBase):
    """A blob as a read-only binary file, fetched a chunk at a time (``chunks``: what
    :meth:`BlobStore.chunks` gives)."""

    def __init__(self, chunks: Iterator[tuple[int, bytes]]) -> None:
        super().__init__()
        self._chunks = chunks
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._buffer:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._buffer = chunk[1]
        n = min(len(buffer), len(self._buffer))
        buffer[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n


_stores: weakref.WeakKeyDictionary[sqlalchemy.Engine, SqlBlobStore] = weakref.WeakKeyDictionary()
_stores_lock = threading.Lock()


def blob_store(storage: BaseStorage) -> BlobStore | None:
    """The blob store of the study storage (its database, or through the gRPC proxy); None
    for a storage that has none (Optuna's in-memory storage)."""
    backend = storage_backend(storage)
    if isinstance(backend, RDBStorage):
        # One per engine: it remembers that the table exists.
        with _stores_lock:
            store = _stores.get(backend.engine)
            if store is None:
                store = _stores[backend.engine] = SqlBlobStore(backend.engine)
            return store
    through_proxy = getattr(backend, "blob_store", None)  # hpo serve-storage's client
    return through_proxy() if callable(through_proxy) else None
