"""Storages that a command only reads (or changes the studies of): never created by it.

Optuna's storage creates a SQLite file and its tables in whatever database it is pointed at:
``hpo status`` on a mistyped URL left an empty database behind and said "no studies", and a
study created in ``sqlite:///:memory:`` was gone when the command exited. A command that
reads studies checks first, without creating anything, that there are some to read
(:func:`require_studies`); a command that creates studies refuses an in-memory database
(:func:`refuse_in_memory`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy
import sqlalchemy.engine

from hpo.errors import EmptyStorageError, InvalidInputError
from hpo.optuna_compat.tables import has_optuna_tables
from hpo.storage.url import mask_url, scheme_of


def in_memory_sqlite(url: str) -> bool:
    """``sqlite://``, ``sqlite:///:memory:`` and SQLite's URI forms of an in-memory database."""
    if scheme_of(url) != "sqlite":
        return False
    parsed = sqlalchemy.engine.make_url(url)
    database = parsed.database or ""
    return database in ("", ":memory:") or (
        bool(parsed.query.get("uri")) and ("mode=memory" in url or database == "file::memory:")
    )


def refuse_in_memory(url: str) -> None:
    """A command that creates studies cannot create them in memory: they would be gone when
    it exits, while it says it created them."""
    if in_memory_sqlite(url):
        raise InvalidInputError(
            f"storage {mask_url(url)} is an in-memory database: a study created there is gone "
            "when the command exits; name a file (sqlite:///hpo.db) or a PostgreSQL database"
        )


def require_studies(url: str, engine_kwargs: dict[str, Any], driver_url: str | None = None) -> None:
    """EmptyStorageError, naming the storage, when it cannot hold a study: a SQLite file that
    does not exist, an in-memory database, a database without Optuna's tables. Nothing is
    created: a SQLite file is looked for before it is opened. ``driver_url``: the URL with
    its driver named (``hpo.storage.url.sqlalchemy_url``), to connect with."""
    where = f"no studies in {mask_url(url)}"
    if in_memory_sqlite(url):
        raise EmptyStorageError(f"{where} (an in-memory database is empty each time it opens)")
    if scheme_of(url) == "sqlite":
        parsed = sqlalchemy.engine.make_url(url)
        if not parsed.query.get("uri") and not Path(parsed.database or "").is_file():
            raise EmptyStorageError(f"{where} (no file {parsed.database})")
    engine = sqlalchemy.create_engine(driver_url or url, **engine_kwargs)
    try:
        if not has_optuna_tables(engine):
            raise EmptyStorageError(f"{where} (the database has no Optuna tables)")
    finally:
        engine.dispose()
