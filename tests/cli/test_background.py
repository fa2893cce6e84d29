"""``hpo run --detach``, ``hpo status`` listing it, ``hpo down``: real background processes.

The run is started as a user would, from a directory with the study's files; the processes it
leaves are found with ``ps`` (not with hpo's own registry), so that ``hpo down`` is seen to end
every one of them: the supervisor, its workers, the dashboard.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import optuna
import pytest

from tests.helpers import (
    assert_one_line_error,
    free_port,
    get_json,
    hpo_env,
    run_hpo,
    trials,
    wait_for,
    write_json,
    write_module,
)
from tests.terminal import in_terminal

#: Each trial runs as many epochs as the file ``epochs`` says when it starts (a few, then
#: endless): the test decides when trials complete and when they run on.
OBJECTIVE = """
import time
from pathlib import Path

def run(params, report):
    epochs = int(Path("epochs").read_text())
    for epoch in range(1, epochs + 1):
        time.sleep(0.05)
        report(params["x"] * epoch, epoch)
    return params["x"]
"""
SPACE = {"x": {"_type": "uniform", "_value": [0, 1]}}
PASSWORD = "s3cret-in-the-url"


def _processes() -> dict[int, tuple[int, str]]:
    """Every live process of the machine: pid → (parent pid, command line), as ps lists them
    (not zombies: ended, waiting for a parent, maybe a slow init, to collect their status)."""
    out = subprocess.run(
        ["ps", "-eo", "pid=,ppid=,stat=,args="], capture_output=True, text=True, check=True
    ).stdout
    found = {}
    for line in out.splitlines():
        pid, ppid, state, *args = line.split(None, 3)
        if not state.startswith("Z"):
            found[int(pid)] = (int(ppid), args[0] if args else "")
    return found


def _tree(root: int) -> set[int]:
    """``root`` and every process below it, now."""
    table = _processes()
    tree, todo = {root}, [root]
    while todo:
        parent = todo.pop()
        for pid, (ppid, _) in table.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                todo.append(pid)
    return tree


def _endless(url: str) -> list[optuna.trial.FrozenTrial]:
    """The running trials past the epochs of the first trials: those that run on."""
    return [
        t
        for t in trials(url, "bg")
        if t.state == optuna.trial.TrialState.RUNNING and max(t.intermediate_values, default=0) > 2
    ]


def _pid_after(stdout: str, what: str) -> int:
    return next(
        int(line.split("pid ")[1].split(")")[0]) for line in stdout.splitlines() if what in line
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[list[str], str]:
    """(storage options of the command, URL of the test's own reads): the default SQLite file
    of the run's directory, or PostgreSQL with a password on the command line (it must reach
    no background process's command line, environment or log)."""
    if request.param == "sqlite":
        return [], f"sqlite:///{tmp_path / 'hpo.db'}"
    from sqlalchemy.engine import make_url

    url = request.getfixturevalue("pg_databases").create()
    with_password = make_url(url).set(password=PASSWORD).render_as_string(hide_password=False)
    return ["--storage", with_password], url


@pytest.mark.slow
def test_a_detached_run_outlives_its_command_shows_in_status_and_hpo_down_ends_it(
    tmp_path: Path, where: tuple[list[str], str]
) -> None:
    options, url = where
    write_module(tmp_path, "epochs_from_file", OBJECTIVE)
    (tmp_path / "epochs").write_text("2")
    config = {"experimentName": "bg", "maxTrialNum": 200, "model": "epochs_from_file"}
    write_json(tmp_path / "space.json", {"config": config, "search_space": SPACE})
    # Started from a terminal, as a user would: the command is the terminal's controlling
    # process, and when it exits the kernel hangs up every process of its foreground group.
    environment = {k: v for k, v in hpo_env().items() if k != "HPO_STORAGE"}
    args = ["run", "--space", "space.json", "--workers", "2", "--pruner", "none", "--detach"]
    args += ["--dashboard", "--dashboard-port", str(port := free_port()), *options]
    command, screen = in_terminal(args, environment, cwd=tmp_path)
    assert command.wait(timeout=600) == 0, screen.text()
    wait_for(lambda: "pause it:" in screen.text(), 60, "the end of the command's output")
    started = screen.text().replace("\r\n", "\n")
    workers_pid = _pid_after(started, "runs in the background")
    log_file = Path(started.split("log:")[1].split()[0])
    assert log_file.is_file()
    assert f"dashboard: http://127.0.0.1:{port}" in started
    assert "hpo down bg" in started and "hpo stop bg" in started
    try:
        # It runs on after its command returned and its terminal hung up: trials complete.
        wait_for(
            lambda: (
                sum(t.state == optuna.trial.TrialState.COMPLETE for t in trials(url, "bg")) >= 2
            ),
            120,
            "trials of the detached run to complete",
        )
        listed = get_json(f"http://127.0.0.1:{port}/api/studies")["study_summaries"]
        assert [s["study_name"] for s in listed] == ["bg"]
        # From now on trials run on, epoch after epoch, until they are stopped.
        (tmp_path / "epochs").write_text("1000000")
        wait_for(lambda: len(_endless(url)) == 2, 120, "two endless trials running")
        status = run_hpo("status", *options, cwd=tmp_path)
        assert status.returncode == 0, status.stderr
        local = status.stdout.split("in the background on this machine")[1]
        assert f"bg     workers    {workers_pid}" in local, status.stdout
        assert "dashboard" in local and f"http://127.0.0.1:{port}" in local
        as_json = json.loads(run_hpo("status", "--json", *options, cwd=tmp_path).stdout)
        assert {p["process"] for p in as_json[0]["background"]} == {"workers", "dashboard"}
        dashboard_pid = next(
            p["pid"] for p in as_json[0]["background"] if p["process"] == "dashboard"
        )
        # The supervisor, its two workers, the dashboard: and no password anywhere.
        processes = _tree(workers_pid) | _tree(dashboard_pid)
        assert len(processes) >= 4, processes
        command_lines = " ".join(_processes()[pid][1] for pid in processes)
        assert PASSWORD not in command_lines + log_file.read_text() + started
    finally:
        ended = run_hpo("down", "bg", *options, cwd=tmp_path)
    assert ended.returncode == 0, ended.stderr
    assert f"workers (pid {workers_pid})" in ended.stderr and "dashboard" in ended.stderr
    assert "killed" not in ended.stderr, ended.stderr  # they stopped on SIGTERM, in time
    assert not processes & set(_processes()), "hpo down left processes behind"
    after = run_hpo("status", *options, cwd=tmp_path)
    assert "in the background" not in after.stdout, after.stdout
    # Its trials, stopped in mid-epoch, are queued again for whoever runs the study next.
    left = trials(url, "bg")
    assert not [t for t in left if t.state == optuna.trial.TrialState.RUNNING]
    again = run_hpo("down", "bg", *options, cwd=tmp_path)
    assert again.returncode == 0 and "nothing of study 'bg' runs in the background" in again.stderr


def test_a_detached_run_that_cannot_start_fails_in_one_line_and_leaves_nothing(
    tmp_path: Path, sqlite_url: str
) -> None:
    config = {"experimentName": "nostart", "maxTrialNum": 2, "model": "no_such_module"}
    write_json(tmp_path / "space.json", {"config": config, "search_space": SPACE})
    failed = run_hpo("run", "--space", "space.json", "--detach", storage=sqlite_url, cwd=tmp_path)
    assert_one_line_error(failed, 1, "workers of study 'nostart' did not start", "no_such_module")
    log_file = Path(failed.stderr.split("(log ")[1].split(")")[0])
    assert "cannot import objective module 'no_such_module'" in log_file.read_text()
    status = run_hpo("status", storage=sqlite_url, cwd=tmp_path)
    assert "in the background" not in status.stdout
    # A bad file fails before anything starts; so does a dashboard port in use.
    write_json(tmp_path / "bad.json", {"x": {"_type": "uniform", "_value": "a"}})
    bad = run_hpo("run", "--space", "bad.json", "--detach", storage=sqlite_url, cwd=tmp_path)
    assert_one_line_error(bad, 2, "bad.json")
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        taken = run_hpo(
            "run", "--space", "space.json", "--detach", "--dashboard", "--dashboard-port", port,
            storage=sqlite_url, cwd=tmp_path,
        )  # fmt: skip
    assert_one_line_error(taken, 1, f"127.0.0.1:{port}", "in use")
    assert "in the background" not in run_hpo("status", storage=sqlite_url, cwd=tmp_path).stdout
    alone = run_hpo("run", "--space", "space.json", "--dashboard", storage=sqlite_url, cwd=tmp_path)
    assert_one_line_error(alone, 2, "--dashboard goes with --detach")
