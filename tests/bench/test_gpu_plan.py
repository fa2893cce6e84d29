"""The GPU check's plan and its speed-recipe step, without a GPU: the steps fit the budget,
and the speed recipe's seeds study runs one trial per seed of the space's baseline."""

from __future__ import annotations

import json
from pathlib import Path

import optuna

from bench.gpu.commands import Context
from bench.gpu.plan import (
    GOAL_SPEEDRUN_SEEDS,
    GPU,
    SMOKE,
    SPEEDRUN_SPACE,
    STEPS,
    plan_total,
)
from bench.gpu.records import Record, summary_rows
from bench.gpu.trials import speedrun_space
from tests.helpers import run_hpo


def test_every_step_has_a_limit_and_the_gpu_plan_fits_six_minutes() -> None:
    for profile in (GPU, SMOKE):
        assert set(profile.limits) == set(STEPS)
        assert plan_total(profile) <= profile.budget
    assert GPU.budget <= 360 and GPU.speedrun_seeds >= GOAL_SPEEDRUN_SEEDS


def test_the_speedrun_study_is_the_baseline_once_per_seed(tmp_path: Path) -> None:
    ctx = Context(GPU, tmp_path / "data", tmp_path, tmp_path)
    space = json.loads(speedrun_space(ctx, 5).read_text())
    baseline = json.loads(SPEEDRUN_SPACE.read_text())["params"]
    assert space["params"] == baseline  # every param at the baseline's value
    assert space["search_space"] == {"seed": {"_type": "choice", "_value": [0, 1, 2, 3, 4]}}

    url = f"sqlite:///{tmp_path / 'speedrun.db'}"
    created = run_hpo(
        "create-study", "--space", str(tmp_path / "speedrun_seeds.json"), "--name", "s",
        "--sampler", "grid", "--pruner", "none", "--max-trials", "5", storage=url, cwd=tmp_path,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert "budget 5 trials" in created.stderr + created.stdout
    assert optuna.load_study(study_name="s", storage=url).trials == []  # no baseline besides


def test_the_summary_judges_the_speed_recipe_on_five_seeds() -> None:
    trials = [
        {"number": n, "seed": n, "test_acc": 0.941 + n / 1000, "trial_seconds": 3.5}
        for n in range(5)
    ]
    result = {
        "note": "",
        "trials": trials,
        "seeds": 5,
        "test_acc_mean": 0.943,
        "trial_seconds_mean": 3.5,
        "trial_seconds_first": 3.5,
        "trial_seconds_later_mean": 3.5,
    }
    rows = {r["figure"]: r for r in summary_rows({"speedrun": Record("ok", 70, result=result)})}
    assert rows["speedrun test acc"]["status"] == "pass"
    assert rows["speedrun s/trial, start to tell"]["status"] == "pass"
    short = {**result, "seeds": 4, "trials": trials[:4]}
    rows = {r["figure"]: r for r in summary_rows({"speedrun": Record("ok", 70, result=short)})}
    assert rows["speedrun test acc"]["status"] == "fail"  # 4 seeds are not the goal's 5
