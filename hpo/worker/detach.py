"""Starting a study's workers and dashboard in the background, and ending them.

``hpo run --detach`` starts the same ``hpo run`` again as a process of its own session (it
survives the terminal that started it: no hang-up reaches it), its output in a log file, with
``HPO_DETACHED`` naming a file that its first worker creates once it runs (:func:`announce_running`:
the study loaded, its objective imported, this machine able to run it). The foreground command
waits for that file or for the process to end, so it returns only once the workers are running,
or fails in one line with the reason from the log. The storage URL reaches every process started
here through a pipe (``HPO_STORAGE_FD``), never its command line or environment.

Ending them (``hpo down``): SIGTERM to each main process, as Ctrl-C would (the workers finish or
interrupt their epoch, the trial is retried later); what still runs after the timeout, the
processes below it included, is killed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from hpo import env
from hpo.errors import HpoError
from hpo.storage.credentials import url_pipe
from hpo.worker.local_runs import LocalRun, process_start

#: How often a waiting command looks again (seconds).
POLL = 0.1
#: The end of a log read for its last error line.
LOG_TAIL_BYTES = 65536
#: Seconds to wait for killed processes to be gone (one in uninterruptible sleep may linger).
KILL_PATIENCE = 10.0


def announce_running() -> None:
    """A worker of a detached run is running: tell the command waiting in the foreground."""
    ready = os.environ.get(env.DETACHED)
    if ready:
        with contextlib.suppress(OSError):  # the foreground command may be gone: no matter
            Path(ready).touch()


def is_background_half() -> bool:
    """This process is the background run that ``hpo run --detach`` started."""
    return bool(os.environ.get(env.DETACHED))


def without_storage(args: Sequence[str]) -> list[str]:
    """The command line without its ``--storage`` (its URL goes through a pipe instead)."""
    kept: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == "--storage":
            skip = True
        elif not arg.startswith("--storage="):
            kept.append(arg)
    return kept


def spawn(
    args: Sequence[str], log: Path, storage_url: str, extra_env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """``hpo ARGS`` in a session of its own, stdout and stderr appended to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    url = url_pipe(storage_url)
    child_env = {k: v for k, v in os.environ.items() if k not in (env.STORAGE, env.STORAGE_FD)}
    child_env.update({env.STORAGE_FD: str(url), "PYTHONUNBUFFERED": "1", **(extra_env or {})})
    try:
        with log.open("ab") as out:
            return subprocess.Popen(
                [sys.executable, "-m", "hpo", *args],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=child_env,
                start_new_session=True,
                pass_fds=(url,),
            )
    finally:
        os.close(url)


def wait_ready(
    process: subprocess.Popen[bytes], ready: Path, log: Path, patience: float
) -> int | None:
    """None once ``ready`` exists; the exit code when the process ended without it."""
    deadline = time.monotonic() + patience
    while not ready.exists():
        code = process.poll()
        if code is not None:
            return None if ready.exists() else code
        if time.monotonic() > deadline:
            raise HpoError(
                f"the background run (pid {process.pid}) has not started its workers after "
                f"{patience:.0f}s; it may still: see {log}"
            )
        time.sleep(POLL)
    return None


def wait_listening(
    process: subprocess.Popen[bytes], host: str, port: int, log: Path, patience: float
) -> int | None:
    """None once something listens on ``host:port``; the exit code when the process ended
    first."""
    deadline = time.monotonic() + patience
    while (code := process.poll()) is None:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
            return None
        if time.monotonic() > deadline:
            raise HpoError(
                f"the dashboard (pid {process.pid}) is not listening on {host}:{port} after "
                f"{patience:.0f}s: see {log}"
            )
        time.sleep(POLL)
    return code


def first_error(log: Path) -> str:
    """Why a background process ended, from its log: its first ``error:`` line (the cause;
    those after it say what it led to: a supervisor giving its workers up), else its last
    line."""
    try:
        with log.open("rb") as f:
            f.seek(max(0, log.stat().st_size - LOG_TAIL_BYTES))
            lines = [s.strip() for s in f.read().decode(errors="replace").splitlines()]
    except OSError:
        return ""
    lines = [s for s in lines if s]
    for line in lines:
        label, found, reason = line.partition("error: ")
        if found and (not label or label.startswith("[")):  # "error: …", "[gpu0] error: …"
            return reason
    return lines[-1] if lines else ""


# -- ending them ----------------------------------------------------------------------------------


def _children() -> dict[int, list[tuple[int, str]]]:
    """parent pid → its children as (pid, start time), from /proc (empty off Linux)."""
    tree: dict[int, list[tuple[int, str]]] = {}
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                stat = Path(entry.path, "stat").read_text()
                fields = stat[stat.rfind(")") + 2 :].split()
                # state is field 3, the parent pid field 4, the start time field 22.
                tree.setdefault(int(fields[1]), []).append((int(entry.name), fields[22 - 3]))
    return tree


def process_tree(pid: int) -> list[tuple[int, str]]:
    """Every process below ``pid`` now, as (pid, start time): the workers of a supervisor, the
    command trials of a worker, and theirs."""
    tree = _children()
    found: list[tuple[int, str]] = []
    todo = [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child[0])
    return found


def _alive(processes: Sequence[tuple[int, str]]) -> list[tuple[int, str]]:
    return [(pid, start) for pid, start in processes if process_start(pid) == start]


def end_runs(runs: Sequence[LocalRun], timeout: float) -> bool:
    """SIGTERM to every run, then wait for each and everything below it to end; what still
    runs after ``timeout`` seconds is killed. True when all ended on their own."""
    processes: list[tuple[int, str]] = []
    for run in runs:
        if not run.alive():
            continue
        processes += [(run.pid, run.started), *process_tree(run.pid)]
        with contextlib.suppress(ProcessLookupError):
            os.kill(run.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(processes) and time.monotonic() < deadline:
        time.sleep(POLL)
    left = _alive(processes)
    for pid, _ in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + KILL_PATIENCE
    while _alive(left) and time.monotonic() < deadline:  # the kernel takes a moment
        time.sleep(POLL)
    return not left
