""":class:`HpoRDBStorage`: Optuna's RDB storage with the one thing a shared study needs that
Optuna does not do: ``maxTrialNum`` as a hard, study-wide limit.

The check runs inside the transaction in which Optuna creates a trial, after the study row is
locked (PostgreSQL, MySQL) or the write lock is taken (SQLite), so with any number of workers
racing no more trials are ever created than the budget allows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any

import optuna
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial, TrialState

import hpo.optuna_compat.study_attrs as compat_attrs
from hpo import attrs
from hpo.errors import BudgetExhausted
from hpo.optuna_compat import RETRY_OF
from hpo.optuna_compat import rdb as compat_rdb
from hpo.optuna_compat.rdb import CLAIM_KEY, HookedRDBStorage, RDBSession

__all__ = ["CLAIM_KEY", "HpoRDBStorage", "counted_trials", "max_trials_of", "state_counts"]


class HpoRDBStorage(HookedRDBStorage):
    """Optuna's RDB storage with a study-wide trial budget and a worker counter."""

    def check_new_trial(self, session: RDBSession, study_id: int) -> None:
        # Optuna has locked the study row (or SQLite's write lock is held once the new trial is
        # flushed), so the count below cannot race another worker's insert.
        # The spec is read here, not cached: set-budget changes it while workers run.
        spec, count = compat_rdb.study_user_attr_and_trial_count(session, study_id, attrs.SPEC)
        limit = max_trials_of(spec)
        if limit is not None and count > limit:
            raise BudgetExhausted(f"the study's budget of {limit} trials is used up")

    def enable_heartbeat(
        self,
        interval: int,
        grace_period: int,
        on_stale: Callable[[optuna.Study, FrozenTrial], None] | None,
    ) -> None:
        """Turn on Optuna's heartbeat with the study's settings (read after connecting)."""
        self.heartbeat_interval = interval
        self.grace_period = grace_period
        self.heartbeat_stale_trial_callback = on_stale
        self.failed_trial_callback = on_stale

    def set_trial_intermediate_values(self, trial_id: int, values: Mapping[int, float]) -> None:
        """Several epochs' values of a running trial in one transaction (Optuna: one each)."""
        compat_rdb.add_intermediate_values(self, trial_id, values)

    def claiming(
        self, token: str, user_attrs: Mapping[str, Any] | None = None
    ) -> AbstractContextManager[None]:
        """Within it, the trial this thread asks for is marked with ``token``, so that an ask
        retried after a broken connection gets the same trial (:meth:`claimed_trial`) instead
        of leaving the first one RUNNING, empty, until the grace period; ``user_attrs`` are
        set on it in the same transaction (no write of their own)."""
        return compat_rdb.claiming(token, user_attrs)

    def fail_stale_trial(self, trial_id: int, reason: str) -> bool:
        """Fail a running trial whose worker went silent, with ``reason`` in its hpo:error;
        False when it is not running any more (finished, or failed by another worker)."""
        return compat_rdb.fail_running_trial(self, trial_id, {attrs.ERROR: reason})

    def register_worker(self, study_id: int) -> int:
        """A number unique to this worker within the study: 0, 1, 2, … in order of arrival."""
        return compat_attrs.next_study_counter(self, study_id, attrs.WORKER_COUNTER)

    def database_time(self) -> float:
        """Now, on the database server's clock (seconds since the epoch)."""
        return compat_attrs.storage_epoch(self)

    def update_study_system_attr(
        self,
        study_id: int,
        key: str,
        update: Callable[[Any, compat_attrs.StudyTransaction], Any],
    ) -> tuple[Any, Any]:
        """Read, change and write a study system attribute under the study's lock."""
        return compat_attrs.update_study_system_attr(self, study_id, key, update)

    def trial_state_counts(self, study_id: int) -> dict[TrialState, int]:
        """How many trials of the study are in each state, counted by the database."""
        return compat_rdb.trial_state_counts(self, study_id)

    def trial_system_attr(self, trial_id: int, key: str) -> Any:
        """One system attribute of a trial (None when absent), read on its own."""
        return compat_rdb.trial_system_attr(self, trial_id, key)


def max_trials_of(spec_json: Mapping[str, Any] | None) -> int | None:
    """The trial budget in a stored spec's JSON (read inside the storage's transaction, where
    the spec is plain JSON: the storage sits below the study layer)."""
    if not isinstance(spec_json, Mapping):  # a damaged spec: the commands on it say so
        return None
    value = spec_json.get("max_trials")
    return int(value) if isinstance(value, int | float) else None


def state_counts(storage: BaseStorage, study_id: int) -> dict[TrialState, int]:
    """Trials per state for any Optuna storage (SQL counts where the storage is ours)."""
    if isinstance(storage, HpoRDBStorage):
        return storage.trial_state_counts(study_id)
    counts: dict[TrialState, int] = {}
    for trial in storage.get_all_trials(study_id, deepcopy=False):
        counts[trial.state] = counts.get(trial.state, 0) + 1
    return counts


def counted_trials(storage: BaseStorage, study_id: int) -> int:
    """How many trials count against the study's trial budget: all, less the retries (a retry
    redoes a trial that counted)."""
    if isinstance(storage, HpoRDBStorage):
        with storage.session() as session:
            _, counted = compat_rdb.study_user_attr_and_trial_count(session, study_id, attrs.SPEC)
            return counted
    trials = storage.get_all_trials(study_id, deepcopy=False)
    return sum(1 for t in trials if RETRY_OF not in t.system_attrs)
