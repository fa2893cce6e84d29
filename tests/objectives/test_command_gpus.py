"""Which GPUs a command trial sees (NNI's trialGpuNumber), and the local workers' GPUs."""

from __future__ import annotations

import logging
import shutil

import pytest

from hpo.objectives.command import gpu_setting
from hpo.worker import local_devices


@pytest.mark.parametrize(
    ("visible", "per_trial", "expected"),
    [
        ("3,5", 1, "3"),  # a worker started by --gpus 3,5 (or hpo run): its first GPU
        ("3,5", 2, "3,5"),
        ("4", None, None),  # no number asked for: the worker's own, untouched
        ("4", 0, ""),  # trialGpuNumber 0: a CPU trial, as in NNI
    ],
)
def test_a_trial_gets_its_share_of_the_workers_gpus(
    monkeypatch: pytest.MonkeyPatch, visible: str, per_trial: int | None, expected: str | None
) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    assert gpu_setting(per_trial) == expected


def test_gpus_asked_for_on_a_machine_without_any_run_on_the_cpu_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    if shutil.which("nvidia-smi"):
        pytest.skip("this machine has GPUs")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    with caplog.at_level(logging.WARNING, logger="hpo.worker"):
        assert gpu_setting(1) is None
    assert "this machine has none: trials run on the CPU" in caplog.text


def test_fewer_gpus_than_asked_for_are_used_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    with caplog.at_level(logging.WARNING, logger="hpo.worker"):
        assert gpu_setting(2) == "0"
    assert "sees 1" in caplog.text


def test_local_workers_take_disjoint_gpus_while_there_are_enough(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert local_devices(2, 2, ["0", "1", "2", "3"]) == ["0,1", "2,3"]
    assert local_devices(3, 0, ["0", "1"]) == [None, None, None]
    assert local_devices(2, 1, []) == [None, None]
    with caplog.at_level(logging.WARNING, logger="hpo.gpus"):
        assert local_devices(3, 1, ["0", "1"]) == ["0", "1", "0"]
    assert "some GPUs are shared" in caplog.text
