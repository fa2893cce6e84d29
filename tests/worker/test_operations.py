"""Operations with real processes: killed workers, signals, faulty trials, database outages,
GPU worker supervision, stopping and budgets. Liveness runs at 1 s heartbeats, 3 s grace."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import optuna
import pytest
import sqlalchemy.engine
import torch
from optuna.trial import TrialState

from hpo.optuna_compat import original_number
from tests.helpers import (
    ROOT,
    SEARCH_SPACES,
    counted,
    hpo_create_study,
    hpo_env,
    pg_admin,
    run_hpo,
    serve_storage,
    start_hpo,
    trials,
    wait_for,
    write_json,
    write_module,
)

FAST_LIVENESS = {"heartbeat_interval": 1, "grace_period": 3}
DIGITS_SLOW = {
    # digits at 32 px on the CPU (also where a GPU is): under a second per epoch on two cores,
    # enough to stop one mid-way
    "device": "cpu",
    "dataset": "digits",
    "model": "simple_cnn",
    "resolution": 32,
    "num_epochs": 6,
    "momentum": 0.9,
    "lr": 0.05,
}


#: How long a test waits for a worker to get somewhere: on a machine loaded with other work
#: (load 8 on two cores) a digits epoch takes 20 s rather than one, after 50 s of start-up.
PATIENCE = 900


def wait_while_alive(
    worker: subprocess.Popen[str], predicate: Callable[[], object], what: str
) -> None:
    """Wait for ``predicate``; fail at once, with the worker's stderr, if the worker exits."""
    wait_for(lambda: worker.poll() is not None or predicate(), PATIENCE, what)
    if worker.poll() is not None:
        _, err = worker.communicate()
        raise AssertionError(f"the worker exited ({worker.returncode}) before {what}: {err}")


def reported_epochs(storage: str, name: str) -> int:
    running = [t for t in trials(storage, name) if t.state == TrialState.RUNNING]
    return max((len(t.intermediate_values) for t in running), default=0)


def digits_study(tmp_path: Path, storage: str, name: str, max_trials: int) -> None:
    config = {
        "config": {
            "experimentName": name,
            "objective": "training",
            "maxTrialNum": max_trials,
            "sampler": "random",
            **FAST_LIVENESS,
        },
        "params": DIGITS_SLOW,
        "search_space": {"weight_decay": {"_type": "loguniform", "_value": [1e-5, 1e-3]}},
    }
    # No pruner: a retried trial must run to its end, whatever the other trials reached.
    hpo_create_study(tmp_path, config, storage, "--checkpoint-dir", "ckpt", "--pruner", "none")


# -- liveness -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_killed_workers_trial_is_failed_retried_and_resumed_from_its_checkpoint(
    tmp_path: Path, storage_url: str
) -> None:
    digits_study(tmp_path, storage_url, "killed", max_trials=2)
    a = start_hpo("worker", "--study", "killed", storage=storage_url, cwd=tmp_path)
    wait_while_alive(a, lambda: reported_epochs(storage_url, "killed") >= 2, "two epochs")
    a.send_signal(signal.SIGKILL)
    a.wait()
    [first] = [t for t in trials(storage_url, "killed") if t.state == TrialState.RUNNING]
    # The state file, not the database, says which epoch a retry can resume from: reports are
    # written to the database in batches, so they may lag the file by an epoch or more. Its
    # directory is the first attempt's (the same for every retry of it).
    [state_file] = (tmp_path / "ckpt").rglob(f"trial-{original_number(first)}/state.pt")
    saved_epoch = torch.load(state_file, weights_only=False)["epoch"]

    b = run_hpo("worker", "--study", "killed", storage=storage_url, cwd=tmp_path, timeout=PATIENCE)
    assert b.returncode == 0, b.stderr
    everything = trials(storage_url, "killed")
    failed = next(t for t in everything if t.number == first.number)
    assert failed.state == TrialState.FAIL
    assert failed.user_attrs["hpo:error"].startswith("no heartbeat for 3s")  # liveness did it
    [retry] = [t for t in everything if t.system_attrs.get("failed_trial") == first.number]
    assert retry.state == TrialState.COMPLETE
    assert retry.params == first.params
    assert retry.user_attrs["hpo:seed"] == first.user_attrs["hpo:seed"]
    # It resumed from the epoch the killed attempt had saved, not from scratch.
    assert retry.user_attrs["hpo:resumed_from_epoch"] == saved_epoch >= 2
    assert sorted(retry.intermediate_values) == list(range(1, 7))
    # The budget: exactly 2 trials counted, nothing left running, no checkpoint left over.
    assert len(counted(everything)) == 2 and len(everything) == 3
    assert all(t.state.is_finished() for t in everything)
    assert not list((tmp_path / "ckpt").rglob("*.pt"))


