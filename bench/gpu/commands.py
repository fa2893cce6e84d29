"""Running the check's commands under a deadline: each in its own session, killed with every
process it started when its step's time runs out, its output logged."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .plan import DRIVER, ROOT, Profile


class StepTimeoutError(RuntimeError):
    """A command ran into its step's time limit (it and its children were killed)."""


class StepError(RuntimeError):
    """A command of a step failed; the message ends with the tail of its output."""


class Context:
    """What every step shares: the profile, folders, the log, the child environment."""

    def __init__(self, profile: Profile, data: Path, out: Path, work: Path) -> None:
        self.profile = profile
        self.full = data
        self.out = out
        self.work = work
        self.small = work / f"cifar10-small-{profile.small_train}-{profile.small_test}"
        self.db = work / "db"
        self.log_file = (out / "steps.log").open("w", encoding="utf-8")
        path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
        self.env = {
            **os.environ,
            "PYTHONPATH": path,
            "PYTHONUNBUFFERED": "1",
            # Decoded data sets and trial checkpoints stay in the work folder, shared by steps.
            "HPO_CACHE_DIR": str(work / "cache"),
        }
        self.env.pop("HPO_STORAGE", None)  # every command names its storage

    @property
    def trial_data(self) -> Path:
        return self.small if self.profile.trials_on_small else self.full

    def log(self, text: str) -> None:
        self.log_file.write(text if text.endswith("\n") else text + "\n")
        self.log_file.flush()

    def sqlite(self, name: str) -> str:
        return f"sqlite:///{self.db / f'{name}.db'}"

    def command(self, argv: list[str], deadline: float, label: str) -> str:
        """Run ``argv`` (in its own session) until ``deadline``; its output, or StepError."""
        timeout = deadline - time.time()
        if timeout <= 1:
            raise StepTimeoutError(f"no time left for {label}")
        self.log(f"$ {shlex.join(argv)}   # limit {timeout:.0f} s")
        started = time.time()
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop_tree(process)
            output, _ = process.communicate()
            self.log(output or "")
            self.log(f"# killed after {time.time() - started:.0f} s (step limit)")
            raise StepTimeoutError(f"{label} ran into the step's limit: killed") from None
        self.log(output)
        self.log(f"# exit {process.returncode} after {time.time() - started:.1f} s")
        if process.returncode != 0:
            tail = " | ".join(line for line in output.strip().splitlines()[-3:])
            raise StepError(f"{label} exited {process.returncode}: {tail}")
        return output

    def hpo(self, args: list[str], deadline: float) -> str:
        return self.command([sys.executable, "-m", "hpo", *args], deadline, f"hpo {args[0]}")

    def measure(self, kind: str, deadline: float) -> dict[str, Any]:
        """Run ``_measure KIND`` of this file in a subprocess; its JSON result."""
        result = self.work / f"{kind}.json"
        result.unlink(missing_ok=True)
        argv = [sys.executable, str(DRIVER), "_measure", kind]
        argv += ["--profile", self.profile.name, "--full", str(self.full)]
        argv += ["--small", str(self.small), "--result", str(result)]
        self.command(argv, deadline, f"_measure {kind}")
        loaded: dict[str, Any] = json.loads(result.read_text())
        return loaded


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (read from /proc), children first found first."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: the fields follow the last ')'.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        for child in parents.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def stop_tree(process: subprocess.Popen[str]) -> None:
    """Kill a command that ran out of time, and every process it started.

    ``hpo worker --gpus`` starts its workers in sessions of their own (so a Ctrl-C reaches
    them once, through it), so killing the command's process group would orphan them, still
    holding the GPU: the tree is read first and each of its processes is killed by id.
    """
    tree = descendants(process.pid) if Path("/proc").is_dir() else []
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    for pid in tree:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
