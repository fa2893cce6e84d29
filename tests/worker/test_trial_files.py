"""What a trial leaves behind lives with the study, not on the machine that ran it: its log
(``hpo logs``) and its kept weights (``hpo best --weights``) are read back from another HOME
and cache; a worker that lacks what its trials need stops before taking one; ``delete-study``
removes what the study owns; trial directories never collide between studies."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from optuna.trial import TrialState

from hpo.study.directories import study_directory
from hpo.study.spec import StudySpec
from tests.helpers import (
    SEARCH_SPACES,
    assert_one_line_error,
    hpo_create_study,
    hpo_env,
    run_hpo,
    serve_storage,
    start_hpo,
    trials,
    wait_for,
    write_module,
)

TALKING = """
import logging
import sys

def run(params, report):
    print("hello from the trial", params["x"])
    print("a warning on stderr", file=sys.stderr)
    logging.getLogger("user.code").warning("logged by the user's code")
    report(params["x"], 1)
    return params["x"]
"""


def _machine(root: Path, name: str) -> dict[str, str]:
    """The environment of another machine: its own HOME and cache."""
    home = root / name
    (home / "cache").mkdir(parents=True)
    return {"HOME": str(home), "HPO_CACHE_DIR": str(home / "cache")}


def test_a_trials_prints_and_log_lines_are_read_from_another_machine(
    tmp_path: Path, sqlite_url: str
) -> None:
    write_module(tmp_path, "talking", TALKING)
    config = {
        "config": {"model": "talking", "maxTrialNum": 2},
        "search_space": {"x": {"_type": "uniform", "_value": [0, 1]}},
    }
    hpo_create_study(tmp_path, config, sqlite_url, "--name", "talk", "--pruner", "none")
    worker_env = hpo_env(sqlite_url, **_machine(tmp_path, "worker"))
    ran = run_hpo("worker", "--study", "talk", cwd=tmp_path, env=worker_env)
    assert ran.returncode == 0, ran.stderr
    assert "hello from the trial" in ran.stdout  # the console still shows it
    # Nothing of the trial is left in the worker's cache: it is all in the database.
    assert not [p for p in (tmp_path / "worker" / "cache").rglob("*") if p.is_file()]
    coordinator = hpo_env(sqlite_url, **_machine(tmp_path, "coordinator"))
    shown = run_hpo("logs", "talk", "1", env=coordinator)
    assert shown.returncode == 0, shown.stderr
    assert "hello from the trial" in shown.stdout
    assert "a warning on stderr" in shown.stdout
    assert "logged by the user's code" in shown.stdout
    missing = run_hpo("logs", "talk", "7", env=coordinator)
    assert_one_line_error(missing, 2, "no trial 7", "trials 0 to 1")


@pytest.mark.slow
def test_a_training_trials_epochs_and_weights_reach_another_machine(
    tmp_path: Path, sqlite_url: str
) -> None:
    worker_env = hpo_env(sqlite_url, **_machine(tmp_path, "worker"))
    ran = run_hpo(
        "run",
        "--space",
        str(SEARCH_SPACES / "digits_cnn.json"),
        "--max-trials",
        "1",
        "-p",
        "num_epochs=2",
        cwd=tmp_path,
        env=worker_env,
    )
    assert ran.returncode == 0, ran.stderr
    coordinator = hpo_env(sqlite_url, **_machine(tmp_path, "coordinator"))
    shown = run_hpo("logs", "digits_cnn", "0", env=coordinator)
    assert "epoch 2/2" in shown.stdout, shown.stdout  # training's debug lines, without -v
    saved = tmp_path / "coordinator" / "best.pt"
    best = run_hpo("best", "digits_cnn", "--weights", str(saved), env=coordinator)
    assert best.returncode == 0, best.stderr
    assert saved.stat().st_size > 1000


SLOW_PRINTER = """
import sys, time, pathlib
for i in range(3):
    print(f"line {i}", flush=True)
    time.sleep(0.5)
while not pathlib.Path(sys.argv[1]).exists():
    time.sleep(0.1)