@pytest.mark.slow
def test_sigterm_exits_0_and_the_trial_is_retried(tmp_path: Path, sqlite_url: str) -> None:
    digits_study(tmp_path, sqlite_url, "termed", max_trials=1)
    # The stop timeout is long: the trial must stop at the end of its epoch, not by it.
    a = start_hpo(
        "worker", "--study", "termed", "--stop-timeout", "600", storage=sqlite_url, cwd=tmp_path
    )
    wait_while_alive(a, lambda: reported_epochs(sqlite_url, "termed") >= 1, "an epoch")
    a.send_signal(signal.SIGTERM)
    _, err = a.communicate(timeout=PATIENCE)
    assert a.returncode == 0, err
    assert "stopped by SIGTERM; its trial will be retried" in err
    assert "did not end within" not in err
    [stopped, retry] = trials(sqlite_url, "termed")
    assert stopped.state == TrialState.FAIL
    assert stopped.user_attrs["hpo:error"] == "worker stopped by SIGTERM"
    assert retry.state == TrialState.WAITING and retry.params == stopped.params

    b = run_hpo("worker", "--study", "termed", storage=sqlite_url, cwd=tmp_path, timeout=PATIENCE)
    assert b.returncode == 0, b.stderr
    retry = trials(sqlite_url, "termed")[1]
    assert retry.state == TrialState.COMPLETE
    assert retry.user_attrs["hpo:resumed_from_epoch"] >= len(stopped.intermediate_values)


