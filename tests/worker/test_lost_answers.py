"""A connection that breaks after the database committed, before its answer came back.

The worker's ask then fails although the database holds its trial: created (Optuna retries
the creation itself) or claimed from the queue (the worker retries the ask). A retry must go
on with that trial, not leave it RUNNING and empty until the grace period while it asks for
another: the study ends with exactly its budget of trials, each run once, none failed.

The break is made on the real storage, at the real place: the database's commit succeeds,
then the session raises the error psycopg2 raises for a connection that dies.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import optuna
import pytest
import sqlalchemy
import sqlalchemy.exc
import sqlalchemy.orm
from optuna.exceptions import StorageInternalError
from optuna.trial import TrialState

from hpo.storage import HpoRDBStorage, engine_options
from hpo.storage.rdb import CLAIM_KEY
from hpo.study import Overrides, build_spec, create_study, parse_config
from hpo.worker import Worker
from tests.helpers import write_module

LOST = "server closed the connection unexpectedly"


class _BreaksAfterCommit(sqlalchemy.orm.Session):
    """A session whose connection breaks, when told, after the database committed."""

    def close(self) -> None:
        cut = self.info.pop("cut", None)
        super().close()
        if cut is not None:
            raise cut


def _lost() -> sqlalchemy.exc.OperationalError:
    return sqlalchemy.exc.OperationalError("COMMIT", {}, Exception(LOST))


def _lost_in_optuna() -> StorageInternalError:
    """The lost connection as Optuna reports a failed commit (and retries it itself)."""
    try:
        raise StorageInternalError("An exception is raised during the commit.") from _lost()
    except StorageInternalError as exc:
        return exc


class LosesAnswers(HpoRDBStorage):
    """The real storage, whose connection breaks after the commit of the next
    ``creations_cut`` trial creations and ``claims_cut`` claims of a queued trial."""

    def __init__(self, url: str, *, seen_by: str = "worker") -> None:
        super().__init__(url, engine_kwargs=engine_options(url))
        self.scoped_session = sqlalchemy.orm.scoped_session(
            sqlalchemy.orm.sessionmaker(bind=self.engine, class_=_BreaksAfterCommit)
        )
        self.seen_by = seen_by  # who gets the error first: Optuna (and retries) or the worker
        self.creations_cut = 0
        self.claims_cut = 0

    def check_new_trial(self, session: Any, study_id: int) -> None:
        super().check_new_trial(session, study_id)
        if self.creations_cut:
            self.creations_cut -= 1
            session.info["cut"] = _lost_in_optuna() if self.seen_by == "optuna" else _lost()

    def set_trial_state_values(
        self, trial_id: int, state: TrialState, values: Sequence[float] | None = None
    ) -> bool:
        won = super().set_trial_state_values(trial_id, state, values)
        if won and state == TrialState.RUNNING and self.claims_cut:
            self.claims_cut -= 1
            raise _lost()
        return won


@pytest.fixture
def quadratic(tmp_path: Path) -> Iterator[str]:
    write_module(tmp_path, "lost_answers", "def run(params):\n    return params['x'] ** 2\n")
    sys.path.insert(0, str(tmp_path))
    yield "lost_answers:run"
    sys.path.remove(str(tmp_path))
    sys.modules.pop("lost_answers", None)


def _study(url: str, objective: str, max_trials: int) -> str:
    config = {
        "config": {
            "experimentName": "lost",
            "maxTrialNum": max_trials,
            "heartbeat_interval": 1,
            "grace_period": 3,
        },
        "search_space": {"x": {"_type": "uniform", "_value": [0, 1]}},
    }
    spec, _ = build_spec(parse_config(config), Overrides(objective=objective, sampler="random"))
    create_study(LosesAnswers(url), spec)
    return spec.name


def _assert_each_trial_ran_once(url: str, name: str, n: int) -> list[optuna.trial.FrozenTrial]:
    everything = optuna.load_study(study_name=name, storage=url).trials
    assert [t.state for t in everything] == [TrialState.COMPLETE] * n, [
        (t.number, t.state, t.params) for t in everything
    ]
    assert all(t.params and CLAIM_KEY in t.system_attrs for t in everything)
    return everything


@pytest.mark.parametrize("seen_by", ["optuna", "worker"])
def test_a_trial_created_as_the_connection_broke_is_the_one_run(
    storage_url: str, quadratic: str, seen_by: str
) -> None:
    name = _study(storage_url, quadratic, max_trials=6)
    storage = LosesAnswers(storage_url, seen_by=seen_by)
    storage.creations_cut = 3
    stats = Worker(storage, name).run()
    assert storage.creations_cut == 0  # every cut happened
    assert stats.complete == 6
    _assert_each_trial_ran_once(storage_url, name, 6)


def test_a_queued_trial_claimed_as_the_connection_broke_is_the_one_run(
    storage_url: str, quadratic: str
) -> None:
    name = _study(storage_url, quadratic, max_trials=4)
    study = optuna.load_study(study_name=name, storage=storage_url)
    for x in (0.1, 0.2, 0.3, 0.4):
        study.enqueue_trial({"x": x})
    storage = LosesAnswers(storage_url)
    storage.claims_cut = 2
    stats = Worker(storage, name).run()
    assert storage.claims_cut == 0
    assert stats.complete == 4
    ran = _assert_each_trial_ran_once(storage_url, name, 4)
    assert [t.params["x"] for t in ran] == [0.1, 0.2, 0.3, 0.4]
