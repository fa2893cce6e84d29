"""What a training run needs on the machine that runs it, checked before any trial (no torch).

A missing data set or weights file would otherwise fail every trial, one at a time, each after
its start-up. ``missing_inputs`` names each missing input and how to get it; a worker stops on
them before it takes a trial, and ``create-study`` / ``validate`` warn of them (the data may
live only on the workers' machines).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: Per data set: the layout its data_dir must hold and where to get it (digits needs none).
_HOW_TO_GET = {
    "cifar10": (
        "CIFAR-10's python version (cifar-10-batches-py/) or train/<class>/ image folders; "
        "-p download=true fetches it on a machine with a network"
    ),
    "food11": (
        "Food-11 (training/, validation/, evaluation/ with <class>_<n>.jpg files), from the "
        "Food-11 page of EPFL's MMSPG image data sets or a Kaggle mirror, unpacked there"
    ),
    "imagefolder": "train/<class>/ image folders (optional val/ and test/)",
}
#: Params that name a file the run reads.
_FILES = {
    "pretrained": "a weights file to start from",
    "teacher": "the teacher's checkpoint to distil from",
}


def missing_inputs(
    params: Mapping[str, Any], *, searched: frozenset[str] = frozenset()
) -> list[str]:
    """One sentence per input the fixed ``params`` name that this machine lacks (params in
    ``searched`` vary per trial and are not checked)."""
    missing = []
    dataset = params.get("dataset", "digits")
    if isinstance(dataset, str) and dataset in _HOW_TO_GET and "data_dir" not in searched:
        problem = _data_dir_problem(dataset, params)
        if problem:
            missing.append(f"{problem}: it needs {_HOW_TO_GET[dataset]}")
    for key, what in _FILES.items():
        value = params.get(key)
        if key in searched or not isinstance(value, str) or not value:
            continue
        if not Path(value).expanduser().is_file():
            missing.append(f"{key} {value} is not a file on this machine ({what})")
    return missing


def _data_dir_problem(dataset: str, params: Mapping[str, Any]) -> str | None:
    data_dir = params.get("data_dir")
    if not isinstance(data_dir, str) or not data_dir:
        return f"dataset {dataset} has no data_dir (-p data_dir=DIR)"
    root = Path(data_dir).expanduser()
    if dataset == "cifar10" and params.get("download") is True:
        return None  # torchvision fetches it into data_dir
    if not root.is_dir():
        return f"data_dir {root} is not a directory on this machine (dataset {dataset})"
    return None


def missing_packages() -> list[str]:
    """The packages training imports that this Python lacks (a coordinator's install leaves
    torch out)."""
    return [name for name in ("torch", "torchvision") if importlib.util.find_spec(name) is None]
