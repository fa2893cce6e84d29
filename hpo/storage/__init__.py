"""Study storage: URLs and masking, opening, the study-wide trial budget, riding out outages,
and the gRPC proxy for very many workers.

- ``url``: which storage, its password never printed (``mask_url``, ``scrub``), engine settings;
- ``open``: ``open_storage(url)``, one line of error for every way it can fail;
- ``rdb``: :class:`HpoRDBStorage`, Optuna's RDB storage with a hard, study-wide ``maxTrialNum``;
- ``blobs``: weights and trial logs as chunks in the study's own database (``hpo_blobs``);
- ``clock``: the database server's clock, and study attributes changed under the study's lock;
- ``retry``: storage calls retried with backoff through a database restart;
- ``transient``: which failures are worth retrying (a lost connection) and which are final;
- ``credentials``: the URL kept from the trials a process runs (scrubbed from its environment
  and command line, non-dumpable, passed to child workers through a pipe);
- ``grpc``: ``hpo serve-storage`` and its client.
"""

from __future__ import annotations

from hpo.storage.blobs import BlobReader, BlobStore, blob_store, read_all
from hpo.storage.clock import StorageClock, StudyTransaction, storage_now, update_study_system_attr
from hpo.storage.open import open_storage
from hpo.storage.rdb import HpoRDBStorage, counted_trials, state_counts
from hpo.storage.retry import StorageRetry, StudyRetry, reset_session
from hpo.storage.transient import is_transient
from hpo.storage.url import (
    DEFAULT_URL,
    describe_db_error,
    engine_options,
    mask_url,
    resolve_url,
    scrub,
)

__all__ = [
    "DEFAULT_URL",
    "BlobReader",
    "BlobStore",
    "HpoRDBStorage",
    "StorageClock",
    "StorageRetry",
    "StudyRetry",
    "StudyTransaction",
    "blob_store",
    "counted_trials",
    "describe_db_error",
    "engine_options",
    "is_transient",
    "mask_url",
    "open_storage",
    "read_all",
    "reset_session",
    "resolve_url",
    "scrub",
    "state_counts",
    "storage_now",
    "update_study_system_attr",
]
