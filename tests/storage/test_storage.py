"""Storage URLs, password masking and the study-wide trial budget on SQLite."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.exceptions import UpdateFinishedTrialError
from optuna.trial import TrialState

from hpo.errors import BudgetExhausted, InvalidInputError, StorageError
from hpo.storage import (
    DEFAULT_URL,
    describe_db_error,
    engine_options,
    mask_url,
    open_storage,
    resolve_url,
    scrub,
)
from hpo.study import Overrides, build_spec, create_study, parse_config
from tests.helpers import db_url


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        (
            "postgresql+psycopg2://hpo:s3cret@db:5432/hpo",
            "postgresql+psycopg2://hpo:***@db:5432/hpo",
        ),
        ("postgresql://hpo:p%40ss@db/hpo", "postgresql://hpo:***@db/hpo"),
        ("postgresql://hpo@db/hpo", "postgresql://hpo@db/hpo"),
        ("mysql+pymysql://root:@localhost/x", "mysql+pymysql://root:***@localhost/x"),
        ("sqlite:///hpo.db", "sqlite:///hpo.db"),
        # an unencoded @ or / in the password: all of it up to the host's @
        ("postgresql://u:p@ss@db/x?y=a@b", "postgresql://u:***@db/x?y=a@b"),
        ("postgresql://u:p/w@[::1]:5432/x", "postgresql://u:***@[::1]:5432/x"),
        # the password as a query parameter, under each name drivers accept
        ("postgresql://u@db/x?password=s3cret", "postgresql://u@db/x?password=***"),
        (
            "postgresql://u@db/x?sslmode=require&PASSWORD=s3cret&connect_timeout=3",
            "postgresql://u@db/x?sslmode=require&PASSWORD=***&connect_timeout=3",
        ),
        ("mysql+pymysql://u@db/x?passwd=s3cret", "mysql+pymysql://u@db/x?passwd=***"),
        ("postgresql://u@db/x?sslpassword=s3cret", "postgresql://u@db/x?sslpassword=***"),
        # a libpq keyword/value string, quoted or not, and one percent-encoded in a query
        ("host=db password='s e\\'cret' user=u", "host=db password=*** user=u"),
        ("host=db password = s3cret user=u", "host=db password = *** user=u"),
        (
            "postgresql:///?dsn=host%3Ddb%20password%3Ds3cret",
            "postgresql:///?dsn=host%3Ddb%20password%3D***",
        ),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


@pytest.mark.parametrize(
    ("url", "password"),
    [
        ("postgresql://hpo:p%40ss@db/hpo", "p@ss"),
        ("postgresql://hpo@db/hpo?password=s%26cret", "s&cret"),
        ("postgresql://hpo@db/hpo?password=s+cret", "s cret"),
        ("postgresql:///?dsn=host%3Ddb%20password%3D%27s%20e%27", "s e"),
    ],
)
def test_scrub_removes_the_decoded_password_a_driver_may_quote(url: str, password: str) -> None:
    assert password not in scrub(f"error near {password!r} for {url}", url)


def test_scrub_removes_the_password_from_any_text() -> None:
    url = "postgresql://hpo:s3cret@db/hpo"
    assert scrub(f"failed for {url} (password s3cret)", url) == (
        "failed for postgresql://hpo:***@db/hpo (password ***)"
    )


def test_resolve_url() -> None:
    assert resolve_url(None) == DEFAULT_URL
    assert resolve_url("  ") == DEFAULT_URL
    with pytest.raises(InvalidInputError, match=r"did you mean sqlite:///runs/hpo\.db"):
        resolve_url("runs/hpo.db")
    with pytest.raises(InvalidInputError, match="unsupported scheme 'redis'"):
        resolve_url("redis://localhost:6379")
    with pytest.raises(InvalidInputError, match=r"u:\*\*\*@h:abc/db'?: port 'abc' is not a number"):
        resolve_url("postgresql+psycopg2://u:pw@h:abc/db")
    assert resolve_url("postgresql://[::1]:5432/db") == "postgresql://[::1]:5432/db"


def test_engine_options_bound_the_pool() -> None:
    pg = engine_options("postgresql+psycopg2://u@h/db")
    assert pg["pool_size"] + pg["max_overflow"] <= 3 and pg["pool_recycle"] <= 600
    assert "pool_size" not in engine_options("sqlite:///x.db")


def test_unreachable_server_is_one_storage_error_without_the_password() -> None:
    url = "postgresql+psycopg2://hpo:hunter2@127.0.0.1:1/hpo"
    with pytest.raises(StorageError) as info:
        open_storage(url)
    message = str(info.value)
    assert "\n" not in message and "hunter2" not in message
    assert message.startswith("cannot open storage postgresql+psycopg2://hpo:***@127.0.0.1:1/hpo:")


def test_a_sqlite_path_that_cannot_be_a_database_says_why(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match=r"directory .*missing-dir does not exist"):
        open_storage(f"sqlite:///{tmp_path}/missing-dir/hpo.db", patience=600)
    with pytest.raises(StorageError, match="is a directory, not a database file"):
        open_storage(f"sqlite:///{tmp_path}", patience=600)
    assert not (tmp_path / "missing-dir").exists()


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("query", "needle"),
    [("", "does not exist"), ("?sslmode=bogus", 'invalid sslmode value: "bogus"')],
    ids=["missing-database", "invalid-sslmode"],
)
def test_a_storage_that_cannot_work_is_not_waited_for(
    pg_server: None, caplog: pytest.LogCaptureFixture, query: str, needle: str
) -> None:
    """A worker waits for a restarting database; not for one that does not exist."""
    url = db_url("hpo_no_such_database") + query
    with pytest.raises(StorageError, match=needle) as raised:
        open_storage(url, patience=600)
    assert "\n" not in str(raised.value)
    assert not [r for r in caplog.records if "retrying" in r.getMessage()]


def test_describe_db_error_keeps_the_first_line() -> None:
    class WrappedError(Exception):
        orig = RuntimeError("FATAL: password authentication failed for user hpo\nDETAIL: x")

    assert describe_db_error(WrappedError(), "postgresql://hpo:pw@h/db") == (
        "FATAL: password authentication failed for user hpo"
    )


@pytest.mark.serial  # 16 connections at once
def test_budget_holds_with_sixteen_workers_racing(storage_url: str) -> None:
    """16 threads, each with its own connection, ask as fast as they can: 25 trials, never 26."""
    space = {"x": {"_type": "uniform", "_value": [0, 1]}}
    config = {"config": {"experimentName": "race", "maxTrialNum": 25}, "search_space": space}
    spec, _ = build_spec(parse_config(config), Overrides(objective="math:sqrt"))
    create_study(open_storage(storage_url), spec)
    storages = [open_storage(storage_url) for _ in range(16)]
    barrier = threading.Barrier(16)
    created: list[int] = []

    def hammer(storage: Any) -> None:
        study = optuna.load_study(study_name="race", storage=storage)
        barrier.wait()
        while True:
            try:
                trial = study.ask()
            except BudgetExhausted:
                return
            created.append(trial.number)
            study.tell(trial, 0.0)

    threads = [threading.Thread(target=hammer, args=(s,)) for s in storages]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(created) == list(range(25))
    assert len(optuna.load_study(study_name="race", storage=storage_url).trials) == 25


@pytest.mark.parametrize(
    ("before", "after"),
    [(TrialState.WAITING, TrialState.RUNNING), (TrialState.RUNNING, TrialState.FAIL)],
    ids=["workers-claim-a-queued-retry", "watchers-fail-a-stale-trial"],
)
def test_a_state_change_raced_by_six_workers_has_exactly_one_winner(
    storage_url: str, before: TrialState, after: TrialState
) -> None:
    """Two workers must never run one queued trial, nor queue two retries of one dead
    worker's trial. (Optuna's read-then-write let every racer win on SQLite.)"""
    main = open_storage(storage_url)
    study = optuna.create_study(storage=main)
    storages = [open_storage(storage_url) for _ in range(6)]
    for _ in range(8):
        template = optuna.trial.create_trial(state=TrialState.WAITING)
        trial = main.create_new_trial(study._study_id, template_trial=template)
        if before == TrialState.RUNNING:
            assert main.set_trial_state_values(trial, TrialState.RUNNING)
        wins = _race(storages, lambda storage, t=trial: storage.set_trial_state_values(t, after))
        assert sorted(wins) == [False] * (len(storages) - 1) + [True]
        assert main.get_trial(trial).state == after


def _race(storages: list[Any], change: Any) -> list[bool]:
    """``change(storage)`` from one thread per storage, all at once; who won."""
    barrier = threading.Barrier(len(storages))
    wins: list[bool] = []

    def one(storage: Any) -> None:
        barrier.wait()
        try:
            wins.append(bool(change(storage)))
        except UpdateFinishedTrialError:  # the trial was failed already: lost the race
            wins.append(False)

    threads = [threading.Thread(target=one, args=(s,)) for s in storages]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return wins


def test_creating_twice_is_refused_unless_it_is_the_same_experiment(tmp_path: Path) -> None:
    from hpo.errors import StudyExistsError

    url = f"sqlite:///{tmp_path / 'x.db'}"
    storage = open_storage(url)
    data = {
        "config": {"experimentName": "twice"},
        "search_space": {"x": {"_type": "uniform", "_value": [0, 1]}},
    }
    spec, _ = build_spec(parse_config(data), Overrides(objective="math:sqrt"))
    assert not create_study(storage, spec).reused
    with pytest.raises(StudyExistsError, match="exists already"):
        create_study(storage, spec)
    assert create_study(storage, spec, exist_ok=True).reused
    other, _ = build_spec(parse_config(data), Overrides(objective="math:sqrt", sampler="random"))
    with pytest.raises(StudyExistsError, match="different sampler"):
        create_study(storage, other, exist_ok=True)
