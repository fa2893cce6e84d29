"""The heartbeat side of Optuna's storages: beating, and finding the trials that stopped."""

from __future__ import annotations

from collections.abc import Callable

from optuna.storages import BaseStorage
from optuna.storages._heartbeat import BaseHeartbeat, is_heartbeat_enabled
from optuna.study import Study
from optuna.trial import FrozenTrial


def heartbeat_enabled(storage: BaseStorage) -> bool:
    """Whether the storage records heartbeats and has an interval set."""
    return is_heartbeat_enabled(storage)


def record_heartbeat(storage: BaseStorage, trial_id: int) -> bool:
    """Beat for a trial where the storage keeps heartbeats; False where it does not (gRPC)."""
    if not isinstance(storage, BaseHeartbeat):
        return False
    storage.record_heartbeat(trial_id)
    return True


def stale_trial_callback(storage: BaseStorage) -> Callable[[Study, FrozenTrial], None] | None:
    """What the storage calls for each trial it fails as stale (hpo: queue its retry)."""
    if not isinstance(storage, BaseHeartbeat):
        return None
    return storage.get_heartbeat_stale_trial_callback()


def stale_trial_ids(storage: BaseStorage, study_id: int) -> list[int]:
    """Running trials whose heartbeat is older than the storage's grace period."""
    if not isinstance(storage, BaseHeartbeat):
        return []
    return list(storage._get_stale_trial_ids(study_id))
