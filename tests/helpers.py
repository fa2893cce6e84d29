"""What the tests share: the real ``hpo`` command, study set-up, waiting, data, PostgreSQL.

Fixtures live in ``conftest.py``; everything a test calls lives here, once.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tarfile
import textwrap
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import optuna
import pytest

ROOT = Path(__file__).resolve().parent.parent
SEARCH_SPACES = ROOT / "search_spaces"
DATA = Path(__file__).resolve().parent / "data"
PG_SERVER = os.environ.get("HPO_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")

# -- the hpo command ------------------------------------------------------------------------------


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


def hpo_cli(
    *args: str, storage: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """The hpo command run in this process (Typer's CliRunner), for what needs no real process:
    the same app, error boundary and output as ``run_hpo``, in milliseconds rather than
    seconds. An exception that escapes the error boundary fails the test."""
    from typer.testing import CliRunner

    from hpo.cli import app

    loggers = [logging.getLogger(name) for name in ("hpo", "training", "optuna")]
    saved = [(log.handlers[:], log.level, log.propagate) for log in loggers]
    try:
        with contextlib.chdir(cwd or Path.cwd()):
            result = CliRunner().invoke(
                app, list(args), env={"HPO_STORAGE": storage}, catch_exceptions=False
            )
    finally:
        # The command logged to the runner's streams, which are closed now.
        for log, (handlers, level, propagate) in zip(loggers, saved, strict=True):
            log.handlers[:], log.level, log.propagate = handlers, level, propagate
    return subprocess.CompletedProcess(
        ["hpo", *args], result.exit_code, result.stdout, result.stderr
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


@contextlib.contextmanager
def serve_storage(database_url: str) -> Iterator[str]:
    """``hpo serve-storage`` in front of the database, for as long as the block runs: its
    ``grpc://`` URL."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "hpo", "serve-storage", "--host", "127.0.0.1", "--port", str(port)],
        env=hpo_env(database_url),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield f"grpc://127.0.0.1:{port}"
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


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


# -- studies --------------------------------------------------------------------------------------


def write_module(directory: Path, name: str, source: str) -> Path:
    path = directory / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    return path


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, indent=2))
    return path


def hpo_create_study(
    directory: Path,
    config: dict[str, Any],
    storage: str,
    *options: str,
    file: str = "space.json",
) -> subprocess.CompletedProcess[str]:
    """Write a config into ``directory`` and create its study there, as a user would with
    ``hpo create-study``; fails the test (with hpo's stderr) if that fails."""
    write_json(directory / file, config)
    created = run_hpo("create-study", "--space", file, *options, storage=storage, cwd=directory)
    assert created.returncode == 0, created.stderr
    return created


def trials(storage: str, name: str) -> list[optuna.trial.FrozenTrial]:
    """A study's trials, read with plain Optuna, its connection closed after (tests poll
    this: an engine per call would hold PostgreSQL's connections until garbage collection,
    and the server refuses clients past its 100)."""
    from hpo.optuna_compat import storage_backend

    store = optuna.storages.get_storage(storage)
    try:
        return optuna.load_study(study_name=name, storage=store).trials
    finally:
        engine = getattr(storage_backend(store), "engine", None)
        if engine is not None:
            engine.dispose()


def counted(all_trials: list[optuna.trial.FrozenTrial]) -> list[optuna.trial.FrozenTrial]:
    """The trials the budget counts: every trial a retry did not replace."""
    replaced = {
        t.system_attrs["retry_history"][-1]
        for t in all_trials
        if t.system_attrs.get("retry_history")
    }
    return [t for t in all_trials if t.number not in replaced]


def wait_for(predicate: Callable[[], object], timeout: float, what: str) -> None:
    """Poll ``predicate`` until it holds: tests wait for conditions, never for fixed times."""
    deadline = time.time() + timeout
    while not predicate():
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


# -- network --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get_json(url: str, timeout: float = 30) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


# -- PostgreSQL -----------------------------------------------------------------------------------


def admin_connection() -> Any:
    """An autocommit connection to the test server's maintenance database."""
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


def pg_admin(sql: str) -> None:
    """Run one statement on the test server (a connection of its own: it may restart)."""
    conn = admin_connection()
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


def db_url(name: str, password: str | None = None) -> str:
    """The URL of database ``name`` on the test server."""
    from sqlalchemy.engine import make_url

    url = make_url(PG_SERVER).set(database=name)
    if password is not None:
        url = url.set(password=password)
    return url.render_as_string(hide_password=False)


# -- data sets for training tests -----------------------------------------------------------------

SHARED_DATA = Path(os.environ.get("HPO_SHARED_DATA", ROOT.parent / "shared" / "data"))
CIFAR_JPEG_TAR = SHARED_DATA / "cifar10-jpeg.tar.gz"


def extract_cifar_subset(dest: Path, train_per_class: int, test_per_class: int) -> Path:
    """The first N images per class of the CIFAR-10 JPEG copy, as class folders."""
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
