"""Trials per GPU-hour and how busy the GPU stays, for the CIFAR-10 search spaces.

For ``cifar10_resnet9.json`` and ``cifar10_simplecnn_lr.json`` (on the full CIFAR-10 JPEG copy),
a study of ``--trials`` trials runs through ``hpo worker --gpus 0`` with 1 and then
``--packed`` trials per GPU, while nvidia-smi samples the GPU's utilisation every 200 ms.
Prints trials per GPU-hour and the busy fraction (mean utilisation while the study ran;
target ≥ 0.90). Needs an NVIDIA GPU: without one it says so and exits 0.

    python bench/gpu_trials.py [--trials 12] [--packed 2]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED_TAR = (
    Path(os.environ.get("HPO_SHARED_DATA", ROOT.parent / "shared" / "data")) / "cifar10-jpeg.tar.gz"
)


def has_gpu() -> bool:
    if shutil.which("nvidia-smi") is None:
        return False
    return subprocess.run(["nvidia-smi", "-L"], capture_output=True).returncode == 0


def cifar_copy() -> Path:
    """The whole CIFAR-10 JPEG copy, extracted once."""
    dest = Path.home() / ".cache" / "hpo" / "bench" / "cifar10-jpeg-full"
    if (dest / ".complete").exists():
        return dest / "cifar10-jpeg"
    if not SHARED_TAR.exists():
        sys.exit(f"error: {SHARED_TAR} not found (set HPO_SHARED_DATA)")
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "xzf", str(SHARED_TAR), "-C", str(dest)], check=True)
    (dest / ".complete").touch()
    return dest / "cifar10-jpeg"


class Utilisation:
    """GPU utilisation samples from nvidia-smi, every 200 ms, while the context is open."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._process: subprocess.Popen[str] | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Utilisation:
        self._process = subprocess.Popen(
            [
                "nvidia-smi",
                "--query-gpu=utilization.gpu",
                "--format=csv,noheader,nounits",
                "-i",
                "0",
                "-lms",
                "200",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        return self

    def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            if line.strip().isdigit():
                self.samples.append(float(line.strip()))

    def __exit__(self, *exc: object) -> None:
        assert self._process is not None
        self._process.terminate()
        self._process.wait()

    @property
    def busy(self) -> float:
        return sum(self.samples) / len(self.samples) / 100 if self.samples else 0.0


def run(
    space: str, data: Path, trials: int, per_gpu: int, workdir: Path
) -> tuple[float, float, int]:
    """(trials per GPU-hour, busy fraction, trials completed)."""
    url = f"sqlite:///{workdir / f'{Path(space).stem}-{per_gpu}.db'}"
    env = {**os.environ, "HPO_STORAGE": url, "HPO_CACHE_DIR": str(Path.home() / ".cache" / "hpo")}
    name = f"gpu-{Path(space).stem}-{per_gpu}"
    create = [
        sys.executable,
        "-m",
        "hpo",
        "create-study",
        "--space",
        str(ROOT / "search_spaces" / space),
        "--name",
        name,
        "--max-trials",
        str(trials),
        "-p",
        f"data_dir={data}",
    ]
    subprocess.run(create, env=env, check=True, capture_output=True)
    # Warm the decoded cache first, so the timing is of trials, not of the one-off decode.
    warm = [
        sys.executable,
        "-c",
        f"from training.data import load_data; from training.config import TrainConfig; "
        f"load_data(TrainConfig.from_params({{'dataset': 'cifar10', 'data_dir': {str(data)!r}}}))",
    ]
    subprocess.run(warm, env=env, check=True)
    with Utilisation() as gpu:
        started = time.time()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "hpo",
                "-q",
                "worker",
                "--study",
                name,
                "--gpus",
                "0",
                "--trials-per-gpu",
                str(per_gpu),
            ],
            env=env,
            check=True,
        )
        hours = (time.time() - started) / 3600
    import optuna

    done = sum(
        t.state.is_finished() for t in optuna.load_study(study_name=name, storage=url).trials
    )
    return done / hours, gpu.busy, done


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--packed", type=int, default=2, help="trials per GPU in the second run")
    args = parser.parse_args()
    if not has_gpu():
        print("no NVIDIA GPU on this machine: bench/gpu_trials.py skipped")
        return
    name = subprocess.run(
        ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader", "-i", "0"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    data = cifar_copy()
    print(f"GPU: {name}; {args.trials} trials per study on the full CIFAR-10 JPEG copy")
    print(f"{'search space':<28} {'trials/GPU':>10} {'trials per GPU-hour':>20} {'GPU busy':>9}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for space in ("cifar10_resnet9.json", "cifar10_simplecnn_lr.json"):
            for per_gpu in (1, args.packed):
                rate, busy, done = run(space, data, args.trials, per_gpu, Path(tmp))
                rows.append(
                    {
                        "space": space,
                        "per_gpu": per_gpu,
                        "per_hour": rate,
                        "busy": busy,
                        "trials": done,
                    }
                )
                print(f"{space:<28} {per_gpu:>10} {rate:>20.0f} {busy:>9.2f}", flush=True)
    print(json.dumps(rows))
    best = max(rows, key=lambda r: r["busy"])
    print(
        f"GPU busy fraction: best {best['busy']:.2f} ({best['space']}, {best['per_gpu']} per GPU)"
    )


if __name__ == "__main__":
    main()
