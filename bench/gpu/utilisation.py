"""GPU utilisation and memory sampled with nvidia-smi while trials run."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time


class Utilisation:
    """GPU utilisation and memory from nvidia-smi every 200 ms, timestamped, while open.

    Without nvidia-smi (a smoke run on a CPU) it records nothing.
    """

    def __init__(self) -> None:
        self.samples: list[tuple[float, float, float]] = []  # (time, busy 0..1, MiB used)
        self._process: subprocess.Popen[str] | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Utilisation:
        if shutil.which("nvidia-smi") is None:
            return self
        self._process = subprocess.Popen(
            [
                "nvidia-smi",
                "--query-gpu=utilization.gpu,memory.used",
                "--format=csv,noheader,nounits",
                "-i",
                "0",
                "-lms",
                "200",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        return self

    def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            parts = [p.strip() for p in line.split(",")]
            if len(parts) == 2 and all(p.replace(".", "", 1).isdigit() for p in parts):
                self.samples.append((time.time(), float(parts[0]) / 100, float(parts[1])))

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def busy(self, start: float | None = None, end: float | None = None) -> float | None:
        """Mean utilisation between ``start`` and ``end`` (all samples by default)."""
        chosen = [
            b
            for t, b, _ in self.samples
            if (start is None or t >= start) and (end is None or t <= end)
        ]
        return sum(chosen) / len(chosen) if chosen else None

    def peak_mib(self) -> float | None:
        return max((m for _, _, m in self.samples), default=None)
