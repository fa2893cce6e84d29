"""What a command leaves running is ended, on every path: real workers, real commands.

A background child holding the command's stdout (``sleep 100000 &``), a child that left the
session (``setsid``), a worker told to stop while it ends a pruned trial: after each, no
process of the trial is left, and the worker goes on to finish the study.
"""

from __future__ import annotations

import random
import signal
from pathlib import Path

import pytest
from optuna.trial import TrialState

from hpo import attrs
from tests.helpers import hpo_create_study, run_hpo, start_hpo, trials, wait_for
from tests.objectives.nni_trials import pid_alive, write_script

#: Seconds a test gives a worker to finish, on a machine busy with other work.
PATIENCE = 300


def _sleep_seconds() -> str:
    """A ``sleep`` argument no other process on this machine uses: the test finds its
    processes by it (they leave the trial's group, so nothing else names them)."""
    return f"{random.randint(10**6, 10**7)}.{random.randint(0, 999):03d}"


def _running(argument: str) -> list[int]:
    """Processes (not zombies) whose command line is ``sleep ARGUMENT``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv[:2] == [b"sleep", argument.encode()] and pid_alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def _study(directory: Path, storage: str, name: str, command: str, **config: object) -> None:
    hpo_create_study(
        directory,
        {
            "config": {
                "experimentName": name,
                "objective": {"command": command},
                "checkpoint_dir": "ckpt",
                **config,
            },
            "search_space": {"x": {"_type": "uniform", "_value": [0, 1]}},
        },
        storage,
    )


FINISHES = """
import nni
params = nni.get_next_parameter()
nni.report_intermediate_result(0.5)
nni.report_final_result(params["x"])
"""


@pytest.mark.slow
def test_a_background_child_holding_stdout_is_ended_and_the_study_finishes(
    tmp_path: Path, sqlite_url: str
) -> None:
    # The background sleep keeps the command's stdout open after the command exits: the
    # worker waited on it for ever.
    seconds = _sleep_seconds()
    write_script(tmp_path, "trial.py", FINISHES)
    _study(
        tmp_path,
        sqlite_url,
        "leftover",
        f"sleep {seconds} & python3 trial.py",
        maxTrialNum=3,
        maxTrialDuration="10m",
        pruner={"name": "none"},
    )
    worker = start_hpo("worker", "--study", "leftover", storage=sqlite_url, cwd=tmp_path)
    try:
        wait_for(lambda: worker.poll() is not None, PATIENCE, "the worker to finish the study")
        _, err = worker.communicate()
        assert worker.returncode == 0, err
    finally:
        worker.kill()
        worker.wait()
    done = trials(sqlite_url, "leftover")
    assert [t.state for t in done] == [TrialState.COMPLETE] * 3, [
        t.user_attrs.get(attrs.ERROR) for t in done
    ]
    assert _running(seconds) == []
    log = run_hpo("logs", "leftover", str(done[0].number), storage=sqlite_url)
    assert "ended 1 process(es) the command left running" in log.stdout, log


HANGS = """
import os, subprocess, sys, time
import nni
nni.get_next_parameter()
seconds = sys.argv[1]
# A child that leaves the session and the group, its output still the trial's.
subprocess.Popen(["sleep", seconds], start_new_session=True)
subprocess.Popen(["sleep", seconds])
nni.report_intermediate_result(0.5)
time.sleep(100000)
"""


@pytest.mark.slow
def test_at_the_time_limit_every_process_of_the_trial_is_ended(
    tmp_path: Path, sqlite_url: str
) -> None:
    seconds = _sleep_seconds()
    write_script(tmp_path, "trial.py", HANGS)
    _study(
        tmp_path,
        sqlite_url,
        "hangs",
        f"python3 trial.py {seconds}",
        maxTrialNum=1,
        maxTrialDuration="3s",
        pruner={"name": "none"},
    )
    worker = start_hpo("worker", "--study", "hangs", storage=sqlite_url, cwd=tmp_path)
    try:
        wait_for(lambda: worker.poll() is not None, PATIENCE, "the worker to finish the study")
        _, err = worker.communicate()
        assert worker.returncode == 0, err
    finally:
        worker.kill()
        worker.wait()
    (trial,) = trials(sqlite_url, "hangs")
    assert trial.state == TrialState.FAIL
    assert "ran longer than its time limit (maxTrialDuration 3s)" in trial.user_attrs[attrs.ERROR]
    assert trial.intermediate_values == {1: 0.5}  # what it reported before is kept
    assert _running(seconds) == []  # the one outside the group too


STUBBORN_WITH_ESCAPEE = """
import os, signal, subprocess, sys, time
import nni
out = os.environ["NNI_OUTPUT_DIR"]
nni.get_next_parameter()
# Both ignore SIGTERM: only SIGKILL ends them. The child leaves the session, out of the group.
signal.signal(signal.SIGTERM, signal.SIG_IGN)
escaped = subprocess.Popen(["sleep", sys.argv[1]], start_new_session=True)
with open(os.path.join(out, "pids"), "w") as f:
    f.write(f"{os.getpid()} {escaped.pid}")

def noted(signum, frame):
    open(os.path.join(out, "sigterm"), "w").close()

signal.signal(signal.SIGTERM, noted)
while True:
    nni.report_intermediate_result(0.0)
    time.sleep(0.2)
"""


@pytest.mark.slow
def test_the_stop_timeout_firing_while_a_pruned_trial_is_ended_leaves_nothing(
    tmp_path: Path, sqlite_url: str
) -> None:
    seconds = _sleep_seconds()
    write_script(tmp_path, "trial.py", STUBBORN_WITH_ESCAPEE)
    _study(
        tmp_path,
        sqlite_url,
        "stubborn",
        f"python3 trial.py {seconds}",
        maxTrialNum=1,
        pruner={"name": "threshold", "lower": 0.5},
    )
    worker = start_hpo(
        "worker", "--study", "stubborn", "--stop-timeout", "1", storage=sqlite_url, cwd=tmp_path
    )
    try:
        # Pruned: the worker is ending the trial (SIGTERM sent, KILL_GRACE to go) when it
        # is told to stop; its stop timeout (1 s) fires in the middle of that.
        wait_for(
            lambda: list(tmp_path.rglob("sigterm")) or worker.poll() is not None,
            PATIENCE,
            "the pruned trial's command to get SIGTERM",
        )
        worker.send_signal(signal.SIGTERM)
        wait_for(lambda: worker.poll() is not None, PATIENCE, "the worker to exit")
        _, err = worker.communicate()
        assert worker.returncode == 0, err
    finally:
        worker.kill()
        worker.wait()
    (pids_file,) = tmp_path.rglob("pids")
    pids = [int(p) for p in pids_file.read_text().split()]
    wait_for(lambda: not any(pid_alive(p) for p in pids), 30, f"the trial's processes {pids}")
    assert _running(seconds) == []
    # The trial was pruned before the stop: it stays pruned, not queued again.
    assert [t.state for t in trials(sqlite_url, "stubborn")] == [TrialState.PRUNED]
