"""One run of a command trial, from the worker's side: its guard, its output, its results.

The command runs under :mod:`hpo.objectives.command_guard`, which owns its processes: it ends
them when the command exits (what it left running), at the time limit, when told to, and when
the worker dies. The worker reads the command's output and the guard's status in a thread
(:mod:`hpo.objectives.command_io`) and, in its own thread, passes results on to the storage
and the pruner; a storage call that waits out a database outage delays only that. The time
limit counts the command's own running time, on the guard's clock: a command that finished
in time is never failed for the time its results took to reach the storage.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from hpo import attrs
from hpo.objectives import command_guard
from hpo.objectives.base import Attempt, AttemptInterrupted, AttemptKilled
from hpo.objectives.channel import (
    METRICS_FILE,
    MetricsFile,
    Reported,
    parse_stdout_line,
    split_metric,
)
from hpo.objectives.command_io import Pump, Stream
from hpo.objectives.outcome import Metric, Outcome, TrialFailedError, outcome_of
from hpo.text import duration

log = logging.getLogger("hpo.worker")

#: Seconds between SIGTERM and SIGKILL when a trial's processes are ended.
KILL_GRACE = 10.0
#: The same, for a command that was passed the worker's SIGTERM and had its stop timeout.
STOPPED_GRACE = 1.0
#: How often the worker looks at a running command (its metrics, its stop).
POLL_SECONDS = 0.05
#: Seconds the worker lets the guard take beyond its own grace and kill round before it
#: kills what it can find itself (a guard stopped or killed by the command).
GUARD_SPARE = 5.0
#: Seconds the output may take to end once the guard is gone.
READ_GRACE = 5.0
#: Lines at the end of stderr kept in ``hpo:error`` for a failed command.
STDERR_LINES = 5
GUARD = Path(command_guard.__file__)


@dataclass(frozen=True)
class Launch:
    """What one run needs from its objective."""

    command: str
    directory: str
    env: dict[str, str]
    metrics: tuple[Metric, ...]
    max_seconds: float | None


class CommandRun:
    """One running command: its guard, its output reader, its results."""

    def __init__(self, launch: Launch, attempt: Attempt, log_file: IO[str]) -> None:
        self.launch = launch
        self.attempt = attempt
        self.metric = launch.metrics[0].name
        self.lines: queue.Queue[Reported | TrialFailedError] = queue.Queue()
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=STDERR_LINES)
        self.log_lock = threading.Lock()
        self.log_file = log_file
        self.metrics_file = MetricsFile(attempt.directory / METRICS_FILE)
        self.step = 0
        self.unflushed = False
        self.final: Any = None
        self.step_metrics: dict[str, dict[str, float]] = {}
        # What the guard said: the shell's exit code, whether the time limit ended it.
        self.exit_code: int | None = None
        self.timed_out = False
        self.ended = threading.Event()  # the command is over (or its guard gone)
        self.stop_sent = False
        self.kill_sent = False  # hpo kill: the guard was told to end the command
        self.closed = False
        self.process, self.control, self.pump = self._start()

    def _start(self) -> tuple[subprocess.Popen[bytes], int, Pump]:
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        status_r, status_w = os.pipe()
        control_r, control_w = os.pipe()
        limit = self.launch.max_seconds or 0
        try:
            process = subprocess.Popen(
                # -I -S: isolated and without site-packages, it starts in a fraction of the time.
                [
                    *(sys.executable, "-I", "-S", str(GUARD), str(KILL_GRACE), str(limit)),
                    *(str(status_w), str(control_r), self.launch.command),
                ],
                cwd=self.launch.directory,
                env=self.launch.env,
                stdin=subprocess.DEVNULL,
                stdout=out_w,
                stderr=err_w,
                start_new_session=True,
                pass_fds=(status_w, control_r),
            )
        except BaseException:
            for fd in (out_r, err_r, status_r, control_w):
                os.close(fd)
            raise
        finally:
            for fd in (out_w, err_w, status_w, control_r):
                os.close(fd)
        pump = Pump(
            [
                Stream(out_r, self._stdout_line),
                Stream(err_r, self._stderr_line),
                Stream(status_r, self._status_line, self.ended.set),
            ]
        )
        return process, control_w, pump

    def wait(self) -> Outcome:
        try:
            while True:
                ended = self.ended.wait(POLL_SECONDS)
                self._take_results()
                if ended:
                    break
                if self.attempt.killed() and not self.kill_sent:
                    # The guard ends every process of the command (SIGTERM, then SIGKILL).
                    self._tell(f"end {KILL_GRACE}")
                    self.kill_sent = True
                if self.attempt.should_stop() and not self.stop_sent:
                    # Passed on: the command may save its state; the worker's stop timeout
                    # interrupts this wait if it takes too long.
                    self._signal_group(signal.SIGTERM)
                    self.stop_sent = True
            if self.timed_out:
                limit = duration(self.launch.max_seconds or 0)
                raise TrialFailedError(
                    f"ran longer than its time limit (maxTrialDuration {limit}): stopped"
                )
            _shielded(self.close)
            self._take_results()  # what it printed last
        finally:
            _shielded(self.close)
        code = self.exit_code if self.exit_code is not None else self.process.returncode
        if self.kill_sent:
            raise AttemptKilled
        if self.stop_sent and (code != 0 or self.final is None):
            raise AttemptInterrupted  # queued again: the retry resumes from what it saved
        return self._outcome(code)

    def close(self) -> None:
        """End whatever of the command still runs, and stop reading its output. Safe to call
        again (an interrupted call is run again from the start)."""
        if self.closed:
            return
        if self.process.poll() is None:
            if self.exit_code is None:  # still running; else the guard ends what it left
                grace = STOPPED_GRACE if self.stop_sent else KILL_GRACE
                self._tell(f"end {grace}")
            else:
                grace = KILL_GRACE
            try:
                self.process.wait(timeout=grace + command_guard.KILL_WAIT + GUARD_SPARE)
            except subprocess.TimeoutExpired:
                self._kill_everything()
        elif self.exit_code is None:  # the guard was killed: what is left of its group
            self._signal_group(signal.SIGKILL)
        if not self.pump.finish(READ_GRACE):
            self._log(
                "--- hpo: stopped reading the command's output: a process outside the trial "
                "still holds it open ---\n"
            )
        with contextlib.suppress(OSError):
            os.close(self.control)
        self.closed = True

    def _kill_everything(self) -> None:
        """The guard did not end in time (the command stopped or killed it): kill what can be
        found of the command, the guard last (its end re-parents what is left to init)."""
        log.warning("trial %d: its guard did not end its command: killing it", self.attempt.number)
        command_guard.signal_processes(command_guard.descendants(self.process.pid), signal.SIGKILL)
        self._signal_group(signal.SIGKILL)
        self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=command_guard.KILL_WAIT)

    def _tell(self, message: str) -> None:
        with contextlib.suppress(OSError):  # the guard is gone: it has ended everything
            os.write(self.control, f"{message}\n".encode())

    def _signal_group(self, signum: int) -> None:
        # The guard leads the group and is not reaped before this: its id is not reused.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)

    def _take_results(self) -> None:
        reports = self.metrics_file.read()
        if not reports and self.lines.empty() and self.unflushed:
            # Quiet now: what it reported reaches the storage (and the dashboard) at once,
            # not only with its next result, which may be an hour away.
            self.attempt.flush()
            self.unflushed = False
        while True:
            try:
                item = self.lines.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, TrialFailedError):
                raise item
            reports.append(item)
        for reported in reports:
            if reported.final:
                self.final = reported.value
                continue
            value, extras = split_metric(reported.value, self.metric)
            self.step = reported.step or self.step + 1
            if extras:
                self.step_metrics[str(self.step)] = extras
            self.unflushed = True
            self.attempt.report(value, self.step)  # may raise optuna.TrialPruned

    def _outcome(self, code: int) -> Outcome:
        if code != 0:
            raise TrialFailedError(f"the command {_status(code)}{self._stderr_end()}")
        if self.final is None:
            raise TrialFailedError(
                "the command exited 0 without a final result (nni.report_final_result or an "
                f"'@hpo final VALUE' line){self._stderr_end()}"
            )
        outcome = outcome_of(self.final, self.launch.metrics)
        if self.step_metrics:
            outcome.attrs[attrs.STEP_METRICS] = self.step_metrics
        return outcome

    def _stderr_end(self) -> str:
        tail = [line.strip() for line in self.stderr_tail if line.strip()]
        return f": {' | '.join(tail)}" if tail else ""

    def _stdout_line(self, line: str) -> None:
        self._log(line)
        try:
            reported = parse_stdout_line(line)
        except TrialFailedError as exc:
            self.lines.put(exc)
            return
        if reported is not None:
            self.lines.put(reported)

    def _stderr_line(self, line: str) -> None:
        self._log(line)
        self.stderr_tail.append(line)

    def _status_line(self, line: str) -> None:
        word, _, value = line.strip().partition(" ")
        if word == "exit" and value.lstrip("-").isdigit():
            self.exit_code = int(value)
            self.ended.set()
        elif word == "timeout":
            self.timed_out = True
            self.ended.set()
        elif word == "left":
            self._log(f"--- hpo: ended {value} process(es) the command left running ---\n")

    def _log(self, line: str) -> None:
        with self.log_lock:
            self.log_file.write(line)
            self.log_file.flush()


def _shielded(step: Callable[[], None]) -> None:
    """Run a clean-up step to its end, even when the worker's stop timeout (or a second
    signal) interrupts it: it is run again, and the interrupt dropped, as the trial is ending
    anyway (the worker remembers that it was told to stop). Ctrl-C is raised after it."""
    interrupted: KeyboardInterrupt | None = None
    while True:
        try:
            step()
            break
        except AttemptInterrupted:
            continue
        except KeyboardInterrupt as exc:
            interrupted = exc
    if interrupted is not None:
        raise interrupted


def _status(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"was killed by {name}"
    return f"exited with status {code}"
