"""Running a study's edited file again: a changed budget is applied by ``hpo run`` and
reported, with the command that applies it, by ``create-study --exist-ok``; a changed
experiment is still refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.helpers import assert_one_line_error, run_hpo, trials, write_json, write_module


def _config(max_trials: int, duration: str | None = None) -> dict[str, Any]:
    config: dict[str, Any] = {
        "experimentName": "edited",
        "model": "quick",
        "maxTrialNum": max_trials,
    }
    if duration is not None:
        config["maxExecDuration"] = duration
    return {"config": config, "search_space": {"x": {"_type": "uniform", "_value": [0, 1]}}}


def _stored_budget(storage: str) -> tuple[Any, Any]:
    status = run_hpo("status", "--json", storage=storage)
    assert status.returncode == 0, status.stderr
    [study] = json.loads(status.stdout)
    return study["max_trials"], study["max_duration_s"]


def test_a_rerun_applies_a_changed_budget_and_create_study_reports_it(
    tmp_path: Path, sqlite_url: str
) -> None:
    write_module(tmp_path, "quick", "def run(params):\n    return params['x']\n")
    write_json(tmp_path / "space.json", _config(2))
    first = run_hpo("run", "--space", "space.json", storage=sqlite_url, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert len(trials(sqlite_url, "edited")) == 2

    # maxTrialNum 2 -> 3 and a time budget: create-study keeps the stored one, and says how.
    write_json(tmp_path / "space.json", _config(3, "2h"))
    kept = run_hpo(
        "create-study", "--space", "space.json", "--exist-ok", storage=sqlite_url, cwd=tmp_path
    )
    assert kept.returncode == 0, kept.stderr
    assert "keeps its stored budget; the file asks 3 trials / 2h (stored: 2 trials)" in kept.stderr
    assert "hpo set-budget edited --max-trials 3 --max-duration 2h" in kept.stderr
    assert _stored_budget(sqlite_url) == (2, None)

    # hpo run applies it, and runs the trial it adds.
    rerun = run_hpo("run", "--space", "space.json", storage=sqlite_url, cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    assert "budget changed as the file says: 3 trials / 2h (was 2 trials)" in rerun.stderr
    assert _stored_budget(sqlite_url) == (3, 7200.0)
    assert len(trials(sqlite_url, "edited")) == 3

    # The same file again: nothing to change, nothing said.
    again = run_hpo("run", "--space", "space.json", storage=sqlite_url, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "budget changed" not in again.stderr and "keeps its stored" not in again.stderr
    # A changed experiment is refused as before, and changes nothing.
    other = run_hpo(
        "run", "--space", "space.json", "--sampler", "random", storage=sqlite_url, cwd=tmp_path
    )
    assert_one_line_error(other, 2, "with a different sampler")
    assert _stored_budget(sqlite_url) == (3, 7200.0)