class _Lines:
    """A process's stderr, read line by line from a thread (a test waits for a line)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        assert process.stderr is not None
        stream = process.stderr
        self._thread = threading.Thread(target=lambda: self.lines.extend(stream), daemon=True)
        self._thread.start()

    def has(self, needle: str) -> bool:
        return any(needle in line for line in self.lines)

    def text(self) -> str:
        self._thread.join(timeout=60)
        return "".join(self.lines)


@pytest.mark.parametrize(
    "command",
    [
        ("worker", "--study", "twice", "--stop-timeout", "600"),
        ("run", "--space", "space.json"),  # the worker runs inside `hpo run`
        ("run", "--space", "space.json", "--workers", "2"),  # its supervisor passes them on
    ],
    ids=["worker", "run", "run-workers"],
)
def test_a_second_signal_stops_now_and_queues_the_trial_again(
    tmp_path: Path, sqlite_url: str, command: tuple[str, ...]
) -> None:
    # The trial would sleep for 10 minutes, and the stop timeout lets it: only the second
    # signal can end it in the test's time.
    write_module(
        tmp_path,
        "sleepy",
        """
        import pathlib, time

        def run(params):
            time.sleep(600)
            pathlib.Path("returned").touch()
            return 1.0
        """,
    )
    # Two trials for two workers: hpo run starts no more workers than the study has trials.
    budget = 2 if "--workers" in command else 1
    config = {
        "config": {
            "experimentName": "twice",
            "model": "sleepy",
            "maxTrialNum": budget,
            **FAST_LIVENESS,
        },
        "search_space": {"x": {"_type": "uniform", "_value": [0, 1]}},
    }
    if command[0] == "worker":
        hpo_create_study(tmp_path, config, sqlite_url)
    else:
        write_json(tmp_path / "space.json", config)
    a = start_hpo(*command, storage=sqlite_url, cwd=tmp_path)
    err = _Lines(a)
    # The trial runs once its worker has imported the objective (`hpo run` creates the study
    # first, `--workers` starts worker processes).
    wait_for(lambda: err.has("trial 0 started"), PATIENCE, "the trial")
    a.send_signal(signal.SIGTERM)
    wait_for(lambda: err.has("SIGTERM: stopping after the current epoch"), 60, "the first stop")
    a.send_signal(signal.SIGTERM)
    a.wait(timeout=300)
    assert a.returncode == 128 + signal.SIGTERM, err.text()
    assert "SIGTERM again: queueing the trial again" in err.text()
    # Each trial that ran (the second worker's may not have started) is failed and queued.
    ran = trials(sqlite_url, "twice")
    stopped = [t for t in ran if t.state == TrialState.FAIL]
    retries = [t for t in ran if t.state == TrialState.WAITING]
    assert 1 <= len(stopped) <= budget and len(ran) == 2 * len(stopped), err.text()
    assert all(t.user_attrs["hpo:error"] == "worker stopped by SIGTERM" for t in stopped)
    assert sorted(repr(r.params) for r in retries) == sorted(repr(t.params) for t in stopped)
    assert all("hpo:error" not in retry.user_attrs for retry in retries)
    assert not (tmp_path / "returned").exists()


@pytest.mark.parametrize(
    ("in_trial", "signals", "code", "said"),
    [
        (False, 2, 143, "SIGTERM again: exiting now"),  # between trials: at once
        (True, 2, None, "exiting once the trial's result is recorded"),
        (True, 3, 143, "SIGTERM again: exiting now"),  # a third: at once, whatever it does
    ],
    ids=["idle", "recording", "third"],
)
def test_repeated_signals_outside_the_objective(
    in_trial: bool, signals: int, code: int | None, said: str
) -> None:
    """GracefulStop in a real process of its own, where the worker would be recording a
    result (in a trial, outside the objective) or between trials."""
    script = f"""
import os, signal, sys, logging
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
from hpo.worker.signals import GracefulStop
stop = GracefulStop(600)
stop.install()
stop.in_trial = {in_trial}
for _ in range({signals}):
    os.kill(os.getpid(), signal.SIGTERM)
print("still here", stop.exit_code, flush=True)
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert said in result.stderr
    if code is None:  # it goes on to record the result, then exits with the stop's code
        assert result.returncode == 0 and result.stdout.split() == ["still", "here", "143"]
    else:
        assert result.returncode == code and "still here" not in result.stdout


def test_an_objective_that_never_reports_is_interrupted_after_the_stop_timeout(
    tmp_path: Path, sqlite_url: str
) -> None:
    # It would sleep for 10 minutes: only the stop timeout can end it in the test's time.
    write_module(
        tmp_path,
        "sleepy",
        """
        import pathlib, time

        def run(params):
            time.sleep(600)
            pathlib.Path("returned").touch()
            return 1.0
        """,
    )
    config = {
        "config": {"experimentName": "quiet", "model": "sleepy", "maxTrialNum": 1, **FAST_LIVENESS},
        "search_space": {"x": {"_type": "uniform", "_value": [0, 1]}},
    }
    hpo_create_study(tmp_path, config, sqlite_url)
    a = start_hpo(
        "worker", "--study", "quiet", "--stop-timeout", "2", storage=sqlite_url, cwd=tmp_path
    )
    wait_for(
        lambda: any(t.state == TrialState.RUNNING for t in trials(sqlite_url, "quiet")),
        60,
        "the trial",
    )
    a.send_signal(signal.SIGINT)
    _, err = a.communicate(timeout=300)
    assert a.returncode == 0, err
    assert "the epoch did not end within 2s: interrupting the trial" in err
    [stopped, retry] = trials(sqlite_url, "quiet")
    assert stopped.state == TrialState.FAIL and retry.state == TrialState.WAITING
    assert not (tmp_path / "returned").exists()


# -- faulty trials ------------------------------------------------------------------------------