print("last line", flush=True)
print('{"default": 1.0}')
"""


def test_hpo_logs_follow_prints_a_running_commands_lines_until_it_ends(
    tmp_path: Path, sqlite_url: str
) -> None:
    (tmp_path / "printer.py").write_text(SLOW_PRINTER)
    release = tmp_path / "release"
    config = {
        "config": {"maxTrialNum": 1, "objective": {"command": f"python3 printer.py {release}"}},
        "search_space": {"x": {"_type": "uniform", "_value": [0, 1]}},
    }
    hpo_create_study(tmp_path, config, sqlite_url, "--name", "printer", "--pruner", "none")
    worker = start_hpo("worker", "--study", "printer", storage=sqlite_url, cwd=tmp_path)
    follower = None
    try:
        wait_for(
            lambda: any(t.state == TrialState.RUNNING for t in trials(sqlite_url, "printer")),
            120,
            "the trial to start",
        )
        follower = subprocess.Popen(
            [sys.executable, "-m", "hpo", "logs", "printer", "0", "-f"],
            env=hpo_env(sqlite_url),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # Followed while it runs: "line 2" arrives before the trial is released.
        seen: list[str] = []

        def read_line() -> bool:
            assert follower is not None and follower.stdout is not None
            seen.append(follower.stdout.readline())
            return "line 2" in seen[-1]

        wait_for(read_line, 120, "hpo logs -f to print the running trial's lines")
        assert follower.poll() is None  # still following
        release.touch()
        out, err = follower.communicate(timeout=120)
        assert follower.returncode == 0, err
        assert "last line" in out  # and it ended with the trial
        assert worker.wait(timeout=120) == 0
    finally:
        release.touch()
        worker.kill()
        if follower is not None:
            follower.kill()


def test_a_worker_without_the_data_stops_before_taking_a_trial(
    tmp_path: Path, sqlite_url: str
) -> None:
    missing = tmp_path / "no-such-cifar"
    created = run_hpo(
        "create-study",
        "--space",
        str(SEARCH_SPACES / "cifar10_simplecnn_lr.json"),
        "-p",
        f"data_dir={missing}",
        storage=sqlite_url,
        cwd=tmp_path,
    )
    assert created.returncode == 0, created.stderr
    assert f"on this machine, data_dir {missing} is not a directory" in created.stderr
    assert "download=true" in created.stderr  # how to get it
    name = created.stdout.split()[-1]
    worker = run_hpo("worker", "--study", name, storage=sqlite_url, cwd=tmp_path)
    assert_one_line_error(worker, 1, "cannot run the trials", str(missing), "download=true")
    assert trials(sqlite_url, name)[0].state == TrialState.WAITING  # the baseline, untouched


def test_hpo_run_without_the_data_refuses_before_it_creates_the_study(tmp_path: Path) -> None:
    """hpo run works on this machine: what this machine lacks is one error, and nothing is
    stored (not even the database file) for a study no worker here could run."""
    database = tmp_path / "hpo.db"
    missing = tmp_path / "no-such-cifar"
    ran = run_hpo(
        "run",
        "--space",
        str(SEARCH_SPACES / "cifar10_simplecnn_lr.json"),
        "-p",
        f"data_dir={missing}",
        storage=f"sqlite:///{database}",
        cwd=tmp_path,
    )
    assert_one_line_error(ran, 1, "cannot run the trials", str(missing), "download=true")
    assert ran.stderr.count("\n") == 1, ran.stderr  # no warning saying it first
    assert not database.exists()


def test_hpo_run_fails_when_every_trial_failed(tmp_path: Path, sqlite_url: str) -> None:
    write_module(tmp_path, "broken", "def run(params):\n    raise ValueError('no good')\n")
    config = {
        "config": {"model": "broken", "maxTrialNum": 2},
        "search_space": {"x": {"_type": "uniform", "_value": [0, 1]}},
    }
    (tmp_path / "space.json").write_text(json.dumps(config))
    ran = run_hpo("run", "--space", "space.json", storage=sqlite_url, cwd=tmp_path)
    assert_one_line_error(ran, 1, "every trial of study", "failed (2)")


def test_studies_whose_names_map_to_one_file_name_keep_apart_folders() -> None:
    def spec(name: str, created: float) -> StudySpec:
        return StudySpec.from_json(
            {
                "version": 3,
                "name": name,
                "search_space": {},
                "params": {},
                "sampler": {"name": "tpe", "options": {}},
                "pruner": {"name": "none", "options": {}},
                "objective": {"target": "m:f", "path": []},
                "metrics": [{"name": "default", "direction": "maximize"}],
                "seed": 1,
                "created_at": created,
                "liveness": {"checkpoint_dir": "/shared/ckpt"},
            }
        )

    long = "x" * 120
    folders = {
        study_directory(spec("a/b", 100.0), 1),
        study_directory(spec("a:b", 100.0), 2),  # the same characters made safe, same second
        study_directory(spec(long + "1", 100.0), 3),  # the same first 100 characters
        study_directory(spec(long + "2", 100.0), 4),
        study_directory(spec("a/b", 100.25), 1),  # another database, the same id and second
    }
    assert len(folders) == 5
    assert all(f.parent == Path("/shared/ckpt") and len(f.name) < 80 for f in folders)


def test_delete_study_removes_its_logs_weights_and_folder(tmp_path: Path, sqlite_url: str) -> None:
    write_module(tmp_path, "talking", TALKING)
    config = {
        "config": {"model": "talking", "maxTrialNum": 1},
        "search_space": {"x": {"_type": "uniform", "_value": [0, 1]}},
    }
    hpo_create_study(tmp_path, config, sqlite_url, "--name", "gone")
    assert run_hpo("worker", "--study", "gone", storage=sqlite_url, cwd=tmp_path).returncode == 0
    deleted = run_hpo("delete-study", "gone", "--yes", storage=sqlite_url)
    assert deleted.returncode == 0, deleted.stderr
    assert "stored chunks of weights and logs" in deleted.stderr
    import sqlalchemy

    engine = sqlalchemy.create_engine(sqlite_url)
    with engine.connect() as conn:
        left = conn.execute(sqlalchemy.text("SELECT count(*) FROM hpo_blobs")).scalar_one()
    assert left == 0


@pytest.mark.slow
@pytest.mark.postgres
def test_workers_through_serve_storage_keep_logs_and_weights_in_the_database(
    tmp_path: Path, pg_url: str
) -> None:
    with serve_storage(pg_url) as grpc_url:
        ran = run_hpo(
            "run",
            "--space",
            str(SEARCH_SPACES / "digits_cnn.json"),
            "--max-trials",
            "1",
            "-p",
            "num_epochs=1",
            "--name",
            "proxied",
            cwd=tmp_path,
            env=hpo_env(grpc_url, **_machine(tmp_path, "worker")),
        )
        assert ran.returncode == 0, ran.stderr
        # Read straight from the database, on another machine: the proxy wrote them there.
        coordinator = hpo_env(pg_url, **_machine(tmp_path, "coordinator"))
        assert "epoch 1/1" in run_hpo("logs", "proxied", "0", env=coordinator).stdout
        saved = tmp_path / "best.pt"
        best = run_hpo("best", "proxied", "--weights", str(saved), env=coordinator)
        assert best.returncode == 0, best.stderr
        through_proxy = run_hpo("logs", "proxied", "0", env=hpo_env(grpc_url))
        assert "epoch 1/1" in through_proxy.stdout


def test_a_command_trial_leaves_nothing_behind_but_its_own_files(
    tmp_path: Path, sqlite_url: str
) -> None:
    """A trial's directory lives until the trial is over: what hpo wrote there goes, what the
    command wrote (its outputs, as NNI's users keep them) stays, until delete-study."""
    script = (
        "import json, os, pathlib\n"
        "params = json.loads(os.environ['HPO_PARAMS'])\n"
        "if params['x'] > 0.5:\n"
        "    (pathlib.Path(os.environ['NNI_OUTPUT_DIR']) / 'model.txt').write_text('mine')\n"
        "print('@hpo final', params['x'])\n"
    )
    (tmp_path / "train.py").write_text(script)
    config = {
        "config": {"maxTrialNum": 6, "objective": {"command": "python3 train.py"}},
        "search_space": {"x": {"_type": "uniform", "_value": [0, 1]}},
    }
    (tmp_path / "space.json").write_text(json.dumps(config))
    machine = _machine(tmp_path, "machine")
    ran = run_hpo(
        "run",
        "--space",
        "space.json",
        "--name",
        "tidy",
        "--seed",
        "3",
        cwd=tmp_path,
        env=hpo_env(sqlite_url, **machine),
    )
    assert ran.returncode == 0, ran.stderr
    done = trials(sqlite_url, "tidy")
    kept = {
        str(p.relative_to(tmp_path)) for p in tmp_path.joinpath("machine").rglob("*") if p.is_file()
    }
    wrote = [t for t in done if t.params["x"] > 0.5]
    assert wrote and len(wrote) < len(done)  # the seed gives both kinds of trial
    assert len(kept) == len(wrote) and all(k.endswith("/model.txt") for k in kept), kept
    deleted = run_hpo("delete-study", "tidy", "--yes", env=hpo_env(sqlite_url, **machine))
    assert deleted.returncode == 0, deleted.stderr
    assert not [p for p in tmp_path.joinpath("machine").rglob("*") if p.is_file()]


@pytest.mark.slow
def test_weights_kept_where_this_machine_cannot_find_them_are_one_line(
    tmp_path: Path, sqlite_url: str
) -> None:
    """An artifact directory this machine does not have (another machine's disk, a share not
    mounted here): one line saying where the weights were looked for, not a traceback."""
    shared = tmp_path / "share"
    ran = run_hpo(
        "run",
        "--space",
        str(SEARCH_SPACES / "digits_cnn.json"),
        "--max-trials",
        "1",
        "-p",
        "num_epochs=1",
        "--artifact-dir",
        str(shared),
        storage=sqlite_url,
        cwd=tmp_path,
    )
    assert ran.returncode == 0, ran.stderr
    assert [p for p in shared.rglob("*") if p.is_file()]  # kept there, not in the database
    for path in shared.rglob("*"):
        if path.is_file():
            path.unlink()  # as seen from a machine that does not mount the share
    best = run_hpo("best", "digits_cnn", "--weights", str(tmp_path / "best.pt"), storage=sqlite_url)
    assert_one_line_error(
        best, 1, "weights of trial 0 are not in its artifact directory", str(shared)
    )
