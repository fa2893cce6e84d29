"""CPU figures for every built-in model, and one CPU epoch of the speed recipe.

1. Training throughput of every model in ``training.models.MODELS``: the real data path
   (cached uint8 images, batched augmentation, normalisation) against synthetic tensors made
   in advance (the model alone), side by side, best of alternating rounds.
2. The speed recipe (``search_spaces/cifar10_speedrun.json``, ``model: airbench``) for one
   epoch on 5,000 CIFAR-10 training images at batch 128: seconds and test accuracy.
3. With ``--compile N`` (only that): N trials eager, then N with ``compile: true``, in one
   process as a worker runs them (simple_cnn on digits).

Data: the first images per class of the CIFAR-10 JPEG copy (as ``bench/train_throughput.py``).

    python bench/cpu_models.py [--steps N] [--skip-recipe] [--compile TRIALS]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.train_throughput import cifar_subset  # noqa: E402

# (model, resolution, batch): 32 px where the model is CIFAR-sized, 224 px for ImageNet ones;
# batches small enough that a CPU step takes seconds, not minutes.
CASES = [
    ("simple_cnn", 32, 64),
    ("resnet9", 32, 64),
    ("dw_student", 32, 64),
    ("airbench", 32, 64),
    ("resnet18", 224, 8),
    ("resnet50", 224, 4),
    ("mobilenet_v2", 224, 8),
]


def throughputs(data: Path, steps: int, repeats: int) -> None:
    import torch

    from training.throughput import throughput

    threads = torch.get_num_threads()
    print(f"CPU ({platform.machine()}, {threads} threads); torch {torch.__version__}")
    print(f"{steps} timed steps after 1, best of {repeats} alternating rounds")
    print("| model | px | batch | real img/s | synthetic img/s | real / synthetic |")
    print("|---|---:|---:|---:|---:|---:|")
    for model, resolution, batch in CASES:
        params = {
            "model": model,
            "dataset": "imagefolder",
            "data_dir": str(data),
            "resolution": resolution,
            "batch_size": batch,
            "lr": 0.01,
            "momentum": 0.9,
            "device": "cpu",
            "num_epochs": 1,
        }
        throughput(params, steps=1, warmup=0)  # decode the cache once, outside the timing
        real, synthetic = [], []
        for _ in range(repeats):
            real.append(throughput(params, steps=steps, warmup=1))
            synthetic.append(throughput(params, steps=steps, warmup=1, synthetic=True))
        r, s = max(real), max(synthetic)
        print(f"| {model} | {resolution} | {batch} | {r:.1f} | {s:.1f} | {r / s:.3f} |", flush=True)


def recipe_epoch(data: Path) -> None:
    from training import fit

    space = json.loads((ROOT / "search_spaces" / "cifar10_speedrun.json").read_text())
    params = {**space["params"], "data_dir": str(data), "num_epochs": 1, "batch_size": 128}
    params.update(device="cpu", state_every=0)
    started = time.perf_counter()
    metrics = fit(params)
    wall = time.perf_counter() - started
    print(
        f"speed recipe, 1 epoch of {metrics['images_per_second'] * metrics['train_seconds']:.0f}"
        f" images: {metrics['train_seconds']:.1f} s training "
        f"({metrics['images_per_second']:.1f} img/s), {wall:.1f} s in all with evaluation "
        f"(TTA), test accuracy {metrics['test_acc']:.3f}"
    )


def compile_trials(trials: int) -> None:
    """``compile: true`` trial after trial in one process, as a worker runs them, beside the
    same trials eager: what compiling costs the first, what keeping it saves the next, and
    what the compiled steps save against eager ones."""
    from training import fit

    params = {"dataset": "digits", "model": "simple_cnn", "lr": 0.05, "batch_size": 32}
    params.update(num_epochs=2, device="cpu")
    fit(params)  # the data set decoded and in memory, outside the timing
    print(f"simple_cnn on digits, 2 epochs at batch 32, {trials} trials (seeds 0..) per row")
    print("| trial | compile | seconds | train s | compile s | saved s | test acc |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for compiled in (False, True):
        for seed in range(trials):
            started = time.perf_counter()
            m = fit({**params, "seed": seed, "compile": compiled})
            wall = time.perf_counter() - started
            spent, saved = m.get("compile_seconds", 0.0), m.get("compile_saved_seconds", 0.0)
            print(
                f"| {seed} | {'yes' if compiled else 'no'} | {wall:.2f} | "
                f"{m['train_seconds']:.2f} | {spent:.2f} | {saved:.2f} | {m['test_acc']:.3f} |",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=4, help="timed steps per measurement")
    parser.add_argument("--repeats", type=int, default=2, help="alternating real/synthetic rounds")
    parser.add_argument("--skip-recipe", action="store_true", help="throughputs only")
    parser.add_argument(
        "--compile", type=int, metavar="TRIALS", help="only: TRIALS trials eager, then compiled"
    )
    args = parser.parse_args()
    if args.compile:
        compile_trials(args.compile)
        return
    throughputs(cifar_subset(100), args.steps, args.repeats)
    if not args.skip_recipe:
        recipe_epoch(_with_test_split(cifar_subset(500)))


def _with_test_split(train_only: Path) -> Path:
    """The recipe reports test accuracy: 100 test images per class beside the training ones."""
    from tests.helpers import extract_cifar_subset

    dest = train_only.parent / "cifar10-jpeg-500-with-test"
    if not (dest / ".complete").exists():
        extract_cifar_subset(dest, 500, 100)
        (dest / ".complete").touch()
    return dest


if __name__ == "__main__":
    started = time.time()
    main()
    print(f"({time.time() - started:.0f} s)", file=sys.stderr)
