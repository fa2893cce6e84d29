"""A command as the objective (NNI's ``trialCommand``): one child process per trial.

The command runs through ``/bin/sh`` in its code directory, under a guard process of its own
(:mod:`hpo.objectives.command_guard`) that owns every process it starts, in a session of its
own (:mod:`hpo.objectives.command_run` is the worker's side of one run). It gets:

- its params: through the ``nni`` shim (NNI's ``parameter.cfg``), as JSON in ``HPO_PARAMS``
  and in the file named by ``HPO_PARAMS_FILE``;
- NNI's trial environment (``NNI_PLATFORM``, ``NNI_EXP_ID``, ``NNI_TRIAL_JOB_ID``,
  ``NNI_SYS_DIR``, ``NNI_OUTPUT_DIR``, ``NNI_TRIAL_SEQ_ID``, ``NNI_CODE_DIR``) and hpo's
  (``HPO_TRIAL_NUMBER``, ``HPO_SEED``, ``HPO_RETRY``, ``HPO_TRIAL_DIR``), and of the worker's
  environment only an allow list (:mod:`hpo.objectives.command_env`): no secrets;
- a directory of its own (``NNI_OUTPUT_DIR`` = ``HPO_TRIAL_DIR``), the same for a retry of the
  trial, so that a script that saves checkpoints there can resume;
- ``python3`` / ``python`` meaning hpo's own interpreter (its directory first on ``PATH``);
- its GPUs in ``CUDA_VISIBLE_DEVICES`` when the study asks for a number per trial.

Its stdout and stderr go to ``trial.log`` in its directory (the path is stored with the trial
as ``hpo:log``). Results come back through :mod:`hpo.objectives.channel`; every intermediate
one reaches the pruner at once. When the command exits, what it left running is ended; pruned,
past its time limit or with the worker stopping, all of it is: SIGTERM, then SIGKILL after
``KILL_GRACE`` seconds (a stopping worker first gives it its ``--stop-timeout``). A non-zero
exit, a kill or no final result fails the trial, with the exit status and the end of stderr
in ``hpo:error``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hpo import attrs
from hpo.objectives.base import Attempt, Objective
from hpo.objectives.channel import METRICS_FILE
from hpo.objectives.command_env import trial_environment
from hpo.objectives.command_run import KILL_GRACE, CommandRun, Launch
from hpo.objectives.outcome import Metric, Outcome
from hpo.objectives.target import ObjectiveSpec

log = logging.getLogger("hpo.worker")

SHIM = Path(__file__).with_name("shim")
LOG_FILE = "trial.log"
PARAMS_FILE = "params.json"  # HPO_PARAMS_FILE
NNI_PARAMS_FILE = "parameter.cfg"  # what NNI's get_next_parameter reads

__all__ = ["KILL_GRACE", "LOG_FILE", "SHIM", "CommandObjective", "detect_gpus", "gpu_setting"]


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
            launch = Launch(
                self.command,
                self.directory,
                trial_environment(attempt, params, self.directory, SHIM, self.gpus),
                self.metrics,
                self.max_seconds,
            )
            return CommandRun(launch, attempt, log_file).wait()

    def close(self, attempt: Attempt) -> None:
        """The trial is over for good: the files hpo wrote for it go (its params, NNI's
        metrics file); what the command itself left there stays, and with it the directory."""
        trial_dir = attempt.directory
        for name in (PARAMS_FILE, NNI_PARAMS_FILE, METRICS_FILE):
            (trial_dir / name).unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # not empty: the command's own files are there
            (trial_dir / METRICS_FILE.parent).rmdir()


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
    (trial_dir / NNI_PARAMS_FILE).write_text(json.dumps(record), encoding="utf-8")
    (trial_dir / PARAMS_FILE).write_text(json.dumps(params), encoding="utf-8")
