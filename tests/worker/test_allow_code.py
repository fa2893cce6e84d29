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
    check_allowed(ObjectiveSpec(), allowed)  # hpo's own training: always
    check_allowed(command_objective("python3 t.py", str(tmp_path / "vetted" / "a")), allowed)
    with pytest.raises(InvalidInputError, match="command runs code from"):
        check_allowed(command_objective("python3 t.py", str(tmp_path / "other")), allowed)
    check_allowed(command_objective("python3 t.py", "/anywhere"), None)  # no list: any
