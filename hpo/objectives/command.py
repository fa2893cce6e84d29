"""A command as the objective (NNI's ``trialCommand``): one child process per trial.

The command runs through ``/bin/sh`` in its code directory, in a process group of its own
(under :mod:`hpo.objectives.command_guard`, which ends it if the worker dies). It gets:

- its params: through the ``nni`` shim (NNI's ``parameter.cfg``), as JSON in ``HPO_PARAMS``
  and in the file named by ``HPO_PARAMS_FILE``;
- NNI's trial environment (``NNI_PLATFORM``, ``NNI_EXP_ID``, ``NNI_TRIAL_JOB_ID``,
  ``NNI_SYS_DIR``, ``NNI_OUTPUT_DIR``, ``NNI_TRIAL_SEQ_ID``, ``NNI_CODE_DIR``) and hpo's
  (``HPO_TRIAL_NUMBER``, ``HPO_SEED``, ``HPO_RETRY``, ``HPO_TRIAL_DIR``);
- a directory of its own (``NNI_OUTPUT_DIR`` = ``HPO_TRIAL_DIR``), the same for a retry of the
  trial, so that a script that saves checkpoints there can resume;
- ``python3`` / ``python`` meaning hpo's own interpreter (its directory first on ``PATH``);
- its GPUs in ``CUDA_VISIBLE_DEVICES`` when the study asks for a number per trial.

Its stdout and stderr go to ``trial.log`` in its directory (the path is stored with the trial
as ``hpo:log``). Results come back through :mod:`hpo.objectives.channel`; every intermediate
one reaches the pruner at once. Pruned, past its time limit or with the worker stopping, the
whole group is ended: SIGTERM, then SIGKILL after ``KILL_GRACE`` seconds (a stopping worker
first gives it its ``--stop-timeout``). A non-zero exit, a kill or no final result fails the
trial, with the exit status and the end of stderr in ``hpo:error``.
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from hpo import attrs
from hpo.objectives.base import Attempt, AttemptInterrupted, Objective
from hpo.objectives.channel import (
    METRICS_FILE,
    MetricsFile,
    Reported,
    parse_stdout_line,
    split_metric,
)
from hpo.objectives.outcome import Metric, Outcome, TrialFailedError, outcome_of
from hpo.objectives.target import ObjectiveSpec
from hpo.text import duration

log = logging.getLogger("hpo.worker")

#: Seconds between SIGTERM and SIGKILL when a trial's process group is ended.
KILL_GRACE = 10.0
#: The same, for a command that was passed the worker's SIGTERM and had its stop timeout.
STOPPED_GRACE = 1.0
#: How often the worker looks at a running command (its metrics, the clock, its stop).
POLL_SECONDS = 0.05
#: Lines at the end of stderr kept in ``hpo:error`` for a failed command.
STDERR_LINES = 5
GUARD = Path(__file__).with_name("command_guard.py")
SHIM = Path(__file__).with_name("shim")
LOG_FILE = "trial.log"


class CommandObjective(Objective):
    """Runs the study's command once per trial."""

    def __init__(self, spec: ObjectiveSpec, metrics: Sequence[Metric]) -> None:
        super().__init__(metrics)
        assert spec.command is not None
        self.command = spec.command
        self.directory = spec.directory
        self.max_seconds = spec.max_seconds
        self.gpus = gpu_setting(spec.gpus)

    def run(self, params: dict[str, Any], attempt: Attempt) -> Outcome:
        trial_dir = attempt.directory
        (trial_dir / METRICS_FILE.parent).mkdir(parents=True, exist_ok=True)
        (trial_dir / METRICS_FILE).write_bytes(b"")  # this attempt's results only
        _write_params(trial_dir, params, attempt)
        log_path = trial_dir / LOG_FILE
        attempt.record(attrs.LOG, str(log_path))
        with log_path.open("a", encoding="utf-8", errors="replace") as log_file:
            log_file.write(f"--- trial {attempt.number}, attempt {attempt.retry + 1} ---\n")
            log_file.flush()
            run = _Run(self, attempt, params, log_file)
            return run.wait()


def gpu_setting(gpus: int | None) -> str | None:
    """``CUDA_VISIBLE_DEVICES`` for trials asking for ``gpus`` GPUs each (None: inherit)."""
    if gpus is None:
        return None
    if gpus == 0:
        return ""  # a CPU trial, as NNI runs one with trialGpuNumber 0
    visible = visible_gpus()
    if not visible:
        log.warning(
            "the study asks for %d GPU(s) per trial and this machine has none: trials run on "
            "the CPU",
            gpus,
        )
        return None
    if len(visible) < gpus:
        log.warning(
            "the study asks for %d GPUs per trial; this worker sees %d: trials use those",
            gpus,
            len(visible),
        )
    return ",".join(visible[:gpus])


def visible_gpus() -> list[str]:
    """The GPUs this process may use: ``CUDA_VISIBLE_DEVICES`` if set, else nvidia-smi's."""
    given = os.environ.get("CUDA_VISIBLE_DEVICES")
    if given is not None:
        return [g.strip() for g in given.split(",") if g.strip() and g.strip() != "-1"]
    return detect_gpus()


