"""Every Optuna internal hpo relies on, and nothing else (optuna>=5,<6; pinned by tests).

hpo uses Optuna's public API everywhere else; a check in the test suite
(``tests/test_architecture.py``) refuses a private Optuna name outside this package. What is
here, and why:

- ``study``: ids and storages of studies and trials, which Optuna keeps private; the
  optimise-loop flag and ``tell`` without reading the trial (the worker is an
  ask-and-tell loop); a throwaway in-memory copy of trials for Optuna's plots.
- ``study_view``: a study whose trials a wrapped sampler reads in another encoding (CMA-ES
  sees numeric choices as indices over their sorted values) while it writes to the real one.
- ``trial_attrs``: the system attributes Optuna's own code writes and hpo reads (a retry's
  first attempt, an enqueued trial's fixed params, a grid point).
- ``rdb``: the hooks inside the RDB storage's transactions (the study-wide trial budget, trials
  that died before their first heartbeat), trial state changes that only one racing worker can
  win (Optuna's read-then-write lets several win on SQLite), and the few SQL statements hpo
  runs on Optuna's tables (counts, batched intermediate values, the worker counter).
- ``heartbeat``: the stale-trial query of heartbeat storages.
- ``tables``: whether a database has Optuna's tables, asked without creating them.
- ``grid``: the grid sampler's view of which points are still unvisited.
- ``study_attrs``: a study system attribute read, changed and written under the study row's
  lock (the worker counter, the time budget's clock), and the database server's clock.
- ``grpc``: the servicer class and registration of Optuna's gRPC storage proxy.

The ``rdb``, ``study_attrs``, ``tables`` and ``grpc`` modules are imported by name
(``hpo.optuna_compat.rdb``): they pull in SQLAlchemy's ORM and gRPC, which the rest does not
need.
"""

from __future__ import annotations

from hpo.optuna_compat.grid import unvisited_grid_ids
from hpo.optuna_compat.heartbeat import (
    heartbeat_enabled,
    record_heartbeat,
    stale_trial_callback,
    stale_trial_ids,
)
from hpo.optuna_compat.study import (
    FrozenStudy,
    cached_frozen_trial,
    enter_optimize_loop,
    frozen_study_id,
    in_memory_copy,
    quiet_experimental_warnings,
    stop_requested,
    storage_backend,
    study_id,
    study_storage,
    tell,
    trial_id,
    trial_of,
    with_trial_id,
)
from hpo.optuna_compat.study_view import study_with_trial_view
from hpo.optuna_compat.trial_attrs import (
    FIXED_PARAMS,
    GRID_ID,
    GRID_SEARCH_SPACE,
    RETRY_HISTORY,
    RETRY_OF,
    original_number,
    retry_count,
)

__all__ = [
    "FIXED_PARAMS",
    "GRID_ID",
    "GRID_SEARCH_SPACE",
    "RETRY_HISTORY",
    "RETRY_OF",
    "FrozenStudy",
    "cached_frozen_trial",
    "enter_optimize_loop",
    "frozen_study_id",
    "heartbeat_enabled",
    "in_memory_copy",
    "original_number",
    "quiet_experimental_warnings",
    "record_heartbeat",
    "retry_count",
    "stale_trial_callback",
    "stale_trial_ids",
    "stop_requested",
    "storage_backend",
    "study_id",
    "study_storage",
    "study_with_trial_view",
    "tell",
    "trial_id",
    "trial_of",
    "unvisited_grid_ids",
    "with_trial_id",
]