def test_faulty_trials_are_recorded_and_the_worker_goes_on(
    tmp_path: Path, storage_url: str
) -> None:
    write_module(
        tmp_path,
        "faulty",
        """
        import math

        def run(params):
            kind = params["kind"]
            if kind == "raises":
                raise ValueError("bad batch norm statistics")
            if kind == "nan":
                return math.nan
            if kind == "memory":
                hog = bytearray(1 << 50)  # a petabyte: refused at once
                return len(hog)
            if kind == "torch-memory":
                import torch
                return float(torch.empty(1 << 48, dtype=torch.uint8).sum())
            return 0.5
        """,
    )
    config = {
        "config": {
            "experimentName": "faulty",
            "model": "faulty",
            "sampler": "grid",
            **FAST_LIVENESS,
        },
        "search_space": {
            "kind": {
                "_type": "choice",
                "_value": ["raises", "nan", "memory", "torch-memory", "fine"],
            }
        },
    }
    hpo_create_study(tmp_path, config, storage_url)
    worker = run_hpo("worker", "--study", "faulty", storage=storage_url, cwd=tmp_path)
    assert worker.returncode == 0, worker.stderr
    assert "Traceback" not in worker.stderr
    by_kind = {t.params["kind"]: t for t in trials(storage_url, "faulty")}
    assert by_kind["raises"].state == TrialState.FAIL
    assert by_kind["raises"].user_attrs["hpo:error"] == "ValueError: bad batch norm statistics"
    assert by_kind["nan"].state == TrialState.PRUNED  # divergence: pruned, by the documented rule
    assert by_kind["nan"].user_attrs["hpo:error"] == "the objective returned nan for 'default'"
    assert by_kind["memory"].state == TrialState.FAIL
    assert by_kind["memory"].user_attrs["hpo:error"].startswith("out of memory: MemoryError")
    assert by_kind["torch-memory"].state == TrialState.FAIL
    assert by_kind["torch-memory"].user_attrs["hpo:error"].startswith("out of memory")
    assert by_kind["fine"].state == TrialState.COMPLETE


def test_a_diverging_training_run_is_pruned_with_its_reason(
    tmp_path: Path, sqlite_url: str
) -> None:
    config = {
        "config": {"experimentName": "diverge", "objective": "training", "sampler": "grid"},
        "params": {"dataset": "digits", "model": "simple_cnn", "num_epochs": 2, "momentum": 0.9},
        "search_space": {"lr": {"_type": "choice", "_value": [1e6, 0.05]}},
    }
    hpo_create_study(tmp_path, config, sqlite_url)
    worker = run_hpo("worker", "--study", "diverge", storage=sqlite_url, cwd=tmp_path)
    assert worker.returncode == 0, worker.stderr
    by_lr = {t.params["lr"]: t for t in trials(sqlite_url, "diverge")}
    assert by_lr[1e6].state == TrialState.PRUNED
    assert (
        by_lr[1e6]
        .user_attrs["hpo:error"]
        .startswith("diverged: training loss became nan in epoch 1")
    )
    assert by_lr[0.05].state == TrialState.COMPLETE


# -- database faults ----------------------------------------------------------------------------


def _short_trials_study(
    tmp_path: Path, storage: str, name: str, max_trials: int, sleep: float = 0.2
) -> None:
    # While a trial runs, a file named after its worker's pid says so (tests kill mid-trial).
    write_module(
        tmp_path,
        "short",
        f"""
        import os, time
        from pathlib import Path

        def run(params):
            marker = Path("running-" + str(os.getpid()))
            marker.touch()
            time.sleep({sleep})
            marker.unlink()
            return params["x"] * params["y"]
        """,
    )
    config = {
        "config": {
            "experimentName": name,
            "model": "short",
            "maxTrialNum": max_trials,
            "sampler": "random",
            **FAST_LIVENESS,
        },
        "search_space": {
            "x": {"_type": "uniform", "_value": [0, 1]},
            "y": {"_type": "uniform", "_value": [0, 1]},
        },
    }
    hpo_create_study(tmp_path, config, storage)


