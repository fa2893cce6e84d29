"""The plan of the GPU check: its profiles, the steps with their time limits, the budget."""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

ROOT = Path(__file__).resolve().parents[2]
SPACE = ROOT / "search_spaces" / "cifar10_resnet9.json"
#: The speed recipe (``model: airbench``): its baseline at several seeds in one worker.
SPEEDRUN_SPACE = ROOT / "search_spaces" / "cifar10_speedrun.json"
#: The entry point: it runs the measurements in subprocesses of its own (``_measure KIND``).
DRIVER = ROOT / "bench" / "gpu_check.py"
#: The whole call may run 10 minutes; planning for 6 leaves room for a second try.
BUDGET_S = 360.0
#: Goals the figures are judged against.
GOAL_RATIO = 0.9
GOAL_BUSY = 0.9
#: The fast ResNet-9 report (the recipe's source) reached 94.1 % in 20 epochs, in 420 s;
#: the space's baseline runs 16 epochs.
GOAL_TEST_ACC = 0.92
#: The speed recipe's goal (issue 12): mean test accuracy ≥ 94.0 % over ≥ 5 seeds in ≤ 4 s
#: per trial, from the trial's start to its tell, through hpo worker on one H100 / H200.
GOAL_SPEEDRUN_ACC = 0.94
GOAL_SPEEDRUN_SECONDS = 4.0
GOAL_SPEEDRUN_SEEDS = 5


@dataclass(frozen=True)
class Case:
    """One throughput measurement: a model at a resolution and batch size."""

    model: str
    resolution: int
    batch: int

    @property
    def label(self) -> str:
        return f"{self.model}@{self.resolution}"

    @property
    def small_images(self) -> bool:
        # At ≤ 64 px the images are stored as used: the whole CIFAR-10 set fits anywhere.
        return self.resolution <= 64


@dataclass(frozen=True)
class Profile:
    """Sizes and time limits: ``gpu`` for the figures, ``smoke`` for a CPU run of the paths."""

    name: str
    device: str
    budget: float
    setup: float  # planned seconds of gpu_check.sh before this driver starts
    limits: dict[str, float]  # seconds per step: its timeout and its share of the budget
    cases: tuple[Case, ...]
    steps: int  # timed steps per throughput measurement
    warmup: int
    repeats: int  # alternating real / synthetic rounds; the best of each is kept
    sync_steps: tuple[int, int]  # two run lengths: their difference cancels the setup's syncs
    small_train: int  # images per class of the small copy (large images are stored bigger)
    small_test: int
    trials_on_small: bool  # accuracy / packing / oom on the small copy instead of the full one
    accuracy_params: tuple[str, ...]  # extra -p for the accuracy study
    pack_params: tuple[str, ...]  # extra -p for the packing studies
    pack_trials: tuple[int, int]  # trials of the packing study with 1 and with 2 per GPU
    extra_seeds: int  # at most this many more accuracy seeds, in the time left
    speedrun_seeds: int  # the speed recipe's baseline at seeds 0.. in one worker
    speedrun_params: tuple[str, ...]  # extra -p for the speed-recipe studies
    compile_seeds: int  # the same with compile: true, in the time left (0: not at all)
    compile_limit: float  # its limit: it runs only when that much is left


GPU = Profile(
    name="gpu",
    device="cuda",
    budget=BUDGET_S,
    setup=25,
    # Guesses until the first GPU run (no GPU figure exists yet); each step reports what it
    # took, so a second run can set them from the first (HPO_CHECK_LIMITS).
    limits={
        "warm": 40,
        "throughput": 50,
        "syncs": 20,
        "accuracy": 65,
        "speedrun": 70,
        "pack1": 35,
        "pack2": 35,
        "oom": 20,
    },
    cases=(Case("resnet9", 32, 512), Case("resnet18", 224, 128), Case("mobilenet_v2", 224, 128)),
    steps=50,
    warmup=10,
    repeats=2,
    sync_steps=(5, 25),
    small_train=500,  # 5,000 images at 256 px: 1 GB, where all 50,000 would be 10 GB
    small_test=0,
    trials_on_small=False,
    accuracy_params=(),
    # Short trials, so that a 45-second study holds several; every trial trains to the end.
    pack_params=("num_epochs=2",),
    pack_trials=(4, 6),
    extra_seeds=4,
    speedrun_seeds=GOAL_SPEEDRUN_SEEDS,
    speedrun_params=(),
    compile_seeds=3,
    compile_limit=120,
)

