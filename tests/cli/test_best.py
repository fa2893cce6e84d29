"""hpo best: the best trial as JSON, and back as a Dr.Opt config that starts from it."""

from __future__ import annotations

import json
from pathlib import Path

import optuna

from tests.helpers import SEARCH_SPACES, assert_one_line_error, run_hpo, write_json, write_module

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


def test_best_shows_the_numbers_users_report(tmp_path: Path, sqlite_url: str) -> None:
    write_module(
        tmp_path,
        "scored",
        """
        def run(params):
            return {"default": params["x"], "test_acc": 0.875, "num_params": 1234.0,
                    "epochs": 3.0, "best_epoch": 2.0}
        """,
    )
    config = {
        "config": {"experimentName": "n", "maxTrialNum": 3, "model": "scored", "seed": 2},
        "search_space": SPACE,
    }
    write_json(tmp_path / "s.json", config)
    assert run_hpo("run", "--space", "s.json", storage=sqlite_url, cwd=tmp_path).returncode == 0
    result = run_hpo("best", "n", storage=sqlite_url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    best = json.loads(result.stdout)
    stored = optuna.load_study(study_name="n", storage=sqlite_url).best_trial
    assert best["trial"] == stored.number
    assert best["test_acc"] == 0.875 and best["best_epoch"] == 2
    assert best["num_params"] == 1234 and best["epochs"] == 3
    assert stored.datetime_complete is not None and stored.datetime_start is not None
    seconds = (stored.datetime_complete - stored.datetime_start).total_seconds()
    assert best["seconds"] == seconds


def test_best_of_a_trained_model_has_its_test_accuracy(tmp_path: Path, sqlite_url: str) -> None:
    # The built-in training objective, two epochs of the quick start's CNN on digits.
    space = json.loads((SEARCH_SPACES / "digits_cnn.json").read_text())
    space["config"].update(maxTrialNum=1, experimentName="trained")
    space["params"]["num_epochs"] = 2
    write_json(tmp_path / "s.json", space)
    ran = run_hpo("run", "--space", "s.json", storage=sqlite_url, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    best = json.loads(run_hpo("best", "trained", storage=sqlite_url, cwd=tmp_path).stdout)
    [trial] = optuna.load_study(study_name="trained", storage=sqlite_url).trials
    metrics = trial.user_attrs["hpo:metrics"]
    assert 0.0 < best["test_acc"] == metrics["test_acc"] <= 1.0
    assert best["num_params"] == int(metrics["num_params"]) > 1000
    assert best["epochs"] == 2 and best["best_epoch"] in (1, 2)
    assert best["seconds"] > 0
    # The report's best trial says the same.
    made = run_hpo("report", "trained", "--out", "rep", storage=sqlite_url, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    page = (tmp_path / "rep" / "report.html").read_text()
    assert f"test accuracy {best['test_acc']:.4f} (model of epoch {best['best_epoch']})" in page
    assert f"{best['num_params']:,} parameters, 2 epochs" in page
    assert "<h3>search space</h3>" in page and "<h3>top 1 of 1 complete</h3>" in page
