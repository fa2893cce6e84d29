"""compare --out and report --out: a path that is no folder, or cannot be one, is one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import assert_one_line_error, hpo_create_study, run_hpo, write_module


@pytest.fixture
def study(tmp_path: Path, sqlite_url: str) -> str:
    write_module(tmp_path, "lin", "def run(params):\n    return params['x']\n")
    config = {
        "config": {"experimentName": "out", "maxTrialNum": 3, "model": "lin", "seed": 1},
        "search_space": {"x": {"_type": "uniform", "_value": [0, 1]}},
    }
    hpo_create_study(tmp_path, config, sqlite_url)
    ran = run_hpo("worker", "--study", "out", storage=sqlite_url, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    return "out"


@pytest.mark.parametrize("command", ["compare", "report"])
def test_out_naming_a_file_is_one_line_exit_2(
    command: str, study: str, tmp_path: Path, sqlite_url: str
) -> None:
    taken = tmp_path / "taken"
    taken.write_text("keep me")
    result = run_hpo(command, study, "--out", str(taken), storage=sqlite_url, cwd=tmp_path)
    assert_one_line_error(result, 2, f"--out {taken}: is a file, not a folder")
    assert taken.read_text() == "keep me"


@pytest.mark.parametrize("command", ["compare", "report"])
def test_out_where_no_folder_can_be_made_is_one_line_exit_1(
    command: str, study: str, tmp_path: Path, sqlite_url: str
) -> None:
    result = run_hpo(command, study, "--out", "/proc/x", storage=sqlite_url, cwd=tmp_path)
    assert_one_line_error(result, 1, "--out /proc/x: cannot write /proc/x")


def test_report_writes_into_a_folder_that_exists(
    study: str, tmp_path: Path, sqlite_url: str
) -> None:
    (tmp_path / "rep").mkdir()
    result = run_hpo("report", study, "--out", "rep", storage=sqlite_url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "rep" / "report.html").exists()
