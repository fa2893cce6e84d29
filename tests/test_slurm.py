"""``deploy/slurm/hpo-workers.sbatch``, unchanged, on a real Slurm cluster (``slurm_cluster``).

Three array tasks work on one PostgreSQL study; one is cancelled with ``scancel`` while its trial
runs, and another task finishes that trial. The study ends with exactly its budget, and the best
trial's weights are fetched afterwards by ``hpo best`` from outside the cluster.
"""

from __future__ import annotations

import os
import signal
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import optuna
import pytest
from optuna.trial import FrozenTrial, TrialState

from hpo import attrs
from tests.helpers import ROOT, SEARCH_SPACES, counted, hpo_env, run_hpo, trials, wait_for
from tests.slurm_cluster import TASKS, SlurmCluster

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.serial]  # slurmctld, munge

SCRIPT = ROOT / "deploy" / "slurm" / "hpo-workers.sbatch"
MAX_TRIALS = 6
EPOCHS = 3
#: sacct's states of a job or step that is over.
ENDED = {"COMPLETED", "CANCELLED", "FAILED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED"}
#: Hang guard only: jobs wait for nothing but their own trials, however slow the machine.
JOB_TIMEOUT = 1500.0


@pytest.fixture(scope="session")
def slurm() -> Iterator[SlurmCluster]:
    with SlurmCluster.started() as cluster:
        yield cluster


@pytest.mark.timeout(1800)  # a hang guard: apt-get may install Slurm first (minutes)
def test_an_array_of_workers_runs_the_study_through_a_cancelled_task(
    slurm: SlurmCluster, pg_url: str, tmp_path: Path
) -> None:
    name = "digits-slurm"
    # The patient pruner is asked after every epoch, so each epoch is in the database as soon
    # as it ends (the cancel below sees how far a trial has come), and with patience 3 it
    # prunes no trial of 3 epochs: every trial ends COMPLETE unless it is interrupted.
    created = run_hpo(
        "create-study", "--space", str(SEARCH_SPACES / "digits_cnn.json"), "--name", name,
        "--pruner", "patient", "--max-trials", str(MAX_TRIALS), "--seed", "7",
        "-p", f"num_epochs={EPOCHS}",
        "--checkpoint-dir", str(tmp_path / "shared" / "hpo-checkpoints"),
        storage=pg_url,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    home = tmp_path / "home"
    home.mkdir()  # no ~/.hpo-env there: HPO_STORAGE comes from the submitting shell
    env = hpo_env(pg_url, HPO_STUDY=name, HPO_VENV=sys.prefix, HOME=str(home))
    job = slurm.sbatch(f"--array=0-{TASKS - 1}", str(SCRIPT), env=env, cwd=tmp_path)

    def diagnose() -> str:
        logs = sorted(tmp_path.glob("hpo-worker-*.log"))
        tails = (f"--- {p.name}\n" + "\n".join(p.read_text().splitlines()[-8:]) for p in logs)
        return "\n".join([*tails, slurm.logs()])

    cancelled, task = cancel_mid_trial(slurm, pg_url, name, diagnose)

    def accounted() -> list[list[str]]:
        out = slurm.run("sacct", "-j", job, "-n", "-P", "-o", "JobID,State,ExitCode").stdout
        return [line.split("|") for line in out.splitlines()]

    def over() -> bool:
        rows = accounted()
        tasks = [r for r in rows if "." not in r[0]]  # the steps' rows hold a dot
        return len(tasks) == TASKS and all(r[1].split()[0] in ENDED for r in rows)

    waited(over, "the array's tasks to end", diagnose)
    rows = accounted()
    print("sacct:", *("|".join(r) for r in rows), sep="\n  ")
    states = {r[0]: (r[1].split()[0], r[2]) for r in rows}
    for index in range(TASKS):
        key = f"{job}_{index}"
        expected = "CANCELLED" if key == task else "COMPLETED"
        assert states[key] == (expected, "0:0"), (key, rows, diagnose())
        # The worker itself ended well: the cancelled one after queueing its trial again.
        assert states[f"{key}.batch"] == ("COMPLETED", "0:0"), (key, rows, diagnose())

    everything = trials(pg_url, name)
    budget = counted(everything)
    print("trials:", *(f"#{t.number} {t.state.name} {worker(t)}" for t in everything))
    assert len(budget) == MAX_TRIALS, diagnose()
    assert all(t.state == TrialState.COMPLETE for t in budget), diagnose()
    # Nothing ran twice: the one failed trial is the cancelled one, replaced by a single retry.
    [failed] = [t for t in everything if t.state == TrialState.FAIL]
    assert failed.number == cancelled.number
    assert failed.user_attrs[attrs.ERROR] == "worker stopped by SIGTERM"
    [retry] = [t for t in everything if t.system_attrs.get("retry_history")]
    assert retry.system_attrs["retry_history"] == [cancelled.number]
    assert retry in budget and retry.params == failed.params
    assert worker(retry) not in ("", task), (worker(retry), task)
    # ... from the state the cancelled task saved at the end of its epoch, in the shared
    # checkpoint directory (unless that epoch outlasted --stop-timeout on a slow machine).
    stopped = (tmp_path / f"hpo-worker-{task}.log").read_text()
    resumed = (tmp_path / f"hpo-worker-{worker(retry)}.log").read_text()
    assert f"trial {retry.number} started" in resumed, resumed
    if "did not end within" not in stopped:
        assert "resuming from the state after epoch" in resumed, (stopped, resumed)
    assert len(everything) == MAX_TRIALS + 1
    print(f"trial {cancelled.number} cancelled on task {task}, finished as #{retry.number}")

    # Another machine's view: only the database in common with the nodes (its own HOME and
    # cache: the weights and logs come from the database).
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "cache").mkdir(parents=True)
    coordinator = hpo_env(pg_url, HOME=str(elsewhere), HPO_CACHE_DIR=str(elsewhere / "cache"))
    best = run_hpo("best", name, "--weights", "best.pt", cwd=elsewhere, env=coordinator)
    assert best.returncode == 0, best.stderr
    log = run_hpo("logs", name, str(retry.number), cwd=elsewhere, env=coordinator)
    assert log.returncode == 0 and "epoch 3/3" in log.stdout, log
    weights = elsewhere / "best.pt"
    assert weights.stat().st_size > 0 and zipfile.is_zipfile(weights)  # torch.save's format


