"""Decoding says how far it got, with the threads this process may use."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, write_jpeg
from training import decode


def test_a_long_decode_says_how_far_it_got(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    paths = []
    for i in range(600):
        path = tmp_path / f"{i}.jpg"
        write_jpeg(path, (24, 24), i % 255)
        paths.append(path)
    monkeypatch.setattr(decode, "PROGRESS_SECONDS", 0.0)  # every chunk, rather than every 5 s
    with caplog.at_level(logging.INFO, logger="training.decode"):
        images, _ = decode.decode_files(paths, 16)
    assert images.shape == (600, 3, 16, 16)
    assert [r.getMessage() for r in caplog.records] == [
        "decoded 256 of 600 images (43%)",
        "decoded 512 of 600 images (85%)",
    ]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="taskset is Linux's")
def test_threads_follow_the_cpus_the_job_was_given() -> None:
    probe = "from training.decode import usable_cpus; print(usable_cpus())"
    result = subprocess.run(
        ["taskset", "-c", "0", sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    assert result.stdout.strip() == "1"  # one core given, whatever the machine has
