"""A worker runs only the study code it was allowed to (``--allow-code``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hpo.errors import InvalidInputError
from hpo.objectives import ObjectiveSpec, command_objective
from hpo.objectives.allowed import check_allowed
from tests.helpers import assert_one_line_error, run_hpo, trials, write_module

SPACE = {"x": {"_type": "uniform", "_value": [0, 1]}}


@pytest.fixture
def study(tmp_path: Path, sqlite_url: str) -> Path:
    code = tmp_path / "code"
    code.mkdir()
    write_module(code, "quick", "def run(params):\n    return params['x']\n")
    config = {"config": {"experimentName": "guarded", "maxTrialNum": 2, "model": "quick"}}
    (code / "space.json").write_text(json.dumps({**config, "search_space": SPACE}))
    created = run_hpo("create-study", "--space", "space.json", storage=sqlite_url, cwd=code)
    assert created.returncode == 0, created.stderr
    return code


def test_code_outside_the_allowed_directories_is_refused_before_it_runs(
    study: Path, tmp_path: Path, sqlite_url: str
) -> None:
    elsewhere = tmp_path / "vetted"
    elsewhere.mkdir()
    refused = run_hpo(
        "worker", "--study", "guarded", "--allow-code", str(elsewhere), storage=sqlite_url
    )
    assert_one_line_error(refused, 2, f"runs code from {study}", "outside the directories")
    assert trials(sqlite_url, "guarded") == []  # nothing imported, nothing run
    allowed = run_hpo(
        "worker", "--study", "guarded", "--allow-code", str(tmp_path), storage=sqlite_url
    )
    assert allowed.returncode == 0, allowed.stderr
    assert len(trials(sqlite_url, "guarded")) == 2


def test_commands_and_the_built_in_objective(tmp_path: Path) -> None:
    allowed = [tmp_path / "vetted"]
    for directory in (tmp_path / "vetted" / "a", tmp_path / "other"):
        directory.mkdir(parents=True)
        (directory / "t.py").write_text("print('@hpo final 1')\n")
    check_allowed(ObjectiveSpec(), allowed)  # hpo's own training: always
    check_allowed(command_objective("python3 t.py", str(tmp_path / "vetted" / "a")), allowed)
    with pytest.raises(InvalidInputError, match="command runs code from"):
        check_allowed(command_objective("python3 t.py", str(tmp_path / "other")), allowed)
    check_allowed(command_objective("python3 t.py", "/anywhere"), None)  # no list: any


def test_a_command_in_an_allowed_directory_running_code_from_elsewhere_is_refused(
    tmp_path: Path, sqlite_url: str
) -> None:
    vetted, elsewhere = tmp_path / "vetted", tmp_path / "elsewhere"
    vetted.mkdir()
    elsewhere.mkdir()
    write_module(elsewhere, "payload", "open('ran', 'w').close()\nprint('@hpo final 1')\n")
    config = {
        "config": {
            "experimentName": "walked",
            "maxTrialNum": 1,
            "objective": {"command": f"python3 {elsewhere / 'payload.py'}"},
        },
        "search_space": SPACE,
    }
    (vetted / "space.json").write_text(json.dumps(config))
    created = run_hpo("create-study", "--space", "space.json", storage=sqlite_url, cwd=vetted)
    assert created.returncode == 0, created.stderr
    refused = run_hpo(
        "worker", "--study", "walked", "--allow-code", str(vetted), storage=sqlite_url, cwd=vetted
    )
    assert_one_line_error(refused, 2, f"runs python3 on {elsewhere / 'payload.py'}")
    assert trials(sqlite_url, "walked") == [] and not (vetted / "ran").exists()
