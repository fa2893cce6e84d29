"""hpo best: the best trial as JSON, and back as a Dr.Opt config that starts from it."""

from __future__ import annotations

import json
from pathlib import Path

import optuna

from tests.helpers import assert_one_line_error, run_hpo, write_json, write_module

SPACE = {
    "x": {"_type": "uniform", "_value": [0, 1]},
    "k": {"_type": "choice", "_value": [1, 2, 3]},
}


def test_best_as_dropt_round_trips(tmp_path: Path, sqlite_url: str) -> None:
    write_module(tmp_path, "quad", "def run(params):\n    return -(params['x'] - 0.3) ** 2\n")
    config = {
        "config": {"experimentName": "b", "maxTrialNum": 6, "model": "quad", "seed": 4},
        "params": {"fixed": 7},
        "search_space": SPACE,
    }
    write_json(tmp_path / "s.json", config)
    assert run_hpo("run", "--space", "s.json", storage=sqlite_url, cwd=tmp_path).returncode == 0
    best = json.loads(run_hpo("best", "b", storage=sqlite_url, cwd=tmp_path).stdout)

    exported = run_hpo("best", "b", "--format", "dropt", storage=sqlite_url, cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    dropt = json.loads(exported.stdout)
    assert dropt["params"] == best["params"] and dropt["params"]["fixed"] == 7
    assert dropt["search_space"] == SPACE
    assert dropt["config"]["maxTrialNum"] == 6 and dropt["config"]["seed"] == 4
    (tmp_path / "best.json").write_text(exported.stdout)

    # Read back unchanged: the new study's baseline (first) trial is the best trial's params.
    again = run_hpo(
        "create-study", "--space", "best.json", "--name", "again", storage=sqlite_url, cwd=tmp_path
    )
    assert again.returncode == 0, again.stderr
    assert (
        run_hpo(
            "worker", "--study", "again", "--n-trials", "1", storage=sqlite_url, cwd=tmp_path
        ).returncode
        == 0
    )
    [first] = optuna.load_study(study_name="again", storage=sqlite_url).trials
    assert first.params["x"] == best["params"]["x"]
    assert first.value == best["values"]["default"]


def test_unknown_format_is_one_line(tmp_path: Path, sqlite_url: str) -> None:
    write_module(tmp_path, "quad", "def run(params):\n    return params['x']\n")
    write_json(
        tmp_path / "s.json",
        {
            "config": {"experimentName": "f", "maxTrialNum": 1, "model": "quad"},
            "search_space": SPACE,
        },
    )
    assert run_hpo("run", "--space", "s.json", storage=sqlite_url, cwd=tmp_path).returncode == 0
    result = run_hpo("best", "f", "--format", "yaml", storage=sqlite_url, cwd=tmp_path)
    assert_one_line_error(result, 2, "--format", "'yaml' is not one of 'json', 'dropt'")
