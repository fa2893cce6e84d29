"""The environment a command trial runs in: the worker's, and the trial's own variables."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hpo import env
from hpo.objectives.base import Attempt


def trial_environment(
    attempt: Attempt,
    params: dict[str, Any],
    code_directory: str,
    shim: Path,
    gpus: str | None,
    worker_env: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment a trial's command runs in (the storage URL is not passed on)."""
    source = os.environ if worker_env is None else worker_env
    child = {k: v for k, v in source.items() if k != env.STORAGE}
    trial_dir = str(attempt.directory)
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
        NNI_CODE_DIR=code_directory,
        PYTHONUNBUFFERED="1",  # metric lines and the log arrive as they are printed
        PYTHONPATH=os.pathsep.join(p for p in (str(shim), source.get("PYTHONPATH")) if p),
        PATH=trial_path(source),
    )
    if gpus is not None:
        child["CUDA_VISIBLE_DEVICES"] = gpus
    return child


def trial_path(worker_env: Mapping[str, str]) -> str:
    """``PATH`` of a trial: hpo's interpreter's directory first (``python3`` is hpo's)."""
    return os.pathsep.join(
        p for p in (str(Path(sys.executable).parent), worker_env.get("PATH")) if p
    )