def _assert_exact(storage: str, name: str, n: int) -> list[optuna.trial.FrozenTrial]:
    everything = trials(storage, name)
    assert all(t.state.is_finished() for t in everything), [t.state for t in everything]
    kept = counted(everything)
    assert len(kept) == n
    assert len({json.dumps(t.params, sort_keys=True) for t in kept if t.params}) == len(
        [t for t in kept if t.params]
    )
    return everything


@pytest.mark.slow
@pytest.mark.postgres
def test_workers_survive_their_connections_being_killed(tmp_path: Path, pg_url: str) -> None:
    # 40 trials of 0.5 s on 3 workers take at least 7 s; four cuts a second apart, each while
    # a trial runs, land mid-study on a fast machine as on a slow one.
    _short_trials_study(tmp_path, pg_url, "cut", 40, sleep=0.5)
    database = pg_url.rsplit("/", 1)[1]
    workers = [
        start_hpo("worker", "--study", "cut", storage=pg_url, cwd=tmp_path) for _ in range(3)
    ]
    cuts = 0
    deadline = time.time() + 300
    while cuts < 4 and time.time() < deadline:
        time.sleep(1.0)
        if all(w.poll() is not None for w in workers):
            break
        if not list(tmp_path.glob("running-*")):
            continue
        pg_admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{database}' AND pid <> pg_backend_pid()"
        )
        cuts += 1
    for w in workers:
        _, err = w.communicate(timeout=300)
        assert w.returncode == 0, err
    assert cuts == 4
    _assert_exact(pg_url, "cut", 40)


def _local_cluster() -> str | None:
    """The local PostgreSQL cluster (version) when the tests may restart it."""
    from tests.helpers import PG_SERVER

    if "127.0.0.1" not in PG_SERVER and "localhost" not in PG_SERVER:
        return None
    if os.geteuid() != 0 or not Path("/etc/postgresql").is_dir():
        return None
    versions = sorted(os.listdir("/etc/postgresql"))
    return versions[0] if versions else None


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.serial  # restarts the PostgreSQL server every other test uses
def test_a_postgres_restart_mid_study_loses_and_doubles_nothing(
    tmp_path: Path, pg_url: str
) -> None:
    version = _local_cluster()
    if version is None:
        pytest.skip("restarting PostgreSQL needs the local cluster and root")
    _short_trials_study(tmp_path, pg_url, "restart", 40, sleep=0.3)
    workers = [
        start_hpo("worker", "--study", "restart", storage=pg_url, cwd=tmp_path) for _ in range(4)
    ]
    wait_for(lambda: len(trials(pg_url, "restart")) >= 8, 120, "the study to get going")
    restart = subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert restart.returncode == 0, restart.stderr
    results = [w.communicate(timeout=600) for w in workers]
    for w, (_, err) in zip(workers, results, strict=True):
        assert w.returncode == 0, err
    assert any("storage unreachable" in err for _, err in results)  # they did ride it out
    _assert_exact(pg_url, "restart", 40)


# -- chaos ---------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.serial  # 8 workers and their retries: PostgreSQL's connections
def test_chaos_random_kills_still_give_exactly_the_budget(tmp_path: Path, pg_url: str) -> None:
    # 100 trials of 1.5 s on 8 workers take at least 19 s, while six kills a second apart take
    # about 6 s: the kills land mid-study on a fast machine as on a slow one.
    _short_trials_study(tmp_path, pg_url, "chaos", 100, sleep=1.5)
    rng = random.Random(7)
    workers = [
        start_hpo("worker", "--study", "chaos", storage=pg_url, cwd=tmp_path) for _ in range(8)
    ]
    kills = 0
    deadline = time.time() + 600
    while kills < 6 and time.time() < deadline:
        time.sleep(1.0)
        # Only a worker that is inside a trial counts: killing it must leave a trial to retry.
        busy = [i for i, w in enumerate(workers) if (tmp_path / f"running-{w.pid}").exists()]
        if not busy:
            if all(w.poll() is not None for w in workers):
                break
            continue
        victim = rng.choice(busy)
        workers[victim].send_signal(signal.SIGKILL)
        workers[victim].wait()
        kills += 1
        workers[victim] = start_hpo("worker", "--study", "chaos", storage=pg_url, cwd=tmp_path)
    for w in workers:
        w.communicate(timeout=600)
        assert w.returncode == 0
    everything = _assert_exact(pg_url, "chaos", 100)
    assert kills == 6
    assert len(everything) > 100  # the killed trials were retried
    assert not any(t.state in (TrialState.RUNNING, TrialState.WAITING) for t in everything)


