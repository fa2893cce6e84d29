"""Training throughput: the real data path against synthetic tensors, side by side.

For ResNet-18 at 224 px and ResNet-9 at 32 px, the same training step (forward, backward,
optimiser, schedule) runs on
  real       batches taken the real way: cached uint8 images, batched augmentation on the
             device (random-resized crop + flip at 224 px, translate + flip at 32 px),
             normalisation;
  synthetic  normalised tensors made in advance on the device: the model's speed alone.
real / synthetic is the data pipeline's efficiency (goal on a GPU: ≥ 0.90).

Data: a subset of the CIFAR-10 JPEG copy (../shared/data/cifar10-jpeg.tar.gz, extracted once
under ~/.cache/hpo/bench), also decoded at 256 px for the 224 px runs; or --data DIR with
train/<class>/ folders.

    python bench/train_throughput.py [--device auto|cpu|cuda] [--steps N] [--data DIR]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHARED_TAR = (
    Path(os.environ.get("HPO_SHARED_DATA", ROOT.parent / "shared" / "data")) / "cifar10-jpeg.tar.gz"
)


def cifar_subset(per_class: int) -> Path:
    """The first ``per_class`` training images of each class, extracted once."""
    dest = Path.home() / ".cache" / "hpo" / "bench" / f"cifar10-jpeg-{per_class}"
    done = dest / ".complete"
    if done.exists():
        return dest
    if not SHARED_TAR.exists():
        sys.exit(f"error: {SHARED_TAR} not found; pass --data DIR (train/<class>/ folders)")
    print(f"extracting {per_class} images per class from {SHARED_TAR} …", file=sys.stderr)
    taken: dict[str, int] = {}
    with tarfile.open(SHARED_TAR, "r:gz") as tar:
        for member in tar:
            parts = Path(member.name).parts
            if not member.isfile() or len(parts) < 4 or parts[-3] != "train":
                continue
            label = parts[-2]
            if taken.get(label, 0) >= per_class:
                continue
            taken[label] = taken.get(label, 0) + 1
            target = dest / "train" / label / parts[-1]
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            assert source is not None
            target.write_bytes(source.read())
    done.touch()
    return dest


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument(
        "--steps", type=int, help="timed steps per measurement (default 8 on CPU, 50 on GPU)"
    )
    parser.add_argument("--data", type=Path, help="a train/<class>/ image-folder data set")
    parser.add_argument("--repeats", type=int, default=2, help="alternating real/synthetic rounds")
    args = parser.parse_args()

    import torch

    from training.throughput import throughput

    cuda = args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
    steps = args.steps or (50 if cuda else 8)
    warmup = 10 if cuda else 2
    data = args.data or cifar_subset(500 if cuda else 100)
    # Batch sizes of the recipes on a GPU; smaller on a CPU, where a step would take minutes.
    cases = [
        ("resnet18", 224, 128 if cuda else 16, "imagefolder"),
        ("resnet9", 32, 512 if cuda else 64, "imagefolder"),
    ]
    device = (
        torch.cuda.get_device_name()
        if cuda
        else f"CPU ({platform.machine()}, {torch.get_num_threads()} threads)"
    )
    print(f"device: {device}; torch {torch.__version__}; {steps} timed steps, {warmup} warm-up")
    header = ("model", "px", "batch", "real img/s", "synthetic img/s", "real/synthetic")
    print("{:<10} {:>4} {:>5} {:>11} {:>16} {:>15}".format(*header))
    ratios = []
    for model, resolution, batch, dataset in cases:
        params = {
            "model": model,
            "dataset": dataset,
            "data_dir": str(data),
            "resolution": resolution,
            "batch_size": batch,
            "lr": 0.01,
            "momentum": 0.9,
            "device": "cuda" if cuda else "cpu",
            "num_epochs": 1,
        }
        throughput(params, steps=1, warmup=0)  # decode the cache once, outside the timing
        real, synthetic = [], []
        for _ in range(args.repeats):  # interleaved, so drift on a noisy machine hits both
            real.append(throughput(params, steps=steps, warmup=warmup))
            synthetic.append(throughput(params, steps=steps, warmup=warmup, synthetic=True))
        r, s = max(real), max(synthetic)
        ratios.append(r / s)
        print(f"{model:<10} {resolution:>4} {batch:>5} {r:>11.1f} {s:>16.1f} {r / s:>15.3f}")
    print(
        "data pipeline efficiency (real / synthetic): "
        f"resnet18@224 {ratios[0]:.3f}, resnet9@32 {ratios[1]:.3f}"
    )


if __name__ == "__main__":
    started = time.time()
    main()
    print(f"({time.time() - started:.0f} s)", file=sys.stderr)
