"""The database work of one trial: SQL statements a worker sends per no-op trial.

At hundreds of workers every statement of a trial is load on the one shared PostgreSQL, so
their number is held down (plain Optuna sends about 58 for the same trial; ``bench/overhead.py``
measures both side by side) and a change that adds some is seen here.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.trial import TrialState
from sqlalchemy import event

from hpo import attrs
from hpo.storage import open_storage
from hpo.study import Overrides, build_spec, create_study, parse_config
from hpo.worker import Worker
from hpo.worker.trial import worker_name
from tests.helpers import write_module

pytestmark = pytest.mark.postgres

#: What a no-op trial may cost: 44 statements before this was counted, 40 the release before.
MAX_STATEMENTS_PER_TRIAL = 40
#: As bench/overhead.py: 4 params, 5 reported epochs, no pruner.
SPACE = {
    "lr": {"_type": "loguniform", "_value": [1e-5, 1e-1]},
    "momentum": {"_type": "uniform", "_value": [0.0, 0.99]},
    "batch_size": {"_type": "choice", "_value": [16, 32, 64, 128]},
    "layers": {"_type": "randint", "_value": [1, 9]},
}
TRIALS = 40
#: The first trials are not counted: loading the study, registering, the first reads.
WARM_UP = 5


@pytest.fixture
def noop(tmp_path: Path) -> Iterator[None]:
    write_module(
        tmp_path,
        "noop",
        """
        def run(params, report):
            for epoch in range(1, 6):
                report(params["momentum"] * epoch / 5, epoch)
            return params["momentum"]
        """,
    )
    sys.path.insert(0, str(tmp_path))
    yield
    sys.path.remove(str(tmp_path))
    sys.modules.pop("noop", None)


def test_a_no_op_trial_sends_at_most_40_statements(pg_url: str, noop: None) -> None:
    config = {"config": {"experimentName": "sql", "maxTrialNum": TRIALS}, "search_space": SPACE}
    spec, _ = build_spec(
        parse_config(config), Overrides(objective="noop:run", sampler="random", pruner="none")
    )
    create_study(open_storage(pg_url), spec)
    storage = open_storage(pg_url)
    worker = Worker(storage, "sql")

    sent: list[str] = []

    def count(*args: Any) -> None:
        sent.append(args[2])  # the statement (background threads' ones too)

    event.listen(storage.engine, "before_cursor_execute", count)
    # The count after each trial the worker ran.
    after: list[int] = []
    step = worker.step

    def counted_step(*, drain: bool = True) -> str:
        ran = worker.stats.ran
        reason = step(drain=drain)
        if worker.stats.ran > ran:
            after.append(len(sent))
        return reason

    worker.step = counted_step  # type: ignore[method-assign]
    try:
        stats = worker.run()
    finally:
        event.remove(storage.engine, "before_cursor_execute", count)

    assert stats.complete == TRIALS
    per_trial = (after[-1] - after[WARM_UP - 1]) / (TRIALS - WARM_UP)
    print(f"SQL statements per no-op trial: {per_trial:.1f}")
    assert per_trial <= MAX_STATEMENTS_PER_TRIAL, sent[after[-2] : after[-1]]

    # Nothing the statements saved was lost: every trial has its params, its five epochs, its
    # value and the worker that ran it.
    for trial in optuna.load_study(study_name="sql", storage=pg_url).trials:
        assert trial.state == TrialState.COMPLETE
        assert set(trial.params) == set(SPACE)
        assert sorted(trial.intermediate_values) == [1, 2, 3, 4, 5]
        assert trial.value == pytest.approx(trial.params["momentum"])
        assert trial.user_attrs[attrs.WORKER] == worker_name()