@pytest.mark.slow
@pytest.mark.long  # its size is the point; the chaos and distributed tests run 4-8 workers
@pytest.mark.postgres
@pytest.mark.serial
def test_32_workers_stay_within_a_bounded_number_of_connections(
    tmp_path: Path, pg_url: str
) -> None:
    _short_trials_study(tmp_path, pg_url, "many", 320, sleep=0.05)
    database = pg_url.rsplit("/", 1)[1]
    # Each worker's stderr goes to a file: a pipe nobody reads while 32 workers run would
    # block a talkative worker (and the test with it) once it filled up.
    logs = [tmp_path / f"worker-{i}.err" for i in range(32)]
    workers = []
    for log in logs:
        with log.open("w") as err:
            workers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "hpo", "worker", "--study", "many"],
                    stdout=subprocess.DEVNULL,
                    stderr=err,
                    text=True,
                    cwd=tmp_path,
                    env=hpo_env(pg_url),
                )
            )
    from tests.helpers import admin_connection

    conn = admin_connection()
    server_port = sqlalchemy.engine.make_url(pg_url).port or 5432
    peak = 0  # backends of the database, as the server counts them
    held = 0  # connections the workers hold open at once, as their sockets say
    most = 0  # the most one worker held at once
    while any(w.poll() is None for w in workers):
        with conn.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{database}'")
            peak = max(peak, cur.fetchone()[0])
        open_now = _connections_of([w.pid for w in workers], server_port)
        held = max(held, sum(open_now.values()))
        most = max(most, max(open_now.values(), default=0))
        time.sleep(0.1)
    conn.close()
    errors = [log.read_text() for log in logs]
    # Every worker that did not exit 0, with its exit code (negative: killed by that signal)
    # and the end of its stderr: the cause, not just that something failed.
    failed = [
        f"worker {i} (pid {w.pid}) exited {w.returncode}:\n{_tail(err)}"
        for i, (w, err) in enumerate(zip(workers, errors, strict=True))
        if w.returncode != 0
    ]
    assert not failed, "\n\n".join(failed)
    crowded = [_tail(e) for e in errors if "too many clients" in e]
    assert not crowded, "\n\n".join(crowded)
    _assert_exact(pg_url, "many", 320)
    print(f"peak connections of 32 workers: {held} held, {peak} backends; {most} per worker")
    # The bound is what each worker holds (its pool: one connection and one spare). The
    # server's own count may run past 2 × 32 on a busy machine: the backend of a connection
    # a worker closed (a spare handed back, a worker that finished) lingers there a moment
    # after the client has gone (seen: 7 of 56; 64 at most in ten runs beside two CPU hogs).
    assert most <= 2 and held <= 2 * 32


def _tail(stderr: str, lines: int = 15) -> str:
    return "\n".join(stderr.splitlines()[-lines:])


def _connections_of(pids: list[int], server_port: int) -> dict[int, int]:
    """How many TCP connections to ``server_port`` each live process holds (Linux /proc)."""
    remote = f":{server_port:04X}"
    established = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                if fields[2].endswith(remote) and fields[3] == "01":  # 01: ESTABLISHED
                    established.add(fields[9])  # the socket's inode
    held: dict[int, int] = {}
    for pid in pids:
        with contextlib.suppress(OSError):  # exited meanwhile
            held[pid] = sum(
                _socket_inode(pid, fd) in established for fd in os.listdir(f"/proc/{pid}/fd")
            )
    return held


def _socket_inode(pid: int, fd: str) -> str:
    try:
        link = os.readlink(f"/proc/{pid}/fd/{fd}")
    except OSError:  # closed as it was read
        return ""
    return link[len("socket:[") : -1] if link.startswith("socket:[") else ""


