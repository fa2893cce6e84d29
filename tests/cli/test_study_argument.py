"""The study argument: one spelling for every command (``NAME`` or ``--study NAME``), study
names completed in the shell through the real command, and every "nothing found" naming the
storage it read, with nothing created to answer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import (
    assert_one_line_error,
    free_port,
    hpo_cli,
    hpo_env,
    run_hpo,
    write_json,
    write_module,
)


def complete(line: str, cwd: Path, storage: str | None) -> subprocess.CompletedProcess[str]:
    """What bash completion asks of ``hpo`` for the last word of ``line`` (click's protocol)."""
    words = line.split(" ")
    env = hpo_env(storage, _HPO_COMPLETE="complete_bash", COMP_WORDS=line)
    env["COMP_CWORD"] = str(len(words) - 1)
    # The installed command: the shell completes ``hpo``, whose name sets the variable.
    hpo = Path(sys.executable).parent / "hpo"
    return subprocess.run([hpo], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_study_names_complete_from_the_storage(tmp_path: Path, storage_url: str) -> None:
    write_module(tmp_path, "q", "def run(params):\n    return params['x']\n")
    config = {
        "config": {"model": "q", "maxTrialNum": 1},
        "search_space": {"x": {"_type": "uniform", "_value": [0, 1]}},
    }
    write_json(tmp_path / "space.json", config)
    for name in ("alpha", "alpine", "beta"):
        made = hpo_cli(
            "create-study",
            "--space",
            "space.json",
            "--name",
            name,
            storage=storage_url,
            cwd=tmp_path,
        )
        assert made.returncode == 0, made.stderr
    for line, expected in [
        ("hpo best al", ["alpha", "alpine"]),
        ("hpo worker --study b", ["beta"]),
        ("hpo trials alpha ", ["alpha", "alpine", "beta"]),
    ]:
        done = complete(line, tmp_path, storage_url)
        assert done.returncode == 0 and done.stderr == "", done.stderr
        assert done.stdout.split() == expected, (line, done.stdout)
    # --storage on the line wins over HPO_STORAGE.
    done = complete(f"hpo stop --storage {storage_url} b", tmp_path, "sqlite:///elsewhere.db")
    assert done.stdout.split() == ["beta"], done.stderr


def test_completion_without_studies_is_silent_and_creates_nothing(
    tmp_path: Path, pg_url: str
) -> None:
    unreachable = f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/nothing"
    for storage in (None, "sqlite:///other.db", pg_url, unreachable):
        done = complete("hpo best a", tmp_path, storage)
        assert (done.returncode, done.stdout.strip(), done.stderr) == (0, "", ""), storage
    assert os.listdir(tmp_path) == []  # no hpo.db, no other.db
    tables = run_hpo("status", storage=pg_url)  # the database got no tables either
    assert tables.stdout.strip().endswith("(the database has no Optuna tables)"), tables


def test_every_command_takes_the_study_as_argument_or_option(
    tmp_path: Path, sqlite_url: str
) -> None:
    write_module(tmp_path, "q", "def run(params):\n    return params['x']\n")
    config = {
        "config": {"model": "q", "maxTrialNum": 1},
        "search_space": {"x": {"_type": "uniform", "_value": [0, 1]}},
    }
    write_json(tmp_path / "space.json", config)
    hpo_cli(
        "create-study", "--space", "space.json", "--name", "alpha", storage=sqlite_url, cwd=tmp_path
    )
    where = f"in {sqlite_url}"
    for args in (("stop", "alpha"), ("stop", "--study", "alpha")):
        assert hpo_cli(*args, storage=sqlite_url).returncode == 0
    assert hpo_cli("resume", "--study", "alpha", storage=sqlite_url).returncode == 0
    assert hpo_cli("set-budget", "--study", "alpha", "--max-trials", "2", storage=sqlite_url)
    # Nothing found: each says where it looked.
    assert_one_line_error(
        hpo_cli("best", "--study", "alpha", storage=sqlite_url),
        1,
        f"no complete trial yet in study 'alpha' {where}",
    )
    assert_one_line_error(
        hpo_cli("logs", "--study", "alpha", "3", storage=sqlite_url),
        2,
        f"no trial 3 of study 'alpha' {where} (no trials yet)",
    )
    assert_one_line_error(
        hpo_cli("best", "alpah", storage=sqlite_url),
        1,
        f"no study named 'alpah' {where}; did you mean 'alpha'?",
    )
    assert_one_line_error(
        hpo_cli("compare", "--study", "nope", storage=sqlite_url), 1, f"'nope' {where}"
    )
    listed = hpo_cli("trials", "--study", "alpha", storage=sqlite_url)
    assert listed.stdout.strip() == f"no trials of alpha {where}", listed.stderr
    # Two different studies, or none: one line each.
    assert_one_line_error(
        hpo_cli("stop", "alpha", "--study", "beta", storage=sqlite_url), 2, "two studies given"
    )
    assert_one_line_error(hpo_cli("best", storage=sqlite_url), 2, "give the study's name")
    assert_one_line_error(hpo_cli("trials", storage=sqlite_url), 2, "at least one study")
