"""Steering single trials with real workers: ``hpo kill`` ends one running trial (a function
trial in the worker's process, a command trial's processes through its guard, a worker that
reaches the study through ``hpo serve-storage``), and ``hpo enqueue`` queues a trial whose
params are the ones it then runs with."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from optuna.trial import TrialState

from hpo import attrs
from tests.helpers import (
    assert_one_line_error,
    hpo_create_study,
    run_hpo,
    serve_storage,
    start_hpo,
    trials,
    wait_for,
    write_json,
    write_module,
)

#: How long a test waits for a worker to get somewhere on a loaded machine.
PATIENCE = 600

SPACE = {"x": {"_type": "uniform", "_value": [0, 1]}}


def _wait_running(storage: str, study: str, worker: subprocess.Popen[str], number: int) -> None:
    def running() -> bool:
        return any(
            t.number == number and t.state == TrialState.RUNNING for t in trials(storage, study)
        )

    wait_for(lambda: worker.poll() is not None or running(), PATIENCE, f"trial {number} to run")
    assert worker.poll() is None, worker.communicate()


def test_enqueue_then_kill_a_function_trial_and_the_worker_goes_on(
    tmp_path: Path, storage_url: str
) -> None:
    # The enqueued value would sleep for ten minutes, without ever reporting: only the kill
    # (an interrupt of the worker's own process) can end it in the test's time.
    write_module(
        tmp_path,
        "sleepy",
        """
        import time

        def run(params):
            if params["x"] == 0.5:
                time.sleep(600)
            return params["x"]
        """,
    )
    config = {
        "config": {"experimentName": "ctl", "model": "sleepy", "maxTrialNum": 2},
        "search_space": SPACE,
    }
    hpo_create_study(tmp_path, config, storage_url, "--pruner", "none")

    # Params are checked against the stored space: one line each, nothing queued.
    assert_one_line_error(
        run_hpo("enqueue", "ctl", "-p", "x=2", storage=storage_url), 2, "x", "outside [0, 1]"
    )
    assert_one_line_error(
        run_hpo("enqueue", "ctl", "-p", "y=1", storage=storage_url), 2, "y", "parameters: x"
    )
    assert_one_line_error(run_hpo("enqueue", "ctl", storage=storage_url), 2, "-p NAME=VALUE")
    assert_one_line_error(
        run_hpo("enqueue", "nosuch", "-p", "x=0.5", storage=storage_url),
        1,
        "no study named 'nosuch' in ",
        storage_url.split("/")[-1],
    )
    assert trials(storage_url, "ctl") == []
    queued = run_hpo("enqueue", "--study", "ctl", "-p", "x=0.5", storage=storage_url)
    assert queued.returncode == 0, queued.stderr
    assert queued.stdout.strip() == "0"

    worker = start_hpo("worker", "ctl", storage=storage_url, cwd=tmp_path)  # the positional
    _wait_running(storage_url, "ctl", worker, 0)
    killed = run_hpo("kill", "ctl", "0", storage=storage_url)
    assert killed.returncode == 0, killed.stderr
    assert killed.stdout.strip() == "trial 0 PRUNED: killed by hpo kill"

    _, err = worker.communicate(timeout=PATIENCE)
    assert worker.returncode == 0, err
    first, second = trials(storage_url, "ctl")  # no retry of the killed one
    assert first.params == {"x": 0.5} and first.user_attrs[attrs.ENQUEUED] is True
    assert first.state == TrialState.PRUNED
    assert first.user_attrs[attrs.ERROR] == "killed by hpo kill"
    assert second.state == TrialState.COMPLETE and second.value == second.params["x"]

    # What is not running cannot be killed: one line, exit 2 (a missing study: 1).
    assert_one_line_error(run_hpo("kill", "ctl", "0", storage=storage_url), 2, "not running")
    assert_one_line_error(run_hpo("kill", "ctl", "7", storage=storage_url), 2, "no trial 7")
    assert_one_line_error(run_hpo("kill", "gone", "0", storage=storage_url), 1, "no study named")
    # The budget is spent: an enqueue says how to raise it.
    assert_one_line_error(
        run_hpo("enqueue", "ctl", "-p", "x=0.1", storage=storage_url), 1, "hpo set-budget ctl"
    )


TRIAL_SCRIPT = """
import json, os, subprocess, time