# -- GPU workers (the supervisor, on CPU) ---------------------------------------------------------


@pytest.mark.slow
def test_gpu_supervisor_runs_one_worker_per_slot_and_restarts_a_dead_one(
    tmp_path: Path, sqlite_url: str
) -> None:
    write_module(
        tmp_path,
        "gpu_probe",
        """
        import os, time
        from pathlib import Path

        def run(params):
            marker = Path(os.environ["PROBE_DIR"]) / "crashed-once"
            if params["x"] > 0.5 and not marker.exists():
                marker.touch()
                os._exit(3)  # a worker dying hard, as when the kernel kills it
            time.sleep(0.3)
            return {"default": params["x"], "gpu": float(os.environ["CUDA_VISIBLE_DEVICES"])}
        """,
    )
    config = {
        "config": {
            "experimentName": "gpus",
            "model": "gpu_probe",
            "maxTrialNum": 16,
            "sampler": "random",
            **FAST_LIVENESS,
        },
        "search_space": {"x": {"_type": "uniform", "_value": [0, 1]}},
    }
    hpo_create_study(tmp_path, config, sqlite_url)
    # --gpus names GPUs the machine has: this one has none, so nvidia-smi here lists two.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "nvidia-smi").write_text("#!/bin/sh\nprintf '0\\n1\\n'\n")
    (bin_dir / "nvidia-smi").chmod(0o755)
    env = {
        **os.environ,
        "HPO_STORAGE": sqlite_url,
        "PROBE_DIR": str(tmp_path),
        "PYTHONUNBUFFERED": "1",
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "hpo",
            "worker",
            "--study",
            "gpus",
            "--gpus",
            "0,1",
            "--trials-per-gpu",
            "2",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "starting 4 workers: gpu0, gpu0.1, gpu1, gpu1.1" in result.stderr
    assert "exited with code 3: starting it again" in result.stderr
    assert "[gpu1.1]" in result.stderr  # each child labels its lines
    everything = _assert_exact(sqlite_url, "gpus", 16)
    done = [t for t in everything if t.state == TrialState.COMPLETE]
    assert {t.user_attrs["hpo:metrics"]["gpu"] for t in done} == {0.0, 1.0}
    assert (tmp_path / "crashed-once").exists()


def test_a_gpu_worker_that_stops_itself_is_not_started_again(
    tmp_path: Path, sqlite_url: str
) -> None:
    """A child that exits 1 or 2 said why (here: this machine lacks the data set); starting it
    again would only say it again (or fail ten more trials)."""
    created = run_hpo(
        "create-study",
        "--space",
        str(SEARCH_SPACES / "cifar10_simplecnn_lr.json"),
        "-p",
        f"data_dir={tmp_path / 'missing'}",
        "--name",
        "nodata",
        storage=sqlite_url,
    )
    assert created.returncode == 0, created.stderr
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "nvidia-smi").write_text("#!/bin/sh\nprintf '0\\n1\\n'\n")
    (bin_dir / "nvidia-smi").chmod(0o755)
    env = hpo_env(sqlite_url, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    result = run_hpo("worker", "--study", "nodata", "--gpus", "all", env=env)
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("cannot run the trials") == 2  # once per GPU, not again
    assert "exited with code" not in result.stderr  # never restarted
    assert "gpu0 stopped with code 1: not starting it again" in result.stderr


@pytest.mark.parametrize("gpus", ["all", "99", "0"])
def test_gpus_the_machine_lacks_are_one_line(tmp_path: Path, sqlite_url: str, gpus: str) -> None:
    if subprocess.run(["which", "nvidia-smi"], capture_output=True).returncode == 0:
        pytest.skip("this machine has nvidia-smi")
    result = run_hpo("worker", "--study", "x", "--gpus", gpus, storage=sqlite_url)
    assert result.returncode == 1 and "no NVIDIA GPU found" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1


# -- lifecycle -----------------------------------------------------------------------------------


def test_hpo_stop_lets_workers_finish_their_trial_and_set_budget_raises_it(
    tmp_path: Path, sqlite_url: str
) -> None:
    # 1-s trials: after two, 10 s of budget are left for `hpo stop` to start (about a second)
    # and for the worker to notice (it re-reads the flag every 2 s) on a slow machine too.
    _short_trials_study(tmp_path, sqlite_url, "life", 12, sleep=1.0)
    worker = start_hpo("worker", "--study", "life", storage=sqlite_url, cwd=tmp_path)
    wait_for(
        lambda: sum(t.state.is_finished() for t in trials(sqlite_url, "life")) >= 2,
        60,
        "two trials",
    )
    assert run_hpo("stop", "life", storage=sqlite_url).returncode == 0
    _, err = worker.communicate(timeout=60)
    assert worker.returncode == 0 and "the study was stopped (hpo stop)" in err
    stopped_at = trials(sqlite_url, "life")
    assert all(t.state.is_finished() for t in stopped_at) and len(stopped_at) < 12

    assert run_hpo("resume", "life", storage=sqlite_url).returncode == 0
    raised = run_hpo("set-budget", "life", "--max-trials", "14", storage=sqlite_url)
    assert raised.returncode == 0 and "budget: 14 trials (was 12 trials)" in raised.stderr
    rest = run_hpo("worker", "--study", "life", storage=sqlite_url, cwd=tmp_path)
    assert rest.returncode == 0, rest.stderr
    _assert_exact(sqlite_url, "life", 14)


def test_set_budget_past_a_grid_keeps_one_trial_per_point(tmp_path: Path, sqlite_url: str) -> None:
    write_module(tmp_path, "product", "def run(params):\n    return params['a'] * params['b']\n")
    config = {
        "config": {
            "experimentName": "grid",
            "model": "product",
            "sampler": "grid",
            "maxTrialNum": 4,
        },
        "params": {"a": 3, "b": 0.5},
        "search_space": {
            "a": {"_type": "choice", "_value": [1, 2, 3]},
            "b": {"_type": "choice", "_value": [0.5, 1.0]},
        },
    }
    hpo_create_study(tmp_path, config, sqlite_url)
    raised = run_hpo("set-budget", "grid", "--max-trials", "20", storage=sqlite_url)
    assert raised.returncode == 0, raised.stderr
    assert "the grid has 6 combinations and the baseline: budget cut to 7 trials" in raised.stderr
    assert "budget: 7 trials (was 4 trials)" in raised.stderr
    ran = run_hpo("worker", "--study", "grid", storage=sqlite_url, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    # A worker started later finds the budget used up instead of running a point again.
    again = run_hpo("worker", "--study", "grid", storage=sqlite_url, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    everything = trials(sqlite_url, "grid")
    assert len(everything) == 7
    points = sorted((t.params["a"], t.params["b"]) for t in everything[1:])
    assert points == [(a, b) for a in (1, 2, 3) for b in (0.5, 1.0)]


# -- gRPC storage proxy ----------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.postgres
def test_workers_through_serve_storage_keep_the_budget_and_liveness(
    tmp_path: Path, pg_url: str
) -> None:
    _short_trials_study(tmp_path, pg_url, "proxied", 30, sleep=0.3)
    with serve_storage(pg_url) as grpc_url:
        workers = [
            start_hpo("worker", "--study", "proxied", storage=grpc_url, cwd=tmp_path)
            for _ in range(3)
        ]
        wait_for(
            lambda: sum(t.state.is_finished() for t in trials(pg_url, "proxied")) >= 4,
            120,
            "progress",
        )
        marker = tmp_path / f"running-{workers[0].pid}"
        wait_for(marker.exists, 60, "worker 0 to be inside a trial")
        workers[0].send_signal(signal.SIGKILL)  # its trial is failed by the server's watcher
        workers[0].wait()
        for w in workers[1:]:
            _, err = w.communicate(timeout=300)
            assert w.returncode == 0, err
        everything = _assert_exact(pg_url, "proxied", 30)
        assert any(t.system_attrs.get("failed_trial") is not None for t in everything)
