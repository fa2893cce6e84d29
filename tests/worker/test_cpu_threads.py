"""Local workers on the CPU share its cores: each one's PyTorch gets its share of threads."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import hpo_env, run_hpo, trials, write_json, write_module

THREADS = """
import torch

def run(params):
    return float(torch.get_num_threads())
"""


@pytest.mark.parametrize("set_by_user", [False, True])
def test_local_cpu_workers_share_the_cores(tmp_path: Path, set_by_user: bool) -> None:
    cores = len(os.sched_getaffinity(0))
    if cores < 2:
        pytest.skip("one core: every share is one thread")
    write_module(tmp_path, "threads", THREADS)
    config = {
        "config": {"experimentName": "threads", "maxTrialNum": 4, "model": "threads"},
        "search_space": {"x": {"_type": "uniform", "_value": [0, 1]}},
    }
    write_json(tmp_path / "space.json", config)
    storage = f"sqlite:///{tmp_path / 'hpo.db'}"
    environment = {k: v for k, v in hpo_env(storage).items() if k != "OMP_NUM_THREADS"}
    if set_by_user:  # every core (PyTorch takes no more threads than there are cores)
        environment["OMP_NUM_THREADS"] = str(cores)
    ran = run_hpo("run", "--space", "space.json", "--workers", "2", cwd=tmp_path, env=environment)
    assert ran.returncode == 0, ran.stderr
    values = {t.value for t in trials(storage, "threads")}
    # Two workers: half the cores each; what the user set is left alone.
    assert values == {float(cores if set_by_user else cores // 2)}