SMOKE = Profile(
    name="smoke",
    device="cpu",
    budget=1000,
    setup=15,
    limits={
        "warm": 90,
        "throughput": 120,
        "syncs": 90,
        "accuracy": 120,
        "speedrun": 150,
        "pack1": 120,
        "pack2": 150,
        "oom": 90,
    },
    # 96 px, not 64: above 64 px images are stored larger and take the random-resized-crop
    # path, as at 224 px.
    cases=(Case("resnet9", 32, 16), Case("resnet18", 96, 4), Case("mobilenet_v2", 96, 4)),
    steps=2,
    warmup=1,
    repeats=1,
    sync_steps=(1, 2),
    small_train=10,
    small_test=5,
    trials_on_small=True,
    accuracy_params=("num_epochs=1", "batch_size=32"),
    pack_params=("num_epochs=1", "batch_size=32"),
    pack_trials=(1, 2),
    extra_seeds=0,
    # Two seeds, so that the second trial runs in a warm worker; 1 epoch at batch 64 of the
    # small copy (500 images: 7 steps).
    speedrun_seeds=2,
    speedrun_params=("num_epochs=1", "batch_size=64"),
    compile_seeds=0,  # Inductor's first C++ compile alone takes about a minute on 2 cores
    compile_limit=0,
)

PROFILES = {p.name: p for p in (GPU, SMOKE)}


def with_limits(profile: Profile) -> Profile:
    """The profile with $HPO_CHECK_LIMITS applied ("accuracy=90,pack2=30"): for a second try
    that needs other limits, without an edit on the GPU machine."""
    text = os.environ.get("HPO_CHECK_LIMITS", "").strip()
    if not text:
        return profile
    limits = dict(profile.limits)
    for item in text.split(","):
        name, _, value = item.partition("=")
        if name.strip() not in limits or not value.strip().replace(".", "", 1).isdigit():
            raise SystemExit(
                f"error: HPO_CHECK_LIMITS: expected STEP=SECONDS with a step of "
                f"{', '.join(limits)}, got {item!r}"
            )
        limits[name.strip()] = float(value)
    return replace(profile, limits=limits)


STEPS: dict[str, str] = {
    "warm": "decode CIFAR-10 into the uint8 cache (untimed elsewhere)",
    "throughput": "training img/s, real data path vs synthetic tensors",
    "syncs": "host syncs per training step (sync debug mode)",
    "accuracy": "cifar10_resnet9 baseline through hpo worker on SQLite, seed 0",
    "speedrun": "cifar10_speedrun baseline at seeds 0.. through one hpo worker (grid on seed)",
    "pack1": "short trials through hpo worker --gpus 0 --trials-per-gpu 1",
    "pack2": "short trials through hpo worker --gpus 0 --trials-per-gpu 2",
    "oom": "a 1000 GiB trial fails out of memory, the next completes",
}
#: Steps that run only in the time the others left (outside the plan's total).
OPTIONAL_STEPS: dict[str, str] = {
    "compile": "the speedrun baseline with compile: true, the compiled model kept warm",
}


def extra_seed_limit(profile: Profile, first_seconds: float) -> float:
    """Another accuracy seed costs what the first one did: its limit is that with a margin,
    never more than the first one's."""
    return float(min(profile.limits["accuracy"], math.ceil(first_seconds * 1.5) + 5))


def plan_total(profile: Profile) -> float:
    return profile.setup + sum(profile.limits.values())


def print_plan(profile: Profile, out: TextIO = sys.stdout) -> bool:
    """The steps with their limits; True when they fit the budget."""
    print(f"plan ({profile.name} profile), each step bounded by its own time limit:", file=out)
    print(f"  {'step':<11} {'limit':>6}  what", file=out)
    print(f"  {'setup':<11} {profile.setup:>5.0f}s  gpu_check.sh: wheels, archive", file=out)
    for name, what in STEPS.items():
        print(f"  {name:<11} {profile.limits[name]:>5.0f}s  {what}", file=out)
    total = plan_total(profile)
    if profile.compile_seeds:
        print(
            f"  {'compile':<11} {profile.compile_limit:>5.0f}s  in the time left: the speedrun"
            f" baseline with compile: true at {profile.compile_seeds} seeds in one worker",
            file=out,
        )
    print(
        f"  {'accuracy+':<11} {'':>6}  up to {profile.extra_seeds} more seeds in the time left,"
        " each limited to 1.5 x the first one's time + 5 s",
        file=out,
    )
    fits = total <= profile.budget
    verdict = "fits" if fits else "DOES NOT FIT"
    print(f"plan total {total:.0f} s of {profile.budget:.0f} s: {verdict}", file=out)
    return fits