def detect_gpus() -> list[str]:
    """The indices of this machine's NVIDIA GPUs (none without nvidia-smi)."""
    if shutil.which("nvidia-smi") is None:
        return []
    result = subprocess.run(
        ["nvidia-smi", "--query-gpu=index", "--format=csv,noheader"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return [line.strip() for line in result.stdout.splitlines() if line.strip().isdigit()]


def _write_params(trial_dir: Path, params: dict[str, Any], attempt: Attempt) -> None:
    record = {
        "parameter_id": attempt.number,
        "parameter_source": "algorithm",
        "parameters": params,
        "parameter_index": 0,
    }
    (trial_dir / "parameter.cfg").write_text(json.dumps(record), encoding="utf-8")
    (trial_dir / "params.json").write_text(json.dumps(params), encoding="utf-8")


def trial_environment(
    objective: CommandObjective, attempt: Attempt, params: dict[str, Any]
) -> dict[str, str]:
    """The environment a trial's command runs in (the storage URL is not passed on)."""
    trial_dir = str(attempt.directory)
    child = {k: v for k, v in os.environ.items() if k != "HPO_STORAGE"}
    child.update(
        HPO_PARAMS=json.dumps(params),
        HPO_PARAMS_FILE=str(attempt.directory / "params.json"),
        HPO_TRIAL_NUMBER=str(attempt.number),
        HPO_SEED=str(attempt.seed),
        HPO_RETRY=str(attempt.retry),
        HPO_TRIAL_DIR=trial_dir,
        NNI_PLATFORM="local",
        NNI_EXP_ID=attempt.directory.parent.name,
        NNI_TRIAL_JOB_ID=str(attempt.first_number),
        NNI_SYS_DIR=trial_dir,
        NNI_OUTPUT_DIR=trial_dir,
        NNI_TRIAL_SEQ_ID=str(attempt.number),
        NNI_CODE_DIR=objective.directory,
        PYTHONUNBUFFERED="1",  # metric lines and the log arrive as they are printed
        PYTHONPATH=os.pathsep.join(p for p in (str(SHIM), os.environ.get("PYTHONPATH")) if p),
        PATH=os.pathsep.join(
            p for p in (str(Path(sys.executable).parent), os.environ.get("PATH")) if p
        ),
    )
    if objective.gpus is not None:
        child["CUDA_VISIBLE_DEVICES"] = objective.gpus
    return child


class _Run:
    """One running command: its process group, its output readers, its results."""

    def __init__(
        self,
        objective: CommandObjective,
        attempt: Attempt,
        params: dict[str, Any],
        log_file: IO[str],
    ) -> None:
        self.objective = objective
        self.attempt = attempt
        self.metric = objective.metrics[0].name
        self.lines: queue.Queue[Reported | TrialFailedError] = queue.Queue()
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=STDERR_LINES)
        self.log_lock = threading.Lock()
        self.log_file = log_file
        self.metrics_file = MetricsFile(attempt.directory / METRICS_FILE)
        self.step = 0
        self.unflushed = False
        self.final: Any = None
        self.step_metrics: dict[str, dict[str, float]] = {}
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            # -I -S: isolated and without site-packages, it starts in a fraction of the time.
            [sys.executable, "-I", "-S", str(GUARD), str(KILL_GRACE), objective.command],
            cwd=objective.directory,
            env=trial_environment(objective, attempt, params),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.readers = [
            _reader(self.process.stdout, self._stdout_line),
            _reader(self.process.stderr, self._stderr_line),
        ]

    def wait(self) -> Outcome:
        stop_sent = False
        try:
            while True:
                try:
                    code: int | None = self.process.wait(timeout=POLL_SECONDS)
                except subprocess.TimeoutExpired:
                    code = None
                if code is not None:
                    for reader in self.readers:
                        reader.join()
                self._take_results()
                if code is not None:
                    break
                limit = self.objective.max_seconds
                if limit is not None and time.monotonic() - self.started > limit:
                    raise TrialFailedError(
                        f"ran longer than its time limit (maxTrialDuration {duration(limit)}): "
                        "stopped"
                    )
                if self.attempt.should_stop() and not stop_sent:
                    # Passed on: the command may save its state; the worker's stop timeout
                    # interrupts this wait if it takes too long.
                    _signal_group(self.process, signal.SIGTERM)
                    stop_sent = True
        finally:
            if self.process.poll() is None or _group_alive(self.process):
                # A command told to stop has had the worker's stop timeout to save its state.
                end_group(self.process, STOPPED_GRACE if stop_sent else KILL_GRACE)
            for reader in self.readers:  # its pipes are closed now: the readers end
                reader.join(timeout=KILL_GRACE)
        if stop_sent and (code != 0 or self.final is None):
            raise AttemptInterrupted  # queued again: the retry resumes from what it saved
        return self._outcome(code)

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
        outcome = outcome_of(self.final, self.objective.metrics)
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

    def _log(self, line: str) -> None:
        with self.log_lock:
            self.log_file.write(line)
            self.log_file.flush()


def _reader(stream: IO[bytes] | None, handle: Callable[[str], None]) -> threading.Thread:
    def read() -> None:
        assert stream is not None
        with stream:
            for raw in stream:
                handle(raw.decode("utf-8", errors="replace"))

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def _status(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"was killed by {name}"
    return f"exited with status {code}"


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone
        os.killpg(process.pid, signum)


def _group_alive(process: subprocess.Popen[bytes]) -> bool:
    try:
        os.killpg(process.pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def end_group(process: subprocess.Popen[bytes], grace: float) -> None:
    """End a trial's whole process group: SIGTERM, then SIGKILL after ``grace`` seconds."""
    _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if process.poll() is not None and not _group_alive(process):
            return
        time.sleep(POLL_SECONDS)
    _signal_group(process, signal.SIGKILL)
    process.wait()
    # SIGKILL cannot be refused; the wait is bounded all the same, for a container whose first
    # process never reaps the orphans it inherits (their zombies keep the group "alive").
    deadline = time.monotonic() + grace
    while _group_alive(process) and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
