"""Weights and logs as chunks in the study's own database (``hpo_blobs``), on SQLite and
PostgreSQL: order, replacement, reading a chunk at a time, deletion by study, and a table
that reads never create and racing writers create once."""

from __future__ import annotations

import io
import threading

import pytest
import sqlalchemy

from hpo.storage.blobs import CHUNK, BlobReader, SqlBlobStore, read_all


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    if request.param == "sqlite":
        return sqlite_url
    return str(request.getfixturevalue("pg_url"))


def _has_table(engine: sqlalchemy.Engine) -> bool:
    return sqlalchemy.inspect(engine).has_table("hpo_blobs")


def test_blobs_keep_their_order_and_are_replaced_whole(url: str) -> None:
    engine = sqlalchemy.create_engine(url)
    store = SqlBlobStore(engine)
    assert read_all(store, "log", "trial-1") is None
    assert not store.delete("log", "trial-1") and store.delete_study(1) == 0
    assert not _has_table(engine)  # reading made nothing
    store.append("log", "trial-1", b"first\n", 1)
    store.append("log", "trial-1", b"second\n", 1)
    store.append("log", "trial-2", b"other\n", 1)
    assert read_all(store, "log", "trial-1") == b"first\nsecond\n"
    first_id, _ = next(store.chunks("log", "trial-1"))
    assert [data for _, data in store.chunks("log", "trial-1", first_id)] == [b"second\n"]

    big = bytes(range(256)) * (CHUNK // 256 * 2 + 7)  # more than two chunks
    assert store.write("artifact", "w", io.BytesIO(big), 2) == len(big)
    assert len(list(store.chunks("artifact", "w"))) == 3
    assert io.BufferedReader(BlobReader(store.chunks("artifact", "w"))).read() == big
    store.write("artifact", "w", io.BytesIO(b"small"), 2)
    assert read_all(store, "artifact", "w") == b"small"
    store.write("artifact", "empty", io.BytesIO(b""), 2)
    assert read_all(store, "artifact", "empty") == b""  # exists, empty

    assert store.delete_study(1) == 3
    assert read_all(store, "log", "trial-1") is None
    assert read_all(store, "artifact", "w") == b"small"  # another study's


@pytest.mark.postgres
def test_workers_racing_to_make_the_table_all_write(pg_url: str) -> None:
    """PostgreSQL refuses all but one of simultaneous CREATE TABLEs of one name."""
    engines = [sqlalchemy.create_engine(pg_url) for _ in range(8)]
    start = threading.Barrier(len(engines))
    errors: list[BaseException] = []

    def write(i: int) -> None:
        store = SqlBlobStore(engines[i])
        start.wait()
        try:
            store.append("log", f"trial-{i}", b"x", 1)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(len(engines))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert all(read_all(SqlBlobStore(engines[0]), "log", f"trial-{i}") == b"x" for i in range(8))
    for engine in engines:
        engine.dispose()
