"""A pseudo-terminal for the tests of what hpo does in a terminal: redrawing a table in place,
Ctrl-C, a terminal that goes away (its hang-up)."""

from __future__ import annotations

import fcntl
import os
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path


class Screen:
    """Everything a process wrote to a pseudo-terminal, read from its master side."""

    def __init__(self, master: int) -> None:
        self.master = master
        self.data = b""
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # the process closed the terminal
                return
            if not chunk:
                return
            with self.lock:
                self.data += chunk

    def text(self) -> str:
        with self.lock:
            return self.data.decode(errors="replace")


def in_terminal(
    args: list[str], env: dict[str, str], cwd: Path | None = None
) -> tuple[subprocess.Popen[bytes], Screen]:
    """``hpo ARGS`` with a pseudo-terminal of 160 columns as its controlling terminal."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))

    def take_terminal() -> None:  # the new session's controlling terminal: Ctrl-C reaches it
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    process = subprocess.Popen(
        [sys.executable, "-m", "hpo", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=cwd,
        env={**env, "TERM": "xterm-256color", "COLUMNS": "160", "LINES": "40"},
        start_new_session=True,
        preexec_fn=take_terminal,
    )
    os.close(slave)
    return process, Screen(master)
