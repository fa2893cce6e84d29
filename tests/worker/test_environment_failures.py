"""A worker whose environment fails under it: its study deleted, its trials' disk full or
read-only. Real worker processes; the disk is a real small filesystem (a tmpfs of a given
size, which needs root: the tests that need one skip without it, saying so)."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from optuna.trial import TrialState

from hpo import attrs
from tests.helpers import (
    assert_one_line_error,
    hpo_create_study,
    run_hpo,
    start_hpo,
    trials,
    wait_for,
    write_module,
)

#: A worker's patience on a busy machine (see test_operations.PATIENCE).
PATIENCE = 900
#: digits on the CPU, one epoch: its training state (about 4 MB) does not fit a 1 MB disk.
DIGITS = {
    "device": "cpu",
    "dataset": "digits",
    "model": "simple_cnn",
    "resolution": 32,
    "num_epochs": 1,
    "momentum": 0.9,
    "lr": 0.05,
}


# -- the study deleted under its workers ----------------------------------------------------------


def test_a_worker_whose_study_is_deleted_stops_in_one_line(
    tmp_path: Path, storage_url: str
) -> None:
    write_module(
        tmp_path,
        "slow",
        """
        import time
        from pathlib import Path

        def run(params, report):
            Path("running").touch()
            for epoch in range(1, 1000):
                time.sleep(0.1)
                report(params["x"], epoch)
            return params["x"]
        """,
    )
    config = {
        "config": {"experimentName": "doomed", "maxTrialNum": 5, "model": "slow"},
        "search_space": {"x": {"_type": "uniform", "_value": [0, 1]}},
    }
    hpo_create_study(tmp_path, config, storage_url)
    worker = start_hpo("worker", "--study", "doomed", storage=storage_url, cwd=tmp_path)
    try:
        wait_for(
            lambda: worker.poll() is not None or (tmp_path / "running").exists(),
            PATIENCE,
            "a trial to run",
        )
        assert worker.poll() is None, worker.communicate()
        deleted = run_hpo("delete-study", "doomed", "--yes", storage=storage_url)
        assert deleted.returncode == 0, deleted.stderr
        out, err = worker.communicate(timeout=PATIENCE)
    finally:
        if worker.poll() is None:
            worker.kill()
    result = subprocess.CompletedProcess(worker.args, worker.returncode, out, err)
    assert_one_line_error(result, 1, "study 'doomed' was deleted")


# -- the trials' disk ------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """``small_disk("1m")``: a directory on a filesystem of that size (``read_only=True``:
    one that refuses every write), unmounted after the test."""
    mounted: list[Path] = []

    def mount(size: str, *, read_only: bool = False) -> Path:
        where = tmp_path / f"disk{len(mounted)}"
        where.mkdir()
        options = f"size={size},mode=0777" + (",ro" if read_only else "")
        made = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
            capture_output=True,
            text=True,
        )
        if made.returncode != 0:
            pytest.skip(f"cannot mount a small filesystem here (needs root): {made.stderr.strip()}")
        mounted.append(where)
        return where

    yield mount
    for where in reversed(mounted):
        subprocess.run(["umount", str(where)], check=False)


def fill(directory: Path) -> None:
    """Write into ``directory`` until its filesystem has no byte left."""
    with (directory / "filler").open("wb") as file:
        try:
            while True:
                file.write(bytes(64 * 1024))
                file.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


def training_study(tmp_path: Path, storage: str, checkpoint_dir: Path) -> None:
    config = {
        "config": {"experimentName": "disk", "objective": "training", "maxTrialNum": 2},
        "params": DIGITS,
        "search_space": {"weight_decay": {"_type": "loguniform", "_value": [1e-5, 1e-3]}},
    }
    options = ("--checkpoint-dir", str(checkpoint_dir), "--pruner", "none")
    hpo_create_study(tmp_path, config, storage, *options)


@pytest.mark.parametrize("disk", ["full", "read-only"])
def test_a_worker_refuses_a_trials_directory_it_cannot_write_before_any_trial(
    tmp_path: Path, sqlite_url: str, small_disk: Callable[..., Path], disk: str
) -> None:
    """Before: the study was accepted, then every trial failed (each taking budget)."""
    where = small_disk("1m", read_only=disk == "read-only")
    if disk == "full":
        fill(where)
    checkpoints = where / "ckpt"
    training_study(tmp_path, sqlite_url, checkpoints)
    result = run_hpo("worker", "--study", "disk", storage=sqlite_url, timeout=PATIENCE)
    reason = "no space left on device" if disk == "full" else "read-only file system"
    assert_one_line_error(result, 1, str(checkpoints), reason, "checkpoint_dir")
    assert trials(sqlite_url, "disk") == []  # not one trial taken, nor its budget
    files = [p.name for p in where.rglob("*") if p.is_file()]
    assert files == (["filler"] if disk == "full" else [])  # the check left nothing behind


@pytest.mark.slow
def test_a_trial_that_fills_the_disk_fails_in_one_line_leaves_no_temp_file_and_is_retried(
    tmp_path: Path, sqlite_url: str, small_disk: Callable[..., Path]
) -> None:
    where = small_disk("1m")  # room to start; not for the ~4 MB training state
    checkpoints = where / "ckpt"
    training_study(tmp_path, sqlite_url, checkpoints)
    result = run_hpo("worker", "--study", "disk", storage=sqlite_url, timeout=PATIENCE)

    [first, *rest] = trials(sqlite_url, "disk")
    state_file = next(checkpoints.glob("disk-*")) / "trial-0" / "state.pt"
    error = first.user_attrs[attrs.ERROR]
    assert first.state == TrialState.FAIL
    assert error.startswith(f"cannot write the training state {state_file}: ")
    assert error.endswith("no space left on device")
    # The worker says so in one line and stops (the next trial would fail the same), and the
    # trial is queued again, to resume once there is room.
    assert_one_line_error(result, 1, str(state_file), "no space left on device", "queued again")
    assert [t.state for t in rest] == [TrialState.WAITING]
    leftovers = [p for p in where.rglob("*") if p.is_file()]
    assert leftovers == [], leftovers  # no partial state, no temporary file
    assert os.statvfs(where).f_bfree == os.statvfs(where).f_blocks  # the disk is empty again
