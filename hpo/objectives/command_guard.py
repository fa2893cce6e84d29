"""The first process of a command trial: runs the command, and takes it down with the worker.

The worker starts ``python -I -S command_guard.py GRACE COMMAND`` in a session of its own; this
process then runs ``/bin/sh -c COMMAND`` in the same process group. It exists for one case: a
worker killed outright (SIGKILL, the kernel's OOM killer) cannot end its trial, and an
orphaned trial would go on using its GPU and writing into the directory its retry resumes
from. The kernel tells this process when the worker dies (``PR_SET_PDEATHSIG``, Linux), and it
ends the whole group: SIGTERM, then SIGKILL after GRACE seconds.

Everything else is the worker's: it stops the group itself (pruned, timed out, stopping), and
SIGTERM is left to the command (this process ignores it, through a handler that exec resets).
The exit status is the command's; killed by a signal, this process dies of the same signal.

Standard library only: it runs isolated (``-I``) and must start fast.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from types import FrameType

#: Sent by the kernel to this process when its parent (the worker) dies.
PARENT_DIED = signal.SIGUSR1
_PR_SET_PDEATHSIG = 1


def main(argv: list[str]) -> int:
    grace, command = float(argv[1]), argv[2]
    worker = os.getppid()
    signal.signal(signal.SIGTERM, _leave_to_the_command)
    signal.signal(PARENT_DIED, lambda signum, frame: _end_group(grace))
    _die_with_parent()
    if os.getppid() != worker:  # the worker died before the kernel was told
        return 128 + signal.SIGKILL
    child = subprocess.Popen(["/bin/sh", "-c", command])
    while True:
        try:
            code = child.wait()
            break
        except InterruptedError:  # pragma: no cover - wait retries on EINTR by itself
            continue
    if code < 0:
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    return code


def _leave_to_the_command(signum: int, frame: FrameType | None) -> None:
    """SIGTERM to the group is for the command; this process waits for it to exit."""


def _die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return  # elsewhere a killed worker's trial runs on until it ends by itself
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, PARENT_DIED, 0, 0, 0)


def _end_group(grace: float) -> None:
    group = os.getpgrp()
    os.killpg(group, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and _others_alive():
        time.sleep(0.05)
    os.killpg(group, signal.SIGKILL)  # this process too: nothing is left to do


def _others_alive() -> bool:
    """Whether a child of this process still runs (the command's shell or program)."""
    try:
        pid, _ = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return False
    return pid == 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
