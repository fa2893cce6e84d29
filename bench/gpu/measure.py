"""The measurements that call ``training`` directly, inside one process (run as
``gpu_check.py _measure KIND`` in a subprocess): warm, throughput, syncs."""

from __future__ import annotations

import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .plan import DRIVER, ROOT, Case, Profile

#: This package: with the entry point, the check's own code, never where a sync comes from.
PACKAGE = Path(__file__).resolve().parent


def case_params(profile: Profile, case: Case, full: Path, small: Path) -> dict[str, Any]:
    """A trial's params for a throughput case (the ones that matter to a training step)."""
    on_full = case.small_images and not profile.trials_on_small
    return {
        "model": case.model,
        # CIFAR-10 at 32 px is the accuracy trial's data set too: decoding it here warms the
        # cache those trials read. Large images come from the small copy, as an image folder.
        "dataset": "cifar10" if case.small_images else "imagefolder",
        "data_dir": str(full if on_full else small),
        "resolution": case.resolution,
        "batch_size": case.batch,
        "lr": 0.01,
        "momentum": 0.9,
        "device": profile.device,
        "num_epochs": 1,
    }


def measure_warm(profile: Profile, full: Path, small: Path) -> dict[str, Any]:
    import torch

    from training.throughput import throughput

    info: dict[str, Any] = {
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(),  # type: ignore[no-untyped-call]
        "cuda_available": torch.cuda.is_available(),
    }
    if torch.cuda.is_available():
        properties = torch.cuda.get_device_properties(0)
        info["gpu"] = properties.name
        info["gpu_memory_gib"] = round(properties.total_memory / 2**30, 1)
        info["capability"] = ".".join(map(str, torch.cuda.get_device_capability(0)))
        info["bf16"] = torch.cuda.is_bf16_supported()
    decoded: dict[str, float] = {}
    seen: set[tuple[str, str, int]] = set()
    for case in profile.cases:
        params = case_params(profile, case, full, small)
        key = (params["dataset"], params["data_dir"], case.resolution)
        if key in seen:
            continue
        seen.add(key)
        started = time.perf_counter()
        throughput(params, steps=1, warmup=0)  # decodes into the cache file (once per machine)
        decoded[f"{params['dataset']}@{case.resolution}"] = round(time.perf_counter() - started, 2)
    return {"device": info, "decode_seconds": decoded}


def measure_throughput(profile: Profile, full: Path, small: Path) -> dict[str, Any]:
    from training.throughput import throughput

    rows: dict[str, Any] = {}
    for case in profile.cases:
        params = case_params(profile, case, full, small)
        throughput(params, steps=1, warmup=0)  # the data set onto the device, outside the timing
        real: list[float] = []
        synthetic: list[float] = []
        for _ in range(profile.repeats):  # interleaved: drift hits both sides alike
            real.append(throughput(params, steps=profile.steps, warmup=profile.warmup))
            synthetic.append(
                throughput(params, steps=profile.steps, warmup=profile.warmup, synthetic=True)
            )
        best_real, best_synthetic = max(real), max(synthetic)
        rows[case.label] = {
            "batch": case.batch,
            "real": [round(x, 1) for x in real],
            "synthetic": [round(x, 1) for x in synthetic],
            "real_img_s": round(best_real, 1),
            "synthetic_img_s": round(best_synthetic, 1),
            "ratio": round(best_real / best_synthetic, 3),
            "ms_per_step_real": round(1000 * case.batch / best_real, 2),
        }
        print(f"{case.label}: {rows[case.label]}", flush=True)
    return {"steps": profile.steps, "warmup": profile.warmup, "cases": rows}


def sync_site(stack: traceback.StackSummary) -> tuple[str, bool]:
    """Where a sync came from: the innermost frame of this repository, and whether it is the
    throughput harness's own batch sampling (``throughput``'s ``batch``), not training code."""
    for frame in reversed(stack):
        path = Path(frame.filename)
        if path.is_relative_to(ROOT) and path.name != DRIVER.name and path.parent != PACKAGE:
            relative = path.relative_to(ROOT)
            harness = relative == Path("training/throughput.py") and frame.name == "batch"
            return f"{relative}:{frame.lineno} {frame.name}: {(frame.line or '').strip()}", harness
    return "outside the repository", False


def count_syncs(params: dict[str, Any], steps: int) -> tuple[Counter[str], set[str]]:
    """Host syncs of ``throughput`` over ``steps`` steps (set-up included), per source line."""
    import torch

    from training.throughput import throughput

    sites: Counter[str] = Counter()
    harness: set[str] = set()

    def record(message: Warning | str, *args: object, **kwargs: object) -> None:
        if "synchroniz" not in str(message):
            return
        site, is_harness = sync_site(traceback.extract_stack())
        sites[site] += 1
        if is_harness:
            harness.add(site)

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = record  # restored by catch_warnings
        cuda = torch.cuda.is_available()  # without (a smoke run), the path runs, counting 0
        if cuda:
            torch.cuda.set_sync_debug_mode("warn")
        try:
            throughput(params, steps=steps, warmup=0)
        finally:
            if cuda:
                torch.cuda.set_sync_debug_mode("default")
    return sites, harness


def measure_syncs(profile: Profile, full: Path, small: Path) -> dict[str, Any]:
    short, long = profile.sync_steps
    rows: dict[str, Any] = {}
    # One 32-px case (translate + flip) and one large-image case (random-resized crop + flip).
    cases = [profile.cases[0], profile.cases[1]]
    for case in cases:
        params = case_params(profile, case, full, small)
        count_syncs(params, 1)  # data onto the device and autotuning, outside the counts
        few, harness_few = count_syncs(params, short)
        many, harness_many = count_syncs(params, long)
        # The difference cancels the set-up's syncs (model to the device, ...): per step only.
        per_step = {
            site: round((many[site] - few[site]) / (long - short), 2)
            for site in set(many) | set(few)
            if many[site] != few[site]
        }
        harness = harness_few | harness_many
        loop = sum(v for s, v in per_step.items() if s not in harness)
        rows[case.label] = {
            "syncs_per_step": round(loop, 2),
            "harness_syncs_per_step": round(sum(v for s, v in per_step.items() if s in harness), 2),
            "sites_per_step": dict(sorted(per_step.items(), key=lambda kv: -kv[1])),
            "setup_syncs": sum(few.values()) - round(sum(per_step.values()) * short),
        }
        print(f"{case.label}: {rows[case.label]}", flush=True)
    return {"steps": [short, long], "cases": rows}


MEASUREMENTS: dict[str, Callable[[Profile, Path, Path], dict[str, Any]]] = {
    "warm": measure_warm,
    "throughput": measure_throughput,
    "syncs": measure_syncs,
}
