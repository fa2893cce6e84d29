"""Command trials with real processes: NNI experiments unchanged, failures, kills and signals."""

from __future__ import annotations

import datetime
import json
import signal
import textwrap
from pathlib import Path

import pytest
from optuna.trial import FrozenTrial, TrialState

from hpo import attrs
from hpo.objectives.command import KILL_GRACE
from hpo.optuna_compat import stale_trial_ids
from hpo.storage import open_storage
from tests.helpers import (
    counted,
    hpo_create_study,
    run_hpo,
    start_hpo,
    trials,
    wait_for,
    write_json,
)
from tests.objectives.nni_trials import (
    CRASHING,
    DIGITS,
    DIGITS_SPACE,
    NO_FINAL,
    PLAIN,
    RESUMING,
    SILENT,
    SLEEPER,
    STUBBORN,
    pid_alive,
    reported,
    write_script,
)


def _check_digits_trials(storage: str, study: str, expected: int) -> list[FrozenTrial]:
    """Every trial is what its script reported: the user's command ran, not hpo's model."""
    done = trials(storage, study)
    assert len(done) == expected
    for trial in done:
        assert trial.state == TrialState.COMPLETE, trial.user_attrs.get(attrs.ERROR)
        record = reported(trial.user_attrs[attrs.LOG])
        assert trial.value == record["final"]
        assert trial.intermediate_values == {
            step: value for step, value in enumerate(record["intermediate"], start=1)
        }
        assert trial.user_attrs[attrs.METRICS] == {"n_epochs": len(record["intermediate"])}
        assert record["params"] == record["hpo_params"] == trial.params
        # Choices keep their JSON types: merge_parameter refuses a float for an int.
        assert record["types"] == {"alpha": "float", "hidden": "int", "epochs": "int"}
        assert record["sequence_id"] == trial.number
    return done


