"""Study attributes changed in one locked transaction, and the database server's clock.

SQL on Optuna's tables that the rdb module's storage hooks do not need: read-change-write of a
study system attribute under the study row's lock (the worker counter, the time budget's
clock), and ``now`` as the database server tells it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy
from optuna.storages._rdb import models

from hpo.optuna_compat.rdb import HookedRDBStorage, RDBSession

#: The database's clock in seconds since the epoch, by dialect: every worker reads the same
#: clock, whatever its own says (a worker 2 h ahead must not find a budget spent).
_EPOCH_SQL = {
    "postgresql": "SELECT EXTRACT(EPOCH FROM clock_timestamp())",
    "sqlite": "SELECT (julianday('now') - 2440587.5) * 86400.0",
    "mysql": "SELECT UNIX_TIMESTAMP(NOW(6))",
    "mariadb": "SELECT UNIX_TIMESTAMP(NOW(6))",
}


def database_epoch(session: RDBSession) -> float:
    """Now, on the database server's clock (seconds since the epoch)."""
    sql = _EPOCH_SQL.get(session.get_bind().dialect.name)
    if sql is None:  # another SQLAlchemy dialect: hpo does not know how to read its clock
        return time.time()
    return float(session.execute(sqlalchemy.text(sql)).scalar_one())


def storage_epoch(storage: HookedRDBStorage) -> float:
    """Now, on the clock of the storage's database server."""
    with storage.session() as session:
        return database_epoch(session)


class StudyTransaction:
    """What an update of a study attribute may read inside its transaction."""

    def __init__(self, session: RDBSession, study_id: int) -> None:
        self._session = session
        self._study_id = study_id

    def now(self) -> float:
        return database_epoch(self._session)

    def user_attr(self, key: str) -> Any:
        value_json = self._session.scalar(
            sqlalchemy.select(models.StudyUserAttributeModel.value_json).where(
                models.StudyUserAttributeModel.study_id == self._study_id,
                models.StudyUserAttributeModel.key == key,
            )
        )
        return None if value_json is None else json.loads(value_json)

    def system_attr(self, key: str) -> Any:
        value_json = self._session.scalar(
            sqlalchemy.select(models.StudySystemAttributeModel.value_json).where(
                models.StudySystemAttributeModel.study_id == self._study_id,
                models.StudySystemAttributeModel.key == key,
            )
        )
        return None if value_json is None else json.loads(value_json)


def update_study_system_attr(
    storage: HookedRDBStorage,
    study_id: int,
    key: str,
    update: Callable[[Any, StudyTransaction], Any],
) -> tuple[Any, Any]:
    """Read, change and write a study system attribute in one transaction that no other
    update of the study can interleave; ``(before, after)`` (``before`` None when absent)."""
    with storage.session() as session:
        # Write before reading: the UPDATE takes the study row's lock (PostgreSQL, MySQL) or
        # SQLite's write lock, so no two callers can read the same value.
        session.execute(
            sqlalchemy.update(models.StudyModel)
            .where(models.StudyModel.study_id == study_id)
            .values(study_name=models.StudyModel.study_name)
        )
        attr = session.scalars(
            sqlalchemy.select(models.StudySystemAttributeModel).where(
                models.StudySystemAttributeModel.study_id == study_id,
                models.StudySystemAttributeModel.key == key,
            )
        ).one_or_none()
        before = None if attr is None else json.loads(str(attr.value_json))
        after = update(before, StudyTransaction(session, study_id))
        if attr is None:
            session.add(
                models.StudySystemAttributeModel(
                    study_id=study_id, key=key, value_json=json.dumps(after)
                )
            )
        elif after != before:
            attr.value_json = json.dumps(after)
    return before, after


def next_study_counter(storage: HookedRDBStorage, study_id: int, key: str) -> int:
    """0, 1, 2, … from a counter kept in a study system attribute, one value per call."""
    before, _ = update_study_system_attr(storage, study_id, key, lambda n, _: int(n or 0) + 1)
    return int(before or 0)