x = json.loads(os.environ["HPO_PARAMS"])["x"]
if x == 0.25:
    child = subprocess.Popen(["sleep", "600"])
    with open("pids.tmp", "w") as f:
        f.write(f"{os.getpid()} {child.pid}")
    os.replace("pids.tmp", "pids")
    time.sleep(600)
print(f"@hpo final {x}", flush=True)
"""


def _alive(pid: int) -> bool:
    """Running, not a zombie (one left to an init that does not reap is over all the same)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] != "Z"


def test_kill_a_command_trial_through_serve_storage_ends_its_processes(
    tmp_path: Path, pg_url: str
) -> None:
    (tmp_path / "trial.py").write_text(TRIAL_SCRIPT)
    config = {
        "experimentName": "cmd",
        "searchSpace": SPACE,
        "trialCommand": "python3 trial.py",
        "trialCodeDirectory": ".",
        "maxTrialNumber": 2,
        "tuner": {"name": "Random"},
        "trainingService": {"platform": "local"},
    }
    write_json(tmp_path / "experiment.json", config)
    created = run_hpo("create-study", "--space", "experiment.json", storage=pg_url, cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    queued = run_hpo("enqueue", "cmd", "-p", "x=0.25", storage=pg_url)
    assert queued.returncode == 0, queued.stderr
    with serve_storage(pg_url) as remote:
        # The worker reaches the study only through the proxy; the kill goes to the database.
        worker = start_hpo("worker", "--study", "cmd", storage=remote, cwd=tmp_path)
        _wait_running(pg_url, "cmd", worker, 0)
        wait_for(lambda: (tmp_path / "pids").exists(), PATIENCE, "the command to start")
        pids = [int(p) for p in (tmp_path / "pids").read_text().split()]
        killed = run_hpo("kill", "cmd", "0", "--fail", "--reason", "stuck", storage=pg_url)
        assert killed.returncode == 0, killed.stderr
        assert killed.stdout.strip() == "trial 0 FAIL: stuck"
        # The guard ended the command and what it started.
        assert not any(_alive(pid) for pid in pids)
        _, err = worker.communicate(timeout=PATIENCE)
    assert worker.returncode == 0, err
    first, second = trials(pg_url, "cmd")
    assert first.state == TrialState.FAIL and first.user_attrs[attrs.ERROR] == "stuck"
    assert first.params == {"x": 0.25}
    assert second.state == TrialState.COMPLETE


@pytest.mark.slow
def test_kill_a_training_trial_mid_epoch(tmp_path: Path, sqlite_url: str) -> None:
    """The built-in objective: the kill interrupts training where it is, the next trial
    (queued with one epoch) trains to its end in the same worker."""
    config = {
        "config": {"experimentName": "train", "objective": "training", "maxTrialNum": 2},
        "params": {"device": "cpu", "dataset": "digits", "model": "simple_cnn", "lr": 0.05},
        "search_space": {"num_epochs": {"_type": "choice", "_value": [1, 500]}},
    }
    hpo_create_study(tmp_path, config, sqlite_url, "--pruner", "none")
    for epochs in ("500", "1"):
        queued = run_hpo("enqueue", "train", "-p", f"num_epochs={epochs}", storage=sqlite_url)
        assert queued.returncode == 0, queued.stderr
    worker = start_hpo("worker", "train", storage=sqlite_url, cwd=tmp_path)
    wait_for(
        lambda: (
            worker.poll() is not None
            or any(len(t.intermediate_values) >= 1 for t in trials(sqlite_url, "train"))
        ),
        PATIENCE,
        "trial 0's first epoch",
    )
    killed = run_hpo("kill", "train", "0", storage=sqlite_url)
    assert killed.returncode == 0, killed.stderr
    _, err = worker.communicate(timeout=PATIENCE)
    assert worker.returncode == 0, err
    first, second = trials(sqlite_url, "train")
    assert first.state == TrialState.PRUNED, first.user_attrs
    assert first.user_attrs[attrs.ERROR] == "killed by hpo kill"
    assert len(first.intermediate_values) < 500
    assert second.state == TrialState.COMPLETE and second.params == {"num_epochs": 1}
