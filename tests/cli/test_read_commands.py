"""Commands that read studies create no storage (no SQLite file, no Optuna tables), say
where they looked in one line, and take only names that are text; commands that create
studies refuse a database that is gone when they exit."""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import assert_one_line_error, hpo_cli, write_json


def assert_only_one_line(
    result: subprocess.CompletedProcess[str], code: int, *needles: str
) -> None:
    """One ``error:`` line and nothing else on stderr."""
    assert_one_line_error(result, code, *needles)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.fixture
def busy_port() -> Iterator[tuple[str, int]]:
    """A port something else listens on: a dashboard or proxy started there never serves."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield "127.0.0.1", other.getsockname()[1]


# -- storages with no studies: commands that read never create one ----------------------------

#: Every command that only reads studies or changes existing ones. None may create a SQLite
#: file or Optuna's tables where it looks (status created both, then said "no studies").
READING_COMMANDS = {
    "status": ["status"],
    "trials": ["trials", "x"],
    "best": ["best", "x"],
    "compare": ["compare", "x"],
    "importance": ["importance", "x"],
    "report": ["report", "x", "--out", "report"],
    "dashboard": ["dashboard"],  # on a busy port: it never serves, before or after the fix
    "stop": ["stop", "x"],
    "resume": ["resume", "x"],
    "set-budget": ["set-budget", "x", "--max-trials", "3"],
    "delete-study": ["delete-study", "x", "--yes"],
    "worker": ["worker", "--study", "x"],
}


@pytest.fixture(params=["missing-file", "in-memory", "postgresql-without-tables"])
def studyless(
    request: pytest.FixtureRequest, tmp_path: Path
) -> tuple[str, str, Callable[[], bool]]:
    """(URL, the URL as hpo prints it, whether anything was created there)."""
    if request.param == "missing-file":
        url = f"sqlite:///{tmp_path / 'typo.db'}"
        return url, url, lambda: any(tmp_path.iterdir())
    if request.param == "in-memory":
        return "sqlite:///:memory:", "sqlite:///:memory:", lambda: False
    request.getfixturevalue("pg_server")
    url = request.getfixturevalue("pg_databases").create(password="s3cret")
    return url, url.replace(":s3cret@", ":***@"), lambda: bool(_pg_tables(url))


def _pg_tables(url: str) -> list[str]:
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    try:
        return sqlalchemy.inspect(engine).get_table_names()
    finally:
        engine.dispose()


@pytest.mark.parametrize("args", READING_COMMANDS.values(), ids=READING_COMMANDS)
def test_a_command_that_reads_creates_no_storage(
    studyless: tuple[str, str, Callable[[], bool]],
    busy_port: tuple[str, int],
    tmp_path: Path,
    args: list[str],
) -> None:
    url, shown, created = studyless
    if args[0] == "dashboard":
        args = [*args, "--port", str(busy_port[1])]
    result = hpo_cli(*args, storage=url, cwd=tmp_path)
    if args == ["status"]:
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"no studies in {shown} ("), result.stdout
        listed = hpo_cli("status", "--json", storage=url, cwd=tmp_path)
        assert (listed.returncode, json.loads(listed.stdout)) == (0, []), listed.stderr
    else:
        assert_only_one_line(result, 1, f"no studies in {shown} (")
    assert "s3cret" not in result.stdout + result.stderr
    assert not created()


@pytest.mark.parametrize(
    "args",
    [["best", "a\udcff"], ["trials", "a\udcff"], ["worker", "--study", "a\udcff"]],
    ids=["best", "trials", "worker"],
)
def test_a_study_name_that_is_not_utf8_is_one_line(sqlite_url: str, args: list[str]) -> None:
    """A name of bytes that are not UTF-8 reached the database driver: UnicodeEncodeError."""
    assert_only_one_line(hpo_cli(*args, storage=sqlite_url), 2, "is not UTF-8 text")


@pytest.mark.parametrize("url", ["sqlite:///:memory:", "sqlite://", "sqlite:///"])
@pytest.mark.parametrize("command", ["create-study", "run", "serve-storage"])
def test_no_study_is_created_where_it_is_gone_when_the_command_exits(
    tmp_path: Path, busy_port: tuple[str, int], url: str, command: str
) -> None:
    """sqlite:///:memory: said "created", and the study was gone."""
    write_json(tmp_path / "space.json", {"x": {"_type": "uniform", "_value": [0, 1]}})
    study = ["--space", "space.json", "--objective", "math:sqrt", "--max-trials", "1"]
    args = {
        "create-study": ["create-study", *study],
        "run": ["run", *study],
        # A busy port: it never serves (before, it failed on the port only after opening).
        "serve-storage": ["serve-storage", "--port", str(busy_port[1])],
    }[command]
    result = hpo_cli(*args, storage=url, cwd=tmp_path)
    assert_only_one_line(result, 2, f"storage {url} is an in-memory database")
