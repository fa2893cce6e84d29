"""The environment a command trial runs in: an allow list of the worker's, and the trial's own.

A worker's environment holds secrets a trial has no business with: the storage password
(``PGPASSWORD``), cloud credentials (``AWS_*``, ``GOOGLE_*``, ``AZURE_*``), tokens of every
kind. Rather than guess every name a secret may have, a trial gets only the variables that
say where things are and how to run (``PATH``, ``HOME``, locale, Python, CUDA, thread counts)
and those the worker is told to pass on: ``HPO_TRIAL_ENV=NAME,PREFIX_*`` (a ``*`` at the end
matches any rest; ``*`` alone passes everything but the storage URL).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hpo import env
from hpo.objectives.base import Attempt

#: The worker's variables every command trial gets (besides those hpo sets for it).
PASSED = frozenset(
    {
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "SHELL",
        "HOSTNAME",
        "LANG",
        "LANGUAGE",
        "TZ",
        "TERM",
        "TMPDIR",
        "TMP",
        "TEMP",
        "PYTHONPATH",
        "PYTHONHASHSEED",
        "PYTHONWARNINGS",
        "PYTHONIOENCODING",
        "VIRTUAL_ENV",
        "CONDA_PREFIX",
        "CONDA_DEFAULT_ENV",
        "LD_LIBRARY_PATH",
        "CUBLAS_WORKSPACE_CONFIG",
        "PYTORCH_CUDA_ALLOC_CONF",
        "MPLBACKEND",
        "MPLCONFIGDIR",
        env.CACHE_DIR,
    }
)
#: Prefixes of the worker's variables every command trial gets: locale, devices, threads,
#: caches of the libraries a training script uses.
PASSED_PREFIXES = (
    "LC_",
    "CUDA_",
    "NVIDIA_",
    "NCCL_",
    "OMP_",
    "KMP_",
    "MKL_",
    "OPENBLAS_",
    "TORCH_",
    "TORCHINDUCTOR_",
    "TRITON_",
    "XDG_",
    "SLURM_",
)
#: Never passed on, whatever ``HPO_TRIAL_ENV`` says.
NEVER = frozenset({env.STORAGE, env.STORAGE_FD})


def passed_on(name: str, extra: tuple[str, ...]) -> bool:
    """Whether a variable of the worker's goes to its command trials."""
    if name in NEVER:
        return False
    if name in PASSED or name.startswith(PASSED_PREFIXES):
        return True
    return any(
        name.startswith(pattern[:-1]) if pattern.endswith("*") else name == pattern
        for pattern in extra
    )


def extra_names(value: str | None) -> tuple[str, ...]:
    """The names and ``PREFIX_*`` patterns of ``HPO_TRIAL_ENV`` (comma-separated)."""
    return tuple(p.strip() for p in (value or "").split(",") if p.strip())


def trial_environment(
    attempt: Attempt,
    params: dict[str, Any],
    code_directory: str,
    shim: Path,
    gpus: str | None,
    worker_env: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment a trial's command runs in: the allowed part of the worker's
    (``worker_env``, by default this process's), and the trial's own variables."""
    source = os.environ if worker_env is None else worker_env
    extra = extra_names(source.get(env.TRIAL_ENV))
    child = {k: v for k, v in source.items() if passed_on(k, extra)}
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
