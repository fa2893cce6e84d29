"""One prepared GPU check: the figures hpo has never measured on a GPU, in one short call.

GPU machines are lent rarely and briefly (about 15 minutes of device time, minutes of it to
start one), so everything is measured by one command planned to finish in 6 minutes.
``bench/gpu_check.sh`` sets up the machine (wheels, data) and runs ``run`` here. Each step runs
in subprocesses of its own under its own time limit, most valuable first; a step whose limit
no longer fits in what is left of the 6 minutes is skipped with a note, so a hang costs one
step, never the call:

  warm        decode CIFAR-10 once into hpo's uint8 cache, so no later step times a decode
  throughput  training img/s, real data path vs synthetic tensors already on the GPU, for
              ResNet-9 at 32 px, ResNet-18 and MobileNetV2 at 224 px (goal: real/synthetic ≥ 0.9)
  syncs       host syncs per training step, counted with torch.cuda.set_sync_debug_mode
              ("warn") and attributed to source lines (goal 0)
  accuracy    cifar10_resnet9.json's baseline trial end to end through hpo worker on SQLite:
              test accuracy and seconds per trial
  speedrun    cifar10_speedrun.json's baseline (model: airbench) at 5 seeds through one hpo
              worker: mean test accuracy and seconds per trial from its start to its tell
              (goal: ≥ 94.0 % in ≤ 4 s per trial)
  pack1/pack2 short trials (2 epochs) through hpo worker --gpus 0 --trials-per-gpu 1, then 2:
              trials per GPU-hour and GPU busy fraction (nvidia-smi every 200 ms; goal ≥ 0.9)
  oom         a trial asking for 1000 GiB FAILs "out of memory"; the next one on the same
              worker runs and completes
  compile     while time is left: the speedrun baseline with compile: true at 3 seeds in one
              worker (compile seconds of the first trial, seconds saved by the later ones)
  accuracy+   more seeds of the accuracy trial while time is left

It writes results.json (after every step, so a killed run still leaves what it measured) and
steps.log (every command and its output) under --out, and prints a summary table last.

    python bench/gpu_check.py plan [--smoke]
    python bench/gpu_check.py run --data DIR --out DIR [--work DIR] [--smoke] [--only a,b]

--smoke runs the same code paths on a CPU with tiny sizes (a development check, not a figure).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

# The code is in bench/gpu/, one module a concern; this is its command line.
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.gpu.check import Check  # noqa: E402
from bench.gpu.commands import Context  # noqa: E402
from bench.gpu.measure import MEASUREMENTS  # noqa: E402
from bench.gpu.plan import (  # noqa: E402
    GPU,
    OPTIONAL_STEPS,
    PROFILES,
    SMOKE,
    STEPS,
    print_plan,
    with_limits,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    plan = sub.add_parser("plan", help="print the steps, their limits and the total")
    plan.add_argument("--smoke", action="store_true")
    run = sub.add_parser("run", help="measure")
    run.add_argument("--data", type=Path, required=True, help="the extracted cifar10-jpeg folder")
    run.add_argument("--out", type=Path, required=True)
    run.add_argument("--work", type=Path, help="scratch folder [default: OUT/../work]")
    run.add_argument("--smoke", action="store_true", help="CPU, tiny sizes: the code paths only")
    run.add_argument("--only", help="comma-separated steps to run (the others are skipped)")
    measure = sub.add_parser("_measure", help=argparse.SUPPRESS)
    measure.add_argument("kind", choices=sorted(MEASUREMENTS))
    measure.add_argument("--profile", choices=sorted(PROFILES), required=True)
    measure.add_argument("--full", type=Path, required=True)
    measure.add_argument("--small", type=Path, required=True)
    measure.add_argument("--result", type=Path, required=True)
    args = parser.parse_args(argv)

    if args.command == "plan":
        return 0 if print_plan(with_limits(SMOKE if args.smoke else GPU)) else 1
    if args.command == "_measure":
        result = MEASUREMENTS[args.kind](PROFILES[args.profile], args.full, args.small)
        args.result.write_text(json.dumps(result, indent=1))
        return 0

    profile = with_limits(SMOKE if args.smoke else GPU)
    if not args.smoke and shutil.which("nvidia-smi") is None:
        print("error: no nvidia-smi here: this measures a GPU (use --smoke for the code paths)")
        return 2
    if not (args.data / "train").is_dir():
        print(f"error: {args.data}/train is missing: pass the extracted cifar10-jpeg folder")
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    work = args.work or args.out.parent / "work"
    work.mkdir(parents=True, exist_ok=True)
    only = {s.strip() for s in args.only.split(",")} if args.only else None
    known = [*STEPS, *OPTIONAL_STEPS]
    if only is not None and (unknown := only - set(known)):
        print(f"error: --only: unknown steps {sorted(unknown)}; known: {', '.join(known)}")
        return 2
    print_plan(profile)
    return Check(Context(profile, args.data.resolve(), args.out, work.resolve()), only).run()


if __name__ == "__main__":
    sys.exit(main())
