"""Shared fixtures: a fresh PostgreSQL database per test run, storages, the hpo CLI.

PostgreSQL is the real server named by ``HPO_TEST_PG`` (default: the local server with trust
auth). The database is created for the run and dropped after it. Without a reachable server
the PostgreSQL tests fail under CI (``CI=true``) and are skipped elsewhere, with the reason.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

PG_SERVER = os.environ.get("HPO_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
ROOT = Path(__file__).resolve().parent.parent
SEARCH_SPACES = ROOT / "search_spaces"


def _admin_connection() -> Any:
    import psycopg2
    from sqlalchemy.engine import make_url

    url = make_url(PG_SERVER)
    conn = psycopg2.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        dbname=url.database or "postgres",
        connect_timeout=5,
    )
    conn.autocommit = True
    return conn


def _db_url(name: str, password: str | None = None) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(PG_SERVER).set(database=name)
    if password is not None:
        url = url.set(password=password)
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_server() -> None:
    try:
        _admin_connection().close()
    except Exception as exc:
        message = f"PostgreSQL at {PG_SERVER} is not reachable: {exc}".splitlines()[0]
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


class PgDatabases:
    """Creates databases on the test server and drops them at the end of the run.

    A connection per operation: a test may restart the server in between.
    """

    def __init__(self) -> None:
        self.names: list[str] = []

    def _execute(self, sql: str) -> None:
        conn = _admin_connection()
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
        finally:
            conn.close()

    def create(self, password: str | None = None) -> str:
        name = f"hpo_test_{secrets.token_hex(6)}"
        self._execute(f'CREATE DATABASE "{name}"')
        self.names.append(name)
        return _db_url(name, password)

    def drop_all(self) -> None:
        for name in self.names:
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def hpo_env(storage: str | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "HPO_STORAGE"}
    env["PYTHONUNBUFFERED"] = "1"
    if storage is not None:
        env["HPO_STORAGE"] = storage
    env.update(extra)
    return env


def run_hpo(
    *args: str,
    storage: str | None = None,
    cwd: Path | None = None,
    timeout: float = 300,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the real ``hpo`` command in a subprocess (storage passed through HPO_STORAGE)."""
    return subprocess.run(
        [sys.executable, "-m", "hpo", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env or hpo_env(storage),
        timeout=timeout,
    )


def start_hpo(*args: str, storage: str, cwd: Path | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "hpo", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env=hpo_env(storage),
    )


def write_module(directory: Path, name: str, source: str) -> Path:
    path = directory / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    return path


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, indent=2))
    return path


def assert_one_line_error(
    result: subprocess.CompletedProcess[str], code: int, *needles: str
) -> None:
    """A user-facing failure: the exit code, one ``error:`` line naming what, no traceback."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    for needle in needles:
        assert needle in errors[0], (needle, errors[0])


# --------------------------------------------------------------------------------------------
# Data sets for training tests
# --------------------------------------------------------------------------------------------

SHARED_DATA = Path(os.environ.get("HPO_SHARED_DATA", ROOT.parent / "shared" / "data"))
CIFAR_JPEG_TAR = SHARED_DATA / "cifar10-jpeg.tar.gz"


def extract_cifar_subset(dest: Path, train_per_class: int, test_per_class: int) -> Path:
    """The first N images per class of the CIFAR-10 JPEG copy, as class folders."""
    import tarfile

    if not CIFAR_JPEG_TAR.exists():
        message = f"the CIFAR-10 JPEG copy is not at {CIFAR_JPEG_TAR} (set HPO_SHARED_DATA)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    wanted = {"train": train_per_class, "test": test_per_class}
    taken: dict[tuple[str, str], int] = {}
    with tarfile.open(CIFAR_JPEG_TAR, "r:gz") as tar:
        for member in tar:
            parts = Path(member.name).parts
            if not member.isfile() or len(parts) < 4 or parts[-3] not in wanted:
                continue
            split, label = parts[-3], parts[-2]
            if taken.get((split, label), 0) >= wanted[split]:
                continue
            taken[(split, label)] = taken.get((split, label), 0) + 1
            target = dest / split / label / parts[-1]
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            assert source is not None
            target.write_bytes(source.read())
    return dest


@pytest.fixture(scope="session")
def cifar_subset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200 training and 50 test images per class of the real CIFAR-10 JPEG copy."""
    return extract_cifar_subset(tmp_path_factory.mktemp("cifar10-jpeg"), 200, 50)


@pytest.fixture(autouse=True)
def _isolated_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Decoded-image caches go to a directory of this test run, never to ~/.cache."""
    monkeypatch.setenv("HPO_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "hpo-cache"))


def write_jpeg(path: Path, size: tuple[int, int], colour: int) -> None:
    """A small two-tone JPEG (the colour differs per class, so there is something to learn)."""
    import numpy as np
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    array = np.full((size[1], size[0], 3), colour % 256, dtype=np.uint8)
    array[: size[1] // 2, :, 0] = 255 - colour % 256
    Image.fromarray(array).save(path, quality=95)


def make_food11_tree(root: Path, per_class: int = 2) -> Path:
    """A tiny Food-11 data set in its official layout (<class>_<n>.jpg in three folders)."""
    for split in ("training", "validation", "evaluation"):
        for label in range(11):
            for n in range(per_class):
                write_jpeg(
                    root / split / f"{label}_{n}.jpg", (120 + 9 * label, 90 + 5 * n), 23 * label
                )
    return root
