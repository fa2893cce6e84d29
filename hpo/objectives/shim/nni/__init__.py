"""hpo's stand-in for NNI's trial API, so that an NNI trial script runs unchanged.

Only a command trial's process imports it (its directory is first on ``PYTHONPATH``, ahead of
a real ``nni`` installed in the same environment). It speaks NNI's own local protocol: the
params come from ``$NNI_SYS_DIR/parameter.cfg``, and every result is appended to
``$NNI_SYS_DIR/.nni/metrics`` as ``ME`` + a 6-digit length + a JSON line, which the worker
reads while the trial runs.

Supported: ``get_next_parameter``, ``get_current_parameter``, ``report_intermediate_result``,
``report_final_result``, ``get_trial_id``, ``get_experiment_id``, ``get_sequence_id`` and
``nni.utils.merge_parameter``. Anything else fails with one line saying so.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import utils

__all__ = [
    "get_current_parameter",
    "get_experiment_id",
    "get_next_parameter",
    "get_sequence_id",
    "get_trial_id",
    "report_final_result",
    "report_intermediate_result",
    "utils",
]

_params: dict[str, Any] | None = None
_served = False
_sequence = 0


def get_next_parameter() -> dict[str, Any] | None:
    """This trial's params (choices keep their JSON types); None when asked a second time,
    as NNI does for a trial that is not multi-phase."""
    global _params, _served
    if _served:
        return None
    _served = True
    _params = _load_params()
    return _params


def get_current_parameter(tag: str | None = None) -> Any:
    params = _params if _params is not None else _load_params()
    return params if tag is None else params[tag]


def report_intermediate_result(metric: Any, step: int | None = None) -> None:
    """One more step's result: a number, or a dict whose ``default`` key is the metric.

    ``step`` (hpo's addition; NNI numbers results 1, 2, … in each run) lets a script that
    resumes a retried trial continue at its own epoch."""
    global _sequence
    _send("PERIODICAL", metric, _sequence, step)
    _sequence += 1


def report_final_result(metric: Any) -> None:
    """The trial's result: a number, or a dict whose ``default`` key is the metric."""
    _send("FINAL", metric, 0)


def get_trial_id() -> str:
    return os.environ.get("NNI_TRIAL_JOB_ID", "")


def get_experiment_id() -> str:
    return os.environ.get("NNI_EXP_ID", "")


def get_sequence_id() -> int:
    return int(os.environ.get("NNI_TRIAL_SEQ_ID", "-1"))


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(
        f"nni.{name} is not supported by hpo (its NNI shim offers {', '.join(__all__)})"
    )


def _sys_dir() -> Path:
    directory = os.environ.get("NNI_SYS_DIR")
    if not directory:
        raise RuntimeError("hpo's nni shim runs only inside an hpo command trial (no NNI_SYS_DIR)")
    return Path(directory)


def _load_params() -> dict[str, Any]:
    record = json.loads((_sys_dir() / "parameter.cfg").read_text(encoding="utf-8"))
    params: dict[str, Any] = record["parameters"]
    return params


def _send(kind: str, metric: Any, sequence: int, step: int | None = None) -> None:
    record: dict[str, Any] = {
        "parameter_id": int(os.environ.get("NNI_TRIAL_SEQ_ID", "0")),
        "trial_job_id": get_trial_id(),
        "type": kind,
        "sequence": sequence,
        "value": json.dumps(_plain(metric)),
    }
    if step is not None:
        record["step"] = int(step)
    data = (json.dumps(record) + "\n").encode("utf-8")
    folder = _sys_dir() / ".nni"
    folder.mkdir(parents=True, exist_ok=True)
    # One write of the whole record, appended: the worker reads only complete records.
    with (folder / "metrics").open("ab") as file:
        file.write(b"ME%06d" % len(data) + data)


def _plain(value: Any) -> Any:
    """NumPy scalars and 0-d tensors as Python numbers, inside dicts too."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        return value.item()
    return value
