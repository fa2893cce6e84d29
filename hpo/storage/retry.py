"""Riding out database outages: retry a storage call with backoff.

A PostgreSQL restart or a dropped connection makes storage calls fail for a few seconds.
Only such failures are retried (``hpo.storage.transient``); any other is raised at once.
The worker retries each of its calls with exponential backoff (0.5 s doubling to 15 s), for
up to ``patience`` seconds in all, then gives up with a one-line error. Calls are retried
whole, and each is safe to repeat: an ask whose answer was lost finds the trial it got
(``HpoRDBStorage.claiming``), and a trial written twice is written the same.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from optuna.storages import BaseStorage

from hpo.errors import StorageError, StudyDeletedError
from hpo.optuna_compat import storage_backend
from hpo.storage.transient import is_transient
from hpo.storage.url import mask_url, root_cause
from hpo.text import first_line

log = logging.getLogger("hpo.worker")
T = TypeVar("T")

FIRST_WAIT = 0.5
MAX_WAIT = 15.0
#: How much of a database error a warning quotes.
QUOTED = 160


def reset_session(storage: BaseStorage) -> None:
    """Drop this thread's database session, which a dead connection may have left unusable
    (SQLAlchemy: "Can't reconnect until invalid transaction is rolled back")."""
    remove = getattr(storage_backend(storage), "remove_session", None)
    if remove is not None:
        try:
            remove()
        except Exception as exc:  # closing a dead connection may fail too: it is gone anyway
            log.debug("dropping the session failed: %s", exc)


class StorageRetry:
    """``retry(what, call)``: ``call()``, again and again through transient storage failures."""

    def __init__(
        self,
        patience: float = 600.0,
        sleep: Callable[[float], None] = time.sleep,
        storage: BaseStorage | None = None,
    ) -> None:
        self.patience = patience
        self._sleep = sleep
        self._storage = storage

    def __call__(self, what: str, call: Callable[[], T]) -> T:
        started = time.monotonic()
        wait = FIRST_WAIT
        attempt = 0
        while True:
            try:
                return call()
            except Exception as exc:
                if not is_transient(exc):
                    raise
                attempt += 1
                waited = time.monotonic() - started
                reason = mask_url(first_line(root_cause(exc), limit=QUOTED))
                if waited + wait > self.patience:
                    raise StorageError(
                        f"storage unreachable for {waited:.0f}s while {what}; giving up: {reason}"
                    ) from None
                log.warning(
                    "storage unreachable while %s (%s); retrying in %.1fs (attempt %d)",
                    what,
                    reason,
                    wait,
                    attempt,
                )
                if self._storage is not None:
                    reset_session(self._storage)
                self._sleep(wait)
                wait = min(MAX_WAIT, wait * 2)


class StudyRetry(StorageRetry):
    """The retry of a worker on one study: a call that finds a record gone (Optuna's
    ``KeyError``) because the study was deleted under the worker (``hpo delete-study``)
    raises :class:`~hpo.errors.StudyDeletedError` instead, one line for the worker to stop on.
    """

    def __init__(
        self, patience: float, *, storage: BaseStorage, study_id: int, study_name: str
    ) -> None:
        super().__init__(patience, storage=storage)
        self._storage_of_study = storage
        self._study_id = study_id
        self._study_name = study_name

    def __call__(self, what: str, call: Callable[[], T]) -> T:
        try:
            return super().__call__(what, call)
        except KeyError:
            if self._study_exists():
                raise
            raise StudyDeletedError(
                f"study {self._study_name!r} was deleted (hpo delete-study) while this worker "
                f"was {what}: it stops, leaving its current trial, if any"
            ) from None

    def _study_exists(self) -> bool:
        def name() -> str:
            return self._storage_of_study.get_study_name_from_id(self._study_id)

        try:
            super().__call__("looking for the study", name)
        except KeyError:
            return False
        return True
