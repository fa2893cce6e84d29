"""The time budget counts from the first worker's start, not from create-study."""

from __future__ import annotations

import json
import time
from pathlib import Path

from optuna.trial import TrialState

from tests.helpers import hpo_cli, hpo_create_study, run_hpo, trials, wait_for, write_module


def test_a_study_queued_longer_than_its_budget_still_runs(tmp_path: Path, sqlite_url: str) -> None:
    write_module(
        tmp_path,
        "slow",
        "import time\n\ndef run(params):\n    time.sleep(0.2)\n    return params['x']\n",
    )
    hpo_create_study(
        tmp_path,
        {
            "config": {"experimentName": "queued", "model": "slow", "maxExecDuration": "3s"},
            "search_space": {"x": {"_type": "uniform", "_value": [0, 1]}},
        },
        sqlite_url,
    )
    created = time.time()
    (waiting,) = json.loads(hpo_cli("status", "--json", storage=sqlite_url).stdout)
    assert waiting["started_at"] is None and waiting["time_left_s"] == 3
    assert "not started" in hpo_cli("status", storage=sqlite_url).stdout
    # As in a Slurm queue: the first worker starts after the whole budget has passed.
    wait_for(lambda: time.time() > created + 5, 30, "5 s to pass after create-study")
    worker = run_hpo("worker", "--study", "queued", storage=sqlite_url, cwd=tmp_path)
    assert worker.returncode == 0, worker.stderr
    assert "time budget of 3s is used up" in worker.stderr
    ran = [t for t in trials(sqlite_url, "queued") if t.state == TrialState.COMPLETE]
    assert ran, worker.stderr
    assert "expired" in hpo_cli("status", storage=sqlite_url).stdout
    # A second worker now finds it spent: the clock is the study's, not each worker's.
    again = run_hpo("worker", "--study", "queued", storage=sqlite_url, cwd=tmp_path)
    assert "ran 0 trials" in again.stderr
