"""Trial results at the edge of what floats hold, and trials written into a study by other
means than its workers: compare, importance and report answer, or say in one line why not."""

from __future__ import annotations

from pathlib import Path

import optuna

from tests.helpers import (
    assert_one_line_error,
    hpo_cli,
    hpo_create_study,
    run_hpo,
    write_json,
    write_module,
)


def test_results_near_the_largest_float_are_analysed(tmp_path: Path) -> None:
    """Finite results of ±1e308: their sum overflowed in compare, fANOVA's variance in
    importance (an assertion in Optuna), the colour scale of Optuna's plots in report."""
    url = f"sqlite:///{tmp_path / 'hpo.db'}"
    write_module(
        tmp_path,
        "huge",
        "def run(params):\n    return [1e308, -1e308, 0.5][int(params['x'] * 3)]\n",
    )
    config = {
        "config": {"maxTrialNum": 12, "pruner": "none", "seed": 3, "objective": "huge:run"},
        "search_space": {"x": {"_type": "uniform", "_value": [0, 0.99]}},
    }
    hpo_create_study(tmp_path, config, url, "--name", "huge", "--sampler", "random")
    assert run_hpo("worker", "--study", "huge", storage=url, cwd=tmp_path).returncode == 0
    for args in (["compare", "huge"], ["importance", "huge", "--bootstrap", "3"]):
        result = run_hpo(*args, storage=url, cwd=tmp_path)
        assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    made = run_hpo("report", "huge", "--out", "rep", "--bootstrap", "3", storage=url, cwd=tmp_path)
    assert made.returncode == 0 and "Traceback" not in made.stderr, made.stderr
    assert "parallel coordinates not drawn" in (tmp_path / "rep" / "report.html").read_text()


def test_importance_of_trials_written_with_two_ranges_is_one_line(tmp_path: Path) -> None:
    """Trials written into a study by plain Optuna, one parameter with two ranges: Optuna's
    evaluators raised ValueError ("dynamic search spaces") through hpo importance."""
    from optuna.distributions import BaseDistribution, FloatDistribution
    from optuna.trial import create_trial

    url = f"sqlite:///{tmp_path / 'hpo.db'}"
    write_json(tmp_path / "space.json", {"x": {"_type": "uniform", "_value": [0, 1]}})
    args = ["create-study", "--space", "space.json", "--objective", "math:sqrt", "--name", "two"]
    assert hpo_cli(*args, storage=url, cwd=tmp_path).returncode == 0
    study = optuna.load_study(study_name="two", storage=url)
    for n in range(10):
        high = 5.0 if n == 9 else 1.0
        distributions: dict[str, BaseDistribution] = {"x": FloatDistribution(0, high)}
        study.add_trial(create_trial(params={"x": n / 10}, distributions=distributions, value=n))
    result = hpo_cli("importance", "two", storage=url, cwd=tmp_path)
    assert_one_line_error(result, 1, "importance cannot be estimated", "dynamic search spaces")