def worker(trial: FrozenTrial) -> str:
    """The array task that ran a trial (the sbatch script labels each worker with it)."""
    return str(trial.user_attrs.get(attrs.WORKER, "")).rpartition("/")[2]


def waited(predicate: Callable[[], object], what: str, diagnose: Callable[[], str]) -> None:
    """wait_for, with the workers' and daemons' logs in the message when it times out."""
    try:
        wait_for(predicate, JOB_TIMEOUT, what)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{diagnose()}") from None


def cancel_mid_trial(
    slurm: SlurmCluster, url: str, name: str, diagnose: Callable[[], str]
) -> tuple[FrozenTrial, str]:
    """``scancel`` a task whose trial has an epoch still to report: the trial and the task.

    A task is frozen (SIGSTOP) while the database is read, so that the trial cannot end between
    the read and the cancel; scancel sends SIGCONT before SIGTERM, as to any stopped job.
    """
    study = optuna.load_study(study_name=name, storage=url)
    found: list[tuple[FrozenTrial, str]] = []

    def early() -> FrozenTrial | None:
        for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            # At most EPOCHS - 2 epochs reported: the report of the last epoch, where the
            # worker checks for a stop, is still to come.
            if worker(trial) and len(trial.intermediate_values) <= EPOCHS - 2:
                return trial
        return None

    def frozen_mid_trial() -> bool:
        trial = early()
        if trial is None:
            return False
        task = worker(trial)
        pids = slurm.pids(task)
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        [again] = [t for t in study.get_trials(deepcopy=False) if t.number == trial.number]
        if again.state == TrialState.RUNNING and len(again.intermediate_values) <= EPOCHS - 2:
            found.append((again, task))
            return True
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
        return False

    waited(frozen_mid_trial, "a trial to cancel", diagnose)
    trial, task = found[0]
    slurm.run("scancel", task)
    return trial, task
