"""The first process of a command trial: runs the command, and owns every process it starts.

The worker starts ``python -I -S command_guard.py GRACE LIMIT STATUS_FD CONTROL_FD COMMAND`` in
a session of its own; this process runs ``/bin/sh -c COMMAND`` and stays the parent of all of
it to the end. The worker cannot end a command's processes on every path by itself:

- a process the command starts may leave the group (``setsid``) or lose its parent; this
  process is their *subreaper* (``PR_SET_CHILD_SUBREAPER``), so they are re-parented here,
  not to init, and stay findable among its descendants (``/proc``);
- when the shell exits, this process ends what the command left running (a ``sleep &``, a
  TensorBoard, a DataLoader worker that outlived its parent): they would hold the worker's
  output pipes open, and the GPU;
- it enforces the trial's time limit (LIMIT seconds, 0 for none) by its own clock, whatever
  the worker is doing meanwhile (retrying a storage call through a database outage, say);
- told ``end GRACE`` on CONTROL_FD, or when the worker dies (``PR_SET_PDEATHSIG``, or the
  control pipe closing), it ends them all: SIGTERM, then SIGKILL after GRACE seconds. The
  worker sends one message and this process does the rest, so that nothing the worker is
  interrupted by (its own stop timeout) can leave half of it undone.

It tells the worker on STATUS_FD, a line each: ``exit CODE`` when the shell exited (negative:
killed by that signal), ``timeout`` when the limit ended it, ``left N`` when it ended N
processes the command left behind; the pipe closes when it exits, once the last is gone.

SIGTERM to the group is for the command (the worker passes its own stop on): this process
ignores it, through a handler that exec resets. Standard library only: it runs isolated
(``-I -S``) and must start fast. The worker imports :func:`descendants` and
:func:`signal_processes` for the one case this process cannot handle: its own death.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import signal
import sys
import time
from collections.abc import Iterable
from types import FrameType

#: Sent by the kernel to this process when its parent (the worker) dies.
PARENT_DIED = signal.SIGUSR1
#: Seconds the SIGKILL round may take: a process in the kernel dies when it returns.
KILL_WAIT = 10.0
_TICK = 0.05
_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36

Process = tuple[int, int]  # pid, start time (clock ticks after boot): one process, not a pid


class Guard:
    """The command's shell and everything below it, from start to the last process's end."""

    def __init__(self, grace: float, limit: float, status_fd: int, control_fd: int) -> None:
        self.grace = grace
        self.limit = limit
        self.status_fd: int | None = status_fd
        self.control_fd: int | None = control_fd
        # The shell must not inherit them: the pipes close when this process exits.
        os.set_inheritable(status_fd, False)
        os.set_inheritable(control_fd, False)
        self.shell = 0
        self.shell_code: int | None = None
        self.end_grace: float | None = None  # the worker said "end GRACE"
        self.orphaned = False  # the worker is gone
        # Signals wake the select() below through this pipe (their handlers do nothing else).
        self._wake_r, wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(wake_w, False)
        # Not full in practice (it is drained at every wake-up); a warning would go to the log.
        signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
        for signum in (signal.SIGCHLD, PARENT_DIED, signal.SIGTERM):
            signal.signal(signum, _wake_only)

    def run(self, command: str) -> int:
        """Run the command to its end; the shell's exit code (negative: its signal)."""
        self.shell = os.posix_spawn("/bin/sh", ["/bin/sh", "-c", command], dict(os.environ))
        deadline = time.monotonic() + self.limit if self.limit > 0 else None
        timed_out = False
        while True:
            self._reap()
            if self.shell_code is not None or self.orphaned or self.end_grace is not None:
                break
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                timed_out = True
                break
            self._wait(None if deadline is None else deadline - now)
        if self.shell_code is not None:
            self._report(f"exit {self.shell_code}")
            left = self._end_all(self.grace)
            if left:
                self._report(f"left {left}")
        else:
            if timed_out:
                self._report("timeout")
            self._end_all(self.grace if self.end_grace is None else self.end_grace)
            if self.shell_code is None:  # stuck in the kernel past KILL_WAIT
                self.shell_code = -signal.SIGKILL
            self._report(f"exit {self.shell_code}")
        return self.shell_code

    def _end_all(self, grace: float) -> int:
        """End every process below this one: SIGTERM, SIGKILL after ``grace`` seconds.
        Returns how many there were when it began."""
        me = os.getpid()
        self._reap()
        alive = descendants(me)
        count = len(alive)
        if not alive:
            return 0
        signal_processes(alive, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while alive and time.monotonic() < deadline:
            # SIGCHLD wakes this for a child; a grandchild's end is seen at the next tick.
            self._wait(min(_TICK * 2, max(0.0, deadline - time.monotonic())))
            self._reap()
            alive = descendants(me)
        deadline = time.monotonic() + KILL_WAIT
        while alive and time.monotonic() < deadline:
            # New ones may appear while they are killed (a fork in between); each round
            # finds those whose parent died re-parented here.
            signal_processes(alive, signal.SIGKILL)
            self._wait(_TICK)
            self._reap()
            alive = descendants(me)
        return count

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid == self.shell:
                self.shell_code = os.waitstatus_to_exitcode(status)

    def _wait(self, timeout: float | None) -> None:
        """Sleep until a signal, a message from the worker, or the timeout."""
        fds = [self._wake_r] + ([self.control_fd] if self.control_fd is not None else [])
        ready, _, _ = select.select(fds, [], [], timeout)
        if self._wake_r in ready:
            with contextlib.suppress(BlockingIOError):
                if PARENT_DIED in os.read(self._wake_r, 512):
                    self.orphaned = True
        if self.control_fd is not None and self.control_fd in ready:
            data = os.read(self.control_fd, 512)
            if not data:  # the worker closed it: it is gone, or done with this trial
                os.close(self.control_fd)
                self.control_fd = None
                self.orphaned = True
            for line in data.decode(errors="replace").splitlines():
                word, _, value = line.partition(" ")
                if word == "end":
                    self.end_grace = _seconds(value, self.grace)

    def _report(self, line: str) -> None:
        if self.status_fd is None:
            return
        try:
            os.write(self.status_fd, f"{line}\n".encode())
        except OSError:  # the worker is gone: nobody to tell
            os.close(self.status_fd)
            self.status_fd = None


def descendants(root: int) -> list[Process]:
    """Every live process below ``root``, found through ``/proc`` (none elsewhere)."""
    children: dict[int, list[tuple[int, int, bool]]] = {}
    try:
        names = os.listdir("/proc")  # noqa: PTH208 - no pathlib: the guard starts fast
    except OSError:
        return []
    for name in names:
        if not name.isdigit():
            continue
        stat = _stat(int(name))
        if stat is not None:
            state, parent, start = stat
            children.setdefault(parent, []).append((int(name), start, state != "Z"))
    found: list[Process] = []
    todo = [root]
    while todo:
        for pid, start, alive in children.get(todo.pop(), ()):
            todo.append(pid)  # a zombie's children are re-parented, but may not be yet
            if alive:
                found.append((pid, start))
    return found


def signal_processes(processes: Iterable[Process], signum: int) -> None:
    """Send ``signum`` to each process that still is the one found (its pid not reused)."""
    for pid, start in processes:
        _signal_one(pid, start, signum)


def _signal_one(pid: int, start: int, signum: int) -> None:
    try:
        handle = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    except (OSError, AttributeError):  # no pidfd (before Linux 5.3, elsewhere): racier
        stat = _stat(pid)
        if stat is not None and stat[2] == start:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signum)
        return
    try:
        # The handle names one process; its start time says it is the one that was found.
        stat = _stat(pid)
        if stat is not None and stat[2] == start:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                signal.pidfd_send_signal(handle, signum)
    finally:
        os.close(handle)


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, start time) of a process; None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:  # noqa: PTH123 - no pathlib: fast start
            data = file.read()
    except OSError:
        return None
    fields = data[data.rfind(b")") + 2 :].split()  # the name may hold spaces and parentheses
    try:
        return fields[0].decode(), int(fields[1]), int(fields[19])
    except (IndexError, ValueError):
        return None


def _seconds(text: str, default: float) -> float:
    try:
        return max(0.0, float(text))
    except ValueError:
        return default


def _wake_only(signum: int, frame: FrameType | None) -> None:
    """Signals only wake the guard's select (SIGTERM is the command's to act on)."""


def _prctl(option: int, value: int) -> None:
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)


def main(argv: list[str]) -> int:
    grace, limit = float(argv[1]), float(argv[2])
    status_fd, control_fd, command = int(argv[3]), int(argv[4]), argv[5]
    worker = os.getppid()
    guard = Guard(grace, limit, status_fd, control_fd)
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    _prctl(_PR_SET_PDEATHSIG, PARENT_DIED)
    if os.getppid() != worker:  # the worker died before the kernel was told
        return 128 + signal.SIGKILL
    code = guard.run(command)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
