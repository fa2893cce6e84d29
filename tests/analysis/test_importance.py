"""hpo importance on objectives whose importances are known by construction."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest
from optuna.trial import TrialState

from tests.helpers import assert_one_line_error, hpo_create_study, run_hpo, trials, write_module

# f = 2x + y + 0·z with x, y, z uniform on [0, 1]: x carries 4/5 of the variance, y 1/5, z none.
LINEAR = """
def run(params):
    return 2.0 * params["x"] + params["y"] + 0.0 * params["z"]
"""
SPACE = {name: {"_type": "uniform", "_value": [0, 1]} for name in ("x", "y", "z")}


def _group(tmp_path: Path, url: str, space: Mapping[str, object], trials: int) -> None:
    write_module(tmp_path, "linear", LINEAR)
    config = {
        "config": {"experimentName": "imp", "maxTrialNum": trials, "model": "linear", "seed": 1},
        "search_space": space,
    }
    hpo_create_study(tmp_path, config, url, "--sampler", "random,tpe")
    ran = run_hpo("worker", "--group", "imp", storage=url, cwd=tmp_path, timeout=600)
    assert ran.returncode == 0, ran.stderr


def test_the_dominant_parameter_ranks_first_under_random_sampling(
    tmp_path: Path, sqlite_url: str
) -> None:
    _group(tmp_path, sqlite_url, SPACE, trials=80)
    result = run_hpo("importance", "imp", "--json", storage=sqlite_url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    by_tuner = {r["sampler"]: r for r in json.loads(result.stdout)}
    random = by_tuner["random"]
    assert random["trials"] == 80
    assert random["top"] == {"ped_anova": "x", "fanova": "x"}
    params = {p["param"]: p for p in random["params"]}
    # fANOVA's share for x near its 0.8 by construction; z, which does nothing, near 0.
    assert 0.6 < params["x"]["fanova"]["value"] < 0.95
    assert params["z"]["fanova"]["value"] < 0.1
    for method in ("ped_anova", "fanova"):
        assert all(p[method]["low"] <= p[method]["high"] for p in params.values())
        # The intervals separate the parameter that matters from the one that does nothing.
        assert params["x"][method]["low"] > params["z"][method]["high"]
    assert not any("concentrated" in f or "biased" in f for f in random["flags"])
    # TPE's importances describe where it searched: always flagged, never called reliable.
    tpe = by_tuner["tpe"]
    assert any("biased" in f or "concentrated" in f for f in tpe["flags"])

    text = run_hpo("importance", "imp", storage=sqlite_url, cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert "most important parameter per tuner:" in text.stdout
    table = text.stdout.split("most important parameter per tuner:")[1].splitlines()
    random_row = next(line for line in table if line.startswith("random"))
    tpe_row = next(line for line in table if line.startswith("tpe"))
    assert random_row.split()[2] == "x" and random_row.rstrip().endswith("yes")
    assert "no:" in tpe_row
    disagree = "the tuners disagree on the most important parameter"
    assert (disagree in text.stdout) == (tpe["top"]["ped_anova"] != "x")

    # The report: the same tables and notes, every figure inside the one file.
    made = run_hpo("report", "imp", "--out", "rep", storage=sqlite_url, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    page = (tmp_path / "rep" / "report.html").read_text()
    assert page.count("plotly.js v") == 1  # plotly.js inlined, once
    assert "<script src=" not in page  # nothing to fetch: opens offline
    for needle in (
        "Comparison",
        "Parameter importance",
        "most important parameter per tuner",
        "imp-random (random)",
        "imp-tpe (tpe)",
        "hpo best imp-random --format dropt",
    ):
        assert needle in page, needle
    assert (disagree in page) == (tpe["top"]["ped_anova"] != "x")
    assert "src='data:image/png;base64," in page or 'src="data:image/png;base64,' in page
    assert sorted(p.name for p in (tmp_path / "rep").iterdir()) == ["report.html"]


def test_conditional_parameters_are_assessed(tmp_path: Path, sqlite_url: str) -> None:
    space = {
        **SPACE,
        "optimizer": {
            "_type": "choice",
            "_value": [
                {"_name": "sgd", "momentum": {"_type": "uniform", "_value": [0, 0.99]}},
                {"_name": "adam", "beta1": {"_type": "uniform", "_value": [0.8, 0.99]}},
            ],
        },
    }
    _group(tmp_path, sqlite_url, space, trials=40)
    result = run_hpo("importance", "imp-random", "--json", storage=sqlite_url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    [only] = json.loads(result.stdout)
    params = {p["param"]: p for p in only["params"]}
    conditional = [name for name in params if "momentum" in name or "beta1" in name]
    assert len(conditional) == 2, params
    for name in conditional:
        assert params[name]["ped_anova"] is not None
        assert params[name]["within_branch"] or params[name]["fanova"] is None
    assert params["x"]["fanova"] is not None and not params["x"]["within_branch"]


def test_too_few_trials_is_one_line(tmp_path: Path, sqlite_url: str) -> None:
    _group(tmp_path, sqlite_url, SPACE, trials=3)
    result = run_hpo("importance", "imp-random", storage=sqlite_url, cwd=tmp_path)
    assert_one_line_error(result, 1, "has 3 complete trials; importance needs at least 8")


@pytest.mark.parametrize("bootstrap", ["0"])
def test_no_bootstrap_gives_point_estimates(
    tmp_path: Path, sqlite_url: str, bootstrap: str
) -> None:
    _group(tmp_path, sqlite_url, SPACE, trials=20)
    result = run_hpo(
        "importance", "imp-random", "--bootstrap", bootstrap, "--json",
        storage=sqlite_url, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [only] = json.loads(result.stdout)
    for p in only["params"]:
        assert p["ped_anova"]["low"] is None and p["ped_anova"]["high"] is None
    assert "no intervals: 0 half-samples asked" in only["notes"][0]


# Like the quick start: a learning curve per trial, ASHA pruning most trials early.
CURVES = """
def run(params, report):
    final = 2.0 * params["x"] + params["y"] + 0.0 * params["z"]
    for epoch in range(1, 13):
        report(final * epoch / 12, epoch)
    return final
