"""Fixtures: a fresh PostgreSQL database per test, storages, data sets, an isolated cache.

PostgreSQL is the real server named by ``HPO_TEST_PG`` (default: the local server with trust
auth). Databases are created for the run and dropped after it. Without a reachable server the
PostgreSQL tests fail under CI (``CI=true``) and are skipped elsewhere, with the reason. What
tests call (the hpo command, study set-up, waiting) is in ``tests/helpers.py``.

Tests marked ``long`` (scale and soak: thousands of trials, dozens of processes) prove nothing
that a smaller test beside them does not, except the size: CI (``CI=true``) leaves them out,
saying so, unless ``HPO_LONG_TESTS=1``; a plain run includes them.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

# One CPU thread for the PyTorch of this process and of every worker a test starts, unless
# set: the tests run two at a time, often beside other work, and PyTorch's OpenMP threads,
# which spin-wait for each other, train a small model 3-8 times slower (up to past a test's
# time limit) when more of them than free cores share the machine. What hpo itself does about
# that (local workers share the cores out) is tested with this variable removed.
os.environ.setdefault("OMP_NUM_THREADS", "1")

from tests.helpers import PG_SERVER, admin_connection, db_url, extract_cifar_subset, pg_admin


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not os.environ.get("CI") or os.environ.get("HPO_LONG_TESTS") == "1":
        return
    skip = pytest.mark.skip(
        reason="long (scale/soak) test: CI leaves it out; HPO_LONG_TESTS=1 runs it"
    )
    for item in items:
        if "long" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def pg_server() -> None:
    try:
        admin_connection().close()
    except Exception as exc:
        message = f"PostgreSQL at {PG_SERVER} is not reachable: {exc}".splitlines()[0]
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


class PgDatabases:
    """Creates databases on the test server and drops them at the end of the run."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def create(self, password: str | None = None) -> str:
        name = f"hpo_test_{secrets.token_hex(6)}"
        pg_admin(f'CREATE DATABASE "{name}"')
        self.names.append(name)
        return db_url(name, password)

    def drop_all(self) -> None:
        for name in self.names:
            pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_databases(pg_server: None) -> Iterator[PgDatabases]:
    dbs = PgDatabases()
    yield dbs
    dbs.drop_all()


@pytest.fixture
def pg_url(pg_databases: PgDatabases) -> str:
    """A new, empty PostgreSQL database for one test."""
    return pg_databases.create()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'hpo.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on every storage backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hpo.db'}"
    dbs: PgDatabases = request.getfixturevalue("pg_databases")
    return dbs.create()


@pytest.fixture(scope="session")
def cifar_subset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200 training and 50 test images per class of the real CIFAR-10 JPEG copy."""
    return extract_cifar_subset(tmp_path_factory.mktemp("cifar10-jpeg"), 200, 50)


@pytest.fixture(autouse=True)
def _isolated_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Decoded-image caches and trials' directories go to this test run, never to ~/.cache."""
    monkeypatch.setenv("HPO_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "hpo-cache"))
