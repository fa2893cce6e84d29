"""System attributes that Optuna's own code writes on trials, and that hpo reads."""

from __future__ import annotations

from optuna.trial import FrozenTrial

#: Written by RetryHeartbeatStaleTrialCallback on a retry: the number of the trial it redoes.
RETRY_OF = "failed_trial"
#: Written by the same callback: the numbers of every earlier attempt, the first one first.
RETRY_HISTORY = "retry_history"
#: Written by ``Study.enqueue_trial``: the params an enqueued trial (the baseline) must take.
FIXED_PARAMS = "fixed_params"
#: Written by GridSampler: the index of the trial's point in the shuffled grid, and the grid.
GRID_ID = "grid_id"
GRID_SEARCH_SPACE = "search_space"


def original_number(trial: FrozenTrial) -> int:
    """The number of the first attempt of a trial (itself, unless it is a retry)."""
    history = trial.system_attrs.get(RETRY_HISTORY) or []
    return int(history[0]) if history else trial.number


def retry_count(trial: FrozenTrial) -> int:
    """0 for a first attempt; 1, 2, … for its retries."""
    return len(trial.system_attrs.get(RETRY_HISTORY) or [])
