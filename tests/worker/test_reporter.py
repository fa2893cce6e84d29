"""The worker's reporter through storage outages: a report whose pruner read was retried
still asks the pruner."""

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


def test_a_report_whose_pruner_read_is_retried_still_asks_the_pruner(tmp_path: Path) -> None:
    """A lost connection while the pruner reads the study at a due step: the retried report
    asks it again, rather than finding the step already kept and returning without asking
    (a trial that should stop then trained on to the next step where the pruner acts)."""
    storage = open_storage(f"sqlite:///{tmp_path / 'hpo.db'}")
    threshold = optuna.pruners.ThresholdPruner(lower=0.5)
    broken = [True]

    class LosesItsConnectionOnce(optuna.pruners.BasePruner):
        def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
            if broken:
                broken.pop()
                raise sqlalchemy.exc.OperationalError(
                    "SELECT", {}, Exception("server closed the connection unexpectedly")
                )
            return threshold.prune(study, trial)

    study = optuna.create_study(storage=storage, pruner=LosesItsConnectionOnce())
    trial = study.ask()
    report = WorkerReporter(
        trial,
        schedule=PruningSchedule(),  # the pruner may act at every step
        multi_objective=False,
        retry=StorageRetry(30, sleep=lambda _: None),
        stop=GracefulStop(1),
    )
    with pytest.raises(optuna.TrialPruned, match="step 1"):
        report(0.1, 1)  # under the threshold: pruned, though the first ask was lost
    assert not broken and storage.get_trial(trial_id(trial)).intermediate_values == {1: 0.1}