def test_an_nni_v2_yaml_experiment_runs_unchanged(tmp_path: Path, sqlite_url: str) -> None:
    write_script(tmp_path, "mnist.py", DIGITS)
    write_json(tmp_path / "search_space.json", DIGITS_SPACE)
    (tmp_path / "config.yml").write_text(
        textwrap.dedent(
            """
            experimentName: digits-v2
            searchSpaceFile: search_space.json
            trialCommand: python3 mnist.py
            trialCodeDirectory: .
            trialGpuNumber: 0
            trialConcurrency: 2
            maxTrialNumber: 4
            maxExperimentDuration: 1h
            tuner:
              name: TPE
              classArgs:
                optimize_mode: maximize
            trainingService:
              platform: local
              useActiveGpu: false
            """
        )
    )
    result = run_hpo("run", "--space", "config.yml", storage=sqlite_url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "starting 2 workers: local0, local1" in result.stderr  # trialConcurrency
    done = _check_digits_trials(sqlite_url, "digits-v2", 4)
    for trial in done:
        assert reported(trial.user_attrs[attrs.LOG])["cuda"] == ""  # trialGpuNumber 0


def test_an_inline_space_with_an_assessor(tmp_path: Path, sqlite_url: str) -> None:
    (tmp_path / "code").mkdir()
    write_script(tmp_path / "code", "mnist.py", DIGITS)
    config = {
        "experimentName": "digits-inline",
        "searchSpace": DIGITS_SPACE,
        "trialCommand": "python3 mnist.py",
        "trialCodeDirectory": "code",
        "maxTrialNumber": 3,
        "tuner": {"name": "Random"},
        "assessor": {"name": "Medianstop", "classArgs": {"start_step": 2}},
        "trainingService": {"platform": "local"},
    }
    write_json(tmp_path / "experiment.json", config)
    checked = run_hpo("validate", "experiment.json", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "Medianstop → median(n_warmup_steps=2)" in checked.stdout
    assert f"command 'python3 mnist.py' in {tmp_path / 'code'}" in checked.stdout
    hpo_create_study(tmp_path, config, sqlite_url, file="experiment.json")
    worker = run_hpo("worker", "--study", "digits-inline", storage=sqlite_url, cwd=tmp_path)
    assert worker.returncode == 0, worker.stderr
    done = trials(sqlite_url, "digits-inline")
    assert len(done) == 3
    for trial in done:  # the median pruner may stop the later ones; those it let run are exact
        if trial.state == TrialState.COMPLETE:
            assert trial.value == reported(trial.user_attrs[attrs.LOG])["final"]
        else:
            assert trial.state == TrialState.PRUNED


def test_an_nni_v1_config_runs_unchanged(tmp_path: Path, sqlite_url: str) -> None:
    write_script(tmp_path, "mnist.py", DIGITS)
    write_json(tmp_path / "search_space.json", DIGITS_SPACE)
    (tmp_path / "config.yml").write_text(
        textwrap.dedent(
            """
            authorName: default
            experimentName: digits-v1
            trialConcurrency: 1
            maxExecDuration: 1h
            maxTrialNum: 3
            trainingServicePlatform: local
            searchSpacePath: search_space.json
            useAnnotation: false
            tuner:
              builtinTunerName: TPE
              classArgs:
                optimize_mode: maximize
            trial:
              command: python3 mnist.py
              codeDir: .
              gpuNum: 0
            """
        )
    )
    result = run_hpo("run", "--space", "config.yml", storage=sqlite_url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    _check_digits_trials(sqlite_url, "digits-v1", 3)


def _command_study(directory: Path, storage: str, script: str, name: str, **config: object) -> None:
    write_script(directory, "trial.py", script)
    hpo_create_study(
        directory,
        {
            "config": {
                "experimentName": name,
                "objective": {"command": "python3 trial.py"},
                "maxTrialNum": 1,
                "heartbeat_interval": 1,
                "grace_period": 3,
                "checkpoint_dir": "ckpt",  # the trials' directories, where the test looks
                **config,
            },
            "search_space": {"x": {"_type": "uniform", "_value": [0, 1]}},
        },
        storage,
    )


def _only_trial(storage: str, name: str) -> FrozenTrial:
    (trial,) = trials(storage, name)
    return trial


def test_a_pruned_command_is_killed_with_its_whole_group(tmp_path: Path, sqlite_url: str) -> None:
    # It ignores SIGTERM: the worker must follow with SIGKILL after the grace.
    _command_study(
        tmp_path, sqlite_url, STUBBORN, "pruned", pruner={"name": "threshold", "lower": 0.5}
    )
    worker = start_hpo("worker", "--study", "pruned", storage=sqlite_url, cwd=tmp_path)
    try:
        wait_for(
            lambda: list(tmp_path.rglob("trial-0/pid")) or worker.poll() is not None,
            120,
            "the trial to start",
        )
        pid_file = next(iter(tmp_path.rglob("trial-0/pid")), None)
        assert pid_file is not None
        pid = int(pid_file.read_text())
        wait_for(lambda: not pid_alive(pid), 120 + KILL_GRACE, "the pruned trial's process to end")
        assert worker.wait(timeout=120) == 0
    finally:
        worker.kill()
    trial = _only_trial(sqlite_url, "pruned")
    assert trial.state == TrialState.PRUNED
    assert trial.intermediate_values[1] == 0.0


@pytest.mark.parametrize(
    ("script", "config", "reason"),
    [
        (CRASHING, {}, "the command exited with status 3: FileNotFoundError: /data/food11 is"),
        (NO_FINAL, {}, "the command exited 0 without a final result"),
        (SLEEPER, {"maxTrialDuration": "2s"}, "ran longer than its time limit"),
    ],
    ids=["crash", "no-final-result", "time-limit"],
)
def test_a_failing_command_fails_its_trial_with_the_reason(
    tmp_path: Path, sqlite_url: str, script: str, config: dict[str, object], reason: str
) -> None:
    _command_study(tmp_path, sqlite_url, script, "failing", **config)
    worker = run_hpo("worker", "--study", "failing", storage=sqlite_url, cwd=tmp_path)
    assert worker.returncode == 0, worker.stderr
    trial = _only_trial(sqlite_url, "failing")
    assert trial.state == TrialState.FAIL
    assert reason in trial.user_attrs[attrs.ERROR]
    log = Path(trial.user_attrs[attrs.LOG])
    assert log.name == "trial.log"
    # Kept in the study's database (the file went with the trial's directory).
    shown = run_hpo("logs", "failing", "0", storage=sqlite_url)
    assert shown.returncode == 0, shown.stderr
    if script == CRASHING:
        assert "FileNotFoundError: /data/food11" in shown.stdout
    pid_file = log.parent / "pid"
    if pid_file.exists():  # the sleeper: stopped at its limit, not left running
        assert not pid_alive(int(pid_file.read_text()))


def test_a_killed_workers_command_dies_with_it_and_its_retry_resumes(
    tmp_path: Path, sqlite_url: str
) -> None:
    _command_study(tmp_path, sqlite_url, RESUMING, "killed")
    first = start_hpo("worker", "--study", "killed", storage=sqlite_url, cwd=tmp_path)
    try:
        # Killed once its two results are stored (a kill loses what is not stored yet).
        wait_for(
            lambda: [len(t.intermediate_values) for t in trials(sqlite_url, "killed")] == [2],
            120,
            "the first attempt to report two epochs",
        )
        (pid_file,) = (tmp_path / "ckpt").rglob("pid-0")
        pid = int(pid_file.read_text())
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        # The worker is gone: its trial goes with it (else it would write on beside the retry).
        wait_for(lambda: not pid_alive(pid), 30 + KILL_GRACE, "the orphaned trial to end")
    finally:
        first.kill()
    # The next worker starts once the trial is stale: it fails the trial and queues the retry
    # itself, and must not leave between the two writes (the budget counts the trial as run).
    watch = open_storage(sqlite_url)
    watch.enable_heartbeat(1, 3, None)  # the study's liveness settings
    study_id = watch.get_study_id_from_name("killed")
    wait_for(lambda: stale_trial_ids(watch, study_id), 60, "the trial's heartbeat to go stale")
    second = run_hpo("worker", "--study", "killed", storage=sqlite_url, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    all_trials = trials(sqlite_url, "killed")
    (done,) = counted(all_trials)
    assert done.state == TrialState.COMPLETE
    assert done.user_attrs[attrs.METRICS] == {"resumed_from": 2}
    assert done.params == all_trials[0].params
    # The same directory for both attempts: the retry found what the first one saved.
    assert Path(done.user_attrs[attrs.LOG]).parent == pid_file.parent
    assert done.intermediate_values == {1: 0.0, 2: 0.1, 3: 0.2, 4: 0.3}


def test_sigterm_is_passed_on_and_the_trial_is_queued_again(
    tmp_path: Path, sqlite_url: str
) -> None:
    _command_study(tmp_path, sqlite_url, RESUMING, "stopped")
    worker = start_hpo("worker", "--study", "stopped", storage=sqlite_url, cwd=tmp_path)
    try:
        wait_for(
            lambda: list(tmp_path.rglob("pid-0")) or worker.poll() is not None,
            120,
            "the trial to start",
        )
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=120) == 0
    finally:
        worker.kill()
    assert list(tmp_path.rglob("sigterm-0")), "the trial's command did not receive SIGTERM"
    first, retry = trials(sqlite_url, "stopped")
    assert first.state == TrialState.FAIL
    assert "worker stopped by SIGTERM" in first.user_attrs[attrs.ERROR]
    assert retry.state == TrialState.WAITING and retry.params == first.params


def test_a_silent_command_stays_alive_past_the_grace_period(
    tmp_path: Path, sqlite_url: str
) -> None:
    # Two workers: the second, with nothing to run, watches for stale trials meanwhile.
    _command_study(tmp_path, sqlite_url, SILENT, "silent")
    workers = [
        start_hpo("worker", "--study", "silent", storage=sqlite_url, cwd=tmp_path) for _ in range(2)
    ]
    try:
        wait_for(lambda: list(tmp_path.rglob("started")), 120, "the trial to start")
        (trial,) = trials(sqlite_url, "silent")
        started = trial.datetime_start
        assert started is not None
        # Silent for three grace periods of 3 s, by the trial's own clock in the storage.
        wait_for(
            lambda: (datetime.datetime.now() - started).total_seconds() > 9,
            60,
            "three grace periods to pass",
        )
        assert [t.state for t in trials(sqlite_url, "silent")] == [TrialState.RUNNING]
        (tmp_path / "go").touch()
        for worker in workers:
            assert worker.wait(timeout=120) == 0
    finally:
        for worker in workers:
            worker.kill()
    (trial,) = trials(sqlite_url, "silent")
    assert trial.state == TrialState.COMPLETE and trial.value == trial.params["x"]


@pytest.mark.slow
def test_four_workers_on_postgresql_run_the_budget_exactly_once(
    tmp_path: Path, pg_url: str
) -> None:
    write_script(tmp_path, "plain.py", PLAIN)
    hpo_create_study(
        tmp_path,
        {
            "config": {"experimentName": "four", "maxTrialNum": 12},
            "search_space": {
                "x": {"_type": "uniform", "_value": [0, 1]},
                "y": {"_type": "uniform", "_value": [0, 1]},
            },
        },
        pg_url,
        "--command",
        "python3 plain.py",
        "--pruner",
        "none",
    )
    workers = [
        start_hpo("worker", "--study", "four", storage=pg_url, cwd=tmp_path) for _ in range(4)
    ]
    try:
        for worker in workers:
            assert worker.wait(timeout=600) == 0, worker.stderr.read() if worker.stderr else ""
    finally:
        for worker in workers:
            worker.kill()
    done = trials(pg_url, "four")
    assert len(done) == 12
    assert all(t.state == TrialState.COMPLETE for t in done)
    ran = [json.loads(line) for line in (tmp_path / "ran.log").read_text().splitlines()]
    assert sorted(r["trial"] for r in ran) == list(range(12))  # each trial's command ran once
    assert len({json.dumps(r["params"], sort_keys=True) for r in ran}) == 12
    by_number = {t.number: t for t in done}
    for record in ran:
        trial = by_number[record["trial"]]
        x, y = record["params"]["x"], record["params"]["y"]
        assert trial.value == pytest.approx(-((x - 0.3) ** 2) - (y - 0.6) ** 2)
        assert sorted(trial.intermediate_values) == [1, 2, 3]  # '@hpo intermediate' lines
        steps = {str(k): {"step_x": float(k)} for k in (1, 2, 3)}
        assert trial.user_attrs[attrs.STEP_METRICS] == steps


def test_a_command_from_the_command_line(tmp_path: Path, sqlite_url: str) -> None:
    write_script(tmp_path, "plain.py", PLAIN)
    write_json(
        tmp_path / "space.json",
        {"x": {"_type": "uniform", "_value": [0, 1]}, "y": {"_type": "uniform", "_value": [0, 1]}},
    )
    run = run_hpo(
        "run",
        "--space",
        "space.json",
        "--command",
        "python3 plain.py",
        "--max-trials",
        "2",
        "--pruner",
        "none",  # every trial to its final line, whatever its steps
        storage=sqlite_url,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert all(t.state == TrialState.COMPLETE for t in trials(sqlite_url, "space-tpe"))
