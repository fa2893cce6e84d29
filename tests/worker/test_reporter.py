"""The worker's reporter through storage outages: a report whose write was retried still
asks the pruner."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
import sqlalchemy.exc

from hpo.optuna_compat import trial_id
from hpo.storage import StorageRetry, open_storage
from hpo.tuners import PruningSchedule
from hpo.worker.reporter import WorkerReporter
from hpo.worker.signals import GracefulStop


def test_a_report_whose_write_is_retried_still_asks_the_pruner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lost connection while a due step is written: the retried report writes it and asks
    the pruner, rather than finding the step already kept and returning without asking."""
    storage = open_storage(f"sqlite:///{tmp_path / 'hpo.db'}")
    study = optuna.create_study(storage=storage, pruner=optuna.pruners.ThresholdPruner(lower=0.5))
    trial = study.ask()
    writes = storage.set_trial_intermediate_values
    broken = [True]

    def lost_once(trial_id: int, values: dict[int, float]) -> None:
        if broken.pop() if broken else False:
            raise sqlalchemy.exc.OperationalError(
                "INSERT", {}, Exception("server closed the connection unexpectedly")
            )
        writes(trial_id, values)

    monkeypatch.setattr(storage, "set_trial_intermediate_values", lost_once)
    report = WorkerReporter(
        trial,
        schedule=PruningSchedule(),  # the pruner may act at every step
        multi_objective=False,
        retry=StorageRetry(30, sleep=lambda _: None),
        stop=GracefulStop(1),
    )
    with pytest.raises(optuna.TrialPruned, match="step 1"):
        report(0.1, 1)  # under the threshold: pruned, though its first write was lost
    assert not broken and storage.get_trial(trial_id(trial)).intermediate_values == {1: 0.1}