"""


def test_a_pruned_study_gets_importance_at_a_named_epoch(tmp_path: Path, sqlite_url: str) -> None:
    write_module(tmp_path, "curves", CURVES)
    config = {
        "config": {
            "experimentName": "pruned",
            "maxTrialNum": 20,
            "model": "curves",
            "seed": 5,
            "sampler": "random",
            "pruner": {"name": "asha", "min_resource": 3},
        },
        "search_space": SPACE,
    }
    hpo_create_study(tmp_path, config, sqlite_url)
    ran = run_hpo("worker", "--study", "pruned", storage=sqlite_url, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    stored = trials(sqlite_url, "pruned")
    complete = sum(t.state == TrialState.COMPLETE for t in stored)
    assert complete < 8 <= sum(t.state == TrialState.PRUNED for t in stored)  # as the quick start

    result = run_hpo("importance", "pruned", "--json", storage=sqlite_url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    [only] = json.loads(result.stdout)
    epoch = only["epoch"]
    reached = [t for t in stored if epoch in t.intermediate_values]
    assert only["trials"] == len(reached) >= 8 and only["complete"] == complete
    # The deepest such epoch: fewer than 8 trials went further.
    assert sum(epoch + 1 in t.intermediate_values for t in stored) < 8
    assert f"at epoch {epoch}" in only["target"]
    assert {p["param"] for p in only["params"]} == {"x", "y", "z"}
    text = run_hpo("importance", "pruned", storage=sqlite_url, cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    metric = only["metric"]
    assert f"importance for {metric} at epoch {epoch}, the deepest epoch that" in text.stdout
    assert "optuna-dashboard's chart uses another method" in text.stdout
