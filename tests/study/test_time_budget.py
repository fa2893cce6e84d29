"""The time budget (maxExecDuration) counts from the first worker's first trial, pauses while
the study is stopped, and runs on the database's clock; ``hpo status`` says where a study
stands: not started, running, stopped or done."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from optuna.trial import TrialState

from tests.helpers import (
    DATA,
    hpo_cli,
    hpo_create_study,
    hpo_env,
    run_hpo,
    start_hpo,
    trials,
    wait_for,
    write_module,
)

SLOW = "import time\n\ndef run(params):\n    time.sleep(0.2)\n    return params['x']\n"


def _config(name: str, duration: str, **extra: Any) -> dict[str, Any]:
    return {
        "config": {"experimentName": name, "model": "slow", "maxExecDuration": duration, **extra},
        # A Dr.Opt baseline: enqueued at create-study, the trial a first worker takes first.
        "params": {"x": 0.5},
        "search_space": {"x": {"_type": "uniform", "_value": [0, 1]}},
    }


def _status(storage: str, name: str) -> dict[str, Any]:
    found = json.loads(hpo_cli("status", "--json", storage=storage).stdout)
    return next(s for s in found if s["study"] == name)


def test_a_study_with_a_baseline_queued_longer_than_its_budget_still_runs(
    tmp_path: Path, sqlite_url: str
) -> None:
    write_module(tmp_path, "slow", SLOW)
    hpo_create_study(tmp_path, _config("queued", "3s"), sqlite_url)
    created = time.time()
    waiting = _status(sqlite_url, "queued")
    assert waiting["state"] == "not started" and waiting["time_left_s"] == 3
    assert waiting["trials"]["waiting"] == 1  # the baseline, which must not start the clock
    assert "not started" in hpo_cli("status", storage=sqlite_url).stdout
    # As in a Slurm queue: the first worker starts after the whole budget has passed.
    wait_for(lambda: time.time() > created + 5, 30, "5 s to pass after create-study")
    worker = run_hpo("worker", "--study", "queued", storage=sqlite_url, cwd=tmp_path)
    assert worker.returncode == 0, worker.stderr
    assert "time budget of 3s is used up" in worker.stderr
    ran = [t for t in trials(sqlite_url, "queued") if t.state == TrialState.COMPLETE]
    assert len(ran) >= 2, worker.stderr  # the baseline and trials the sampler chose
    done = _status(sqlite_url, "queued")
    assert done["state"] == "done" and done["time_left_s"] == 0
    table = hpo_cli("status", storage=sqlite_url).stdout
    assert "done" in table and "expired" not in table
    # A second worker now finds it spent: the clock is the study's, not each worker's.
    again = run_hpo("worker", "--study", "queued", storage=sqlite_url, cwd=tmp_path)
    assert "ran 0 trials" in again.stderr


def test_the_clock_pauses_while_the_study_is_stopped(tmp_path: Path, sqlite_url: str) -> None:
    write_module(tmp_path, "slow", SLOW)
    hpo_create_study(tmp_path, _config("paused", "1h"), sqlite_url)
    worker = start_hpo("worker", "--study", "paused", storage=sqlite_url, cwd=tmp_path)
    try:
        wait_for(lambda: _status(sqlite_url, "paused")["state"] == "running", 60, "a running study")
        assert hpo_cli("stop", "paused", storage=sqlite_url).returncode == 0
        _, stderr = worker.communicate(timeout=120)
    finally:
        worker.kill()
    assert worker.returncode == 0, stderr
    stopped = _status(sqlite_url, "paused")
    assert stopped["state"] == "stopped" and stopped["started_at"] is None
    used = stopped["time_used_s"]
    assert used > 0
    time.sleep(1.5)  # not a wait for a condition: time that must not be counted
    assert _status(sqlite_url, "paused")["time_used_s"] == used  # paused: nothing counted
    assert hpo_cli("resume", "paused", storage=sqlite_url).returncode == 0
    # Resumed, but no worker has taken a trial yet: still paused, not running.
    assert _status(sqlite_url, "paused")["time_used_s"] == used
    again = run_hpo(
        "worker", "--study", "paused", "--n-trials", "1", storage=sqlite_url, cwd=tmp_path
    )
    assert again.returncode == 0, again.stderr
    resumed = _status(sqlite_url, "paused")
    assert resumed["state"] == "running" and resumed["time_used_s"] > used


@pytest.mark.slow
def test_a_worker_hours_ahead_neither_finds_the_budget_spent_nor_moves_it(
    tmp_path: Path, pg_url: str
) -> None:
    """Time budgets on the database's clock: a node 2 h ahead (its wall clock skewed by a
    sitecustomize on its PYTHONPATH) runs trials of a 1 h study as any other worker."""
    write_module(tmp_path, "slow", SLOW)
    hpo_create_study(tmp_path, _config("skewed", "1h", maxTrialNum=5), pg_url)
    first = run_hpo("worker", "--study", "skewed", "--n-trials", "1", storage=pg_url, cwd=tmp_path)
    assert first.returncode == 0, first.stderr  # it started the study's clock
    skewed_env = hpo_env(
        pg_url,
        PYTHONPATH=os.pathsep.join([str(DATA / "skewed_clock"), str(tmp_path)]),
        HPO_TEST_CLOCK_SKEW=str(2 * 3600),
    )
    ahead = run_hpo("worker", "--study", "skewed", "--n-trials", "2", cwd=tmp_path, env=skewed_env)
    assert ahead.returncode == 0, ahead.stderr
    assert "ran 2 trials" in ahead.stderr, ahead.stderr  # not "time budget … used up"
    # Counted on the database's clock: seconds, not the 2 h the node's clock is ahead.
    assert _status(pg_url, "skewed")["time_used_s"] < 600
    last = run_hpo("worker", "--study", "skewed", storage=pg_url, cwd=tmp_path)
    assert last.returncode == 0, last.stderr
    assert "ran 2 trials" in last.stderr, last.stderr
    done = _status(pg_url, "skewed")
    assert done["state"] == "done" and done["time_used_s"] < 600, done
