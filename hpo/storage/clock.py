"""The storage's clock, and race-free updates of a study's attributes, for any storage.

Workers on many machines share one study, and their clocks differ (a node 2 h ahead is a
misconfigured NTP away): whatever counts the study's time is read on the database server's
clock. A worker reads it once and keeps the offset to its own (:class:`StorageClock`), so the
time budget costs no query per trial.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from optuna.storages import BaseStorage

from hpo.optuna_compat import storage_backend
from hpo.storage.rdb import HpoRDBStorage

#: Seconds after which a worker reads the database's clock again (clocks drift apart).
OFFSET_LIFETIME = 600.0


class StudyTransaction(Protocol):
    """What an update of a study attribute may read while no other update can interleave."""

    def now(self) -> float: ...

    def user_attr(self, key: str) -> Any: ...

    def system_attr(self, key: str) -> Any: ...


StudyUpdate = Callable[[Any, StudyTransaction], Any]


def storage_now(storage: BaseStorage) -> float:
    """Now, in seconds since the epoch, on the storage's clock: the database server's, or the
    gRPC proxy's; this machine's for a storage that has no clock of its own."""
    backend = storage_backend(storage)
    if isinstance(backend, HpoRDBStorage):
        return backend.database_time()
    server_time = getattr(backend, "server_time", None)  # the client of hpo serve-storage
    if callable(server_time):
        return float(server_time())
    return time.time()


class StorageClock:
    """The storage's clock, read once per ``OFFSET_LIFETIME`` and extrapolated between."""

    def __init__(self, storage: BaseStorage, lifetime: float = OFFSET_LIFETIME) -> None:
        self._storage = storage
        self._lifetime = lifetime
        self._offset = 0.0
        self._read_at = -float("inf")

    def now(self) -> float:
        local = time.time()
        if time.monotonic() - self._read_at >= self._lifetime:
            before = time.time()
            remote = storage_now(self._storage)
            # The server read its clock somewhere in the round trip: take its middle.
            local = (before + time.time()) / 2
            self._offset = remote - local
            self._read_at = time.monotonic()
        return local + self._offset


class _Unlocked:
    """A study transaction for storages without transactions (the gRPC proxy)."""

    def __init__(self, storage: BaseStorage, study_id: int) -> None:
        self._storage = storage
        self._study_id = study_id

    def now(self) -> float:
        return storage_now(self._storage)

    def user_attr(self, key: str) -> Any:
        return self._storage.get_study_user_attrs(self._study_id).get(key)

    def system_attr(self, key: str) -> Any:
        return self._storage.get_study_system_attrs(self._study_id).get(key)


def update_study_system_attr(
    storage: BaseStorage, study_id: int, key: str, update: StudyUpdate
) -> tuple[Any, Any]:
    """Read, change and write a study system attribute: ``(before, after)``.

    In a database, one transaction that holds the study's lock, so that two workers (or a
    worker and ``hpo stop``) cannot interleave. Through the gRPC proxy there is no such
    transaction: read, change, write (a race there costs a fraction of a second of budget).
    """
    backend = storage_backend(storage)
    if isinstance(backend, HpoRDBStorage):
        return backend.update_study_system_attr(study_id, key, update)
    before = storage.get_study_system_attrs(study_id).get(key)
    after = update(before, _Unlocked(storage, study_id))
    if after != before:
        storage.set_study_system_attr(study_id, key, after)
    return before, after
