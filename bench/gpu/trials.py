"""The steps that go through the ``hpo`` command line: accuracy, packing, out-of-memory."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from .commands import Context, StepError, StepTimeoutError
from .plan import SPACE, SPEEDRUN_SPACE
from .utilisation import Utilisation


def read_trials(url: str, study: str) -> list[dict[str, Any]]:
    """The study's trials as plain data (Optuna comes from the shipped wheels there)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rows = []
    for t in optuna.load_study(study_name=study, storage=url).trials:
        rows.append(
            {
                "number": t.number,
                "state": t.state.name,
                "value": t.value if t.values is not None and len(t.values) == 1 else None,
                "params": t.params,
                "error": t.user_attrs.get("hpo:error"),
                "metrics": t.user_attrs.get("hpo:metrics") or {},
                "start": t.datetime_start.timestamp() if t.datetime_start else None,
                "complete": t.datetime_complete.timestamp() if t.datetime_complete else None,
            }
        )
    return rows


def seconds(trial: dict[str, Any]) -> float | None:
    if trial["start"] is None or trial["complete"] is None:
        return None
    return round(float(trial["complete"] - trial["start"]), 1)


def step_accuracy(ctx: Context, deadline: float, seed: int) -> dict[str, Any]:
    name = f"acc-s{seed}"
    url = ctx.sqlite(name)
    create = ["create-study", "--space", str(SPACE), "--name", name, "--storage", url]
    create += ["--max-trials", "1", "--seed", str(seed), "--pruner", "none"]
    create += ["--checkpoint-dir", str(ctx.work / "checkpoints")]
    create += ["-p", f"data_dir={ctx.trial_data}"]
    for param in ctx.profile.accuracy_params:
        create += ["-p", param]
    ctx.hpo(create, deadline)
    started = time.time()
    with Utilisation() as gpu:
        ctx.hpo(["worker", "--study", name, "--storage", url], deadline)
    wall = time.time() - started
    trials = read_trials(url, name)
    if not trials or trials[0]["state"] != "COMPLETE":
        state = trials[0]["state"] if trials else "missing"
        error = trials[0]["error"] if trials else ""
        raise StepError(f"the baseline trial ended {state}: {error}")
    trial = trials[0]
    metrics = trial["metrics"]
    return {
        "seed": seed,
        "val_acc": trial["value"],
        "test_acc": metrics.get("test_acc"),
        "epochs": metrics.get("epochs"),
        "trial_seconds": seconds(trial),
        "train_seconds": round(float(metrics.get("train_seconds", 0.0)), 1),
        "train_img_s": round(float(metrics.get("images_per_second", 0.0)), 1),
        "worker_wall_seconds": round(wall, 1),
        "gpu_busy": _round(gpu.busy(trial["start"], trial["complete"])),
        "gpu_peak_mib": gpu.peak_mib(),
    }


def speedrun_space(ctx: Context, seeds: int) -> Path:
    """The speed recipe's space with its baseline params at ``seeds`` seeds: a grid over the
    seed alone, every other param fixed at the baseline's value (the params give no seed, so
    there is no separate baseline trial: one trial per seed, 0..)."""
    config = json.loads(SPEEDRUN_SPACE.read_text())
    assert "seed" not in config["params"]
    config["search_space"] = {"seed": {"_type": "choice", "_value": list(range(seeds))}}
    path = ctx.work / "speedrun_seeds.json"
    path.write_text(json.dumps(config, indent=1))
    return path


def step_speedrun(ctx: Context, deadline: float, *, compiled: bool = False) -> dict[str, Any]:
    """The speed recipe's baseline at several seeds through one ``hpo worker``: seconds per
    trial from its start to its tell (the first one reads the data onto the GPU, and with
    ``compiled`` compiles; the others find both warm) and test accuracy."""
    p = ctx.profile
    seeds = p.compile_seeds if compiled else p.speedrun_seeds
    name = "speedrun-compile" if compiled else "speedrun"
    url = ctx.sqlite(name)
    space = speedrun_space(ctx, seeds)
    create = ["create-study", "--space", str(space), "--name", name, "--storage", url]
    create += ["--sampler", "grid", "--pruner", "none", "--max-trials", str(seeds)]
    create += ["--checkpoint-dir", str(ctx.work / "checkpoints")]
    create += ["-p", f"data_dir={ctx.trial_data}"]
    for param in [*p.speedrun_params, *(["compile=true"] if compiled else [])]:
        create += ["-p", param]
    ctx.hpo(create, deadline)
    started = time.time()
    note = ""
    with Utilisation() as gpu:
        try:
            ctx.hpo(["worker", "--study", name, "--storage", url], deadline)
        except StepTimeoutError:
            note = "the worker ran into the step's limit (killed): figures of the completed trials"
    wall = time.time() - started
    trials = read_trials(url, name)
    complete = sorted((t for t in trials if t["state"] == "COMPLETE"), key=lambda t: t["number"])
    if not complete:
        states = dict(Counter(t["state"] for t in trials))
        error = next((t["error"] for t in trials if t["error"]), "")
        raise (StepTimeoutError if note else StepError)(f"no trial completed {states} {error}")
    rows = [
        {
            "number": t["number"],
            "seed": t["params"].get("seed"),
            "test_acc": _round(t["metrics"].get("test_acc")),
            "val_acc": _round(t["value"]),
            "trial_seconds": seconds(t),
            "train_seconds": _round(t["metrics"].get("train_seconds"), 2),
            **{
                key: _round(t["metrics"].get(key), 2)
                for key in (
                    "compile_seconds",
                    "compile_saved_seconds",
                    "compile_reused",
                    "compile_fell_back",
                )
                if key in t["metrics"]
            },
        }
        for t in complete
    ]
    tests = [r["test_acc"] for r in rows if r["test_acc"] is not None]
    secs = [r["trial_seconds"] for r in rows if r["trial_seconds"] is not None]
    return {
        "compile": compiled,
        "note": note,
        "trials": rows,
        "seeds": len(rows),
        "test_acc_mean": _round(sum(tests) / len(tests)) if tests else None,
        "trial_seconds_mean": _round(sum(secs) / len(secs), 2) if secs else None,
        "trial_seconds_first": secs[0] if secs else None,
        "trial_seconds_later_mean": _round(sum(secs[1:]) / len(secs[1:]), 2)
        if len(secs) > 1
        else None,
        "worker_wall_seconds": round(wall, 1),
        "gpu_busy": _round(gpu.busy(complete[0]["start"], complete[-1]["complete"])),
        "gpu_peak_mib": gpu.peak_mib(),
    }


def step_pack(ctx: Context, deadline: float, per_gpu: int) -> dict[str, Any]:
    name = f"pack{per_gpu}"
    url = ctx.sqlite(name)
    create = ["create-study", "--space", str(SPACE), "--name", name, "--storage", url]
    count = ctx.profile.pack_trials[per_gpu - 1]
    create += ["--max-trials", str(count), "--seed", str(100 + per_gpu)]
    create += ["--pruner", "none", "--checkpoint-dir", str(ctx.work / "checkpoints")]
    create += ["-p", f"data_dir={ctx.trial_data}"]
    for param in ctx.profile.pack_params:
        create += ["-p", param]
    ctx.hpo(create, deadline)
    started = time.time()
    worker = ["worker", "--study", name, "--storage", url]
    note = ""
    if ctx.profile.device == "cuda":
        worker += ["--gpus", "0", "--trials-per-gpu", str(per_gpu)]
    else:  # a smoke run: --gpus refuses a machine without nvidia-smi
        note = "no GPU: one plain hpo worker, not the --gpus supervisor; "
    with Utilisation() as gpu:
        try:
            ctx.hpo(worker, deadline)
        except StepTimeoutError:
            # The trials that completed still give the rate: keep them (the read takes a
            # second past the limit).
            note += (
                "the workers ran into the step's limit (killed): figures of the completed trials"
            )
    ended = time.time()
    trials = read_trials(url, name)
    finished = [t for t in trials if t["complete"] is not None]
    complete = [t for t in finished if t["state"] == "COMPLETE"]
    states = Counter(t["state"] for t in trials)
    if not complete:
        if "limit" in note:
            raise StepTimeoutError(
                f"the step's limit came before any trial completed {dict(states)}"
            )
        raise StepError(f"no trial completed {dict(states)}")
    # Steady state: from the first trial's start to the last one's end. Worker start-up
    # (imports, CUDA, data onto the GPU) is paid once per worker on a real search, and is
    # reported separately as the busy fraction over the whole run.
    first = min(float(t["start"]) for t in finished)
    last = max(float(t["complete"]) for t in finished)
    hours = (last - first) / 3600
    epochs = sum(float(t["metrics"].get("epochs", 0.0)) for t in complete)
    return {
        "per_gpu": per_gpu,
        "note": note,
        "trials": dict(states),
        "trial_seconds_mean": _round(
            sum(s for t in complete if (s := seconds(t)) is not None) / len(complete), 1
        ),
        "trials_per_gpu_hour": round(len(complete) / hours) if hours > 0 else None,
        # Transferable to longer trials: a 16-epoch trial takes about 16 of these.
        "epochs_per_gpu_hour": round(epochs / hours) if hours > 0 else None,
        "gpu_busy": _round(gpu.busy(first, last)),
        "gpu_busy_whole_run": _round(gpu.busy()),
        "worker_wall_seconds": round(ended - started, 1),
        "gpu_peak_mib": gpu.peak_mib(),
        "samples": len(gpu.samples),
        "val_acc": [_round(t["value"]) for t in complete],
    }


OOM_OBJECTIVE = '''\
"""The objective of gpu_check.py's oom step: allocate params["gib"] GiB on the GPU."""

import torch


def run(params):
    cuda = torch.cuda.is_available()
    # What the worker left reserved from the trials before: the OOM's memory must be gone.
    reserved = torch.cuda.memory_reserved() / 2**30 if cuda else 0.0
    device = "cuda" if cuda else "cpu"
    block = torch.empty(int(params["gib"] * 2**30), dtype=torch.uint8, device=device)
    block.fill_(1)
    touched = int(block[:: 2**20].sum())  # waits for the fill: the memory is really used
    del block
    return {"default": 1.0, "reserved_before_gib": reserved, "touched_mib": touched}
'''


def step_oom(ctx: Context, deadline: float) -> dict[str, Any]:
    folder = ctx.work / "oom"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "oom_objective.py").write_text(OOM_OBJECTIVE)
    space = {
        "config": {"experimentName": "oom", "tuner": {"builtinTunerName": "GridSearch"}},
        # Trial 0 is this baseline (1000 GiB, more than any GPU has); the grid then runs
        # both points, so a 1 GiB trial follows on the same worker process.
        "params": {"gib": 1000},
        "search_space": {"gib": {"_type": "choice", "_value": [1000, 1]}},
    }
    (folder / "oom_space.json").write_text(json.dumps(space, indent=1))
    url = ctx.sqlite("oom")
    create = ["create-study", "--space", str(folder / "oom_space.json"), "--name", "oom"]
    create += ["--storage", url, "--objective", f"{folder / 'oom_objective.py'}:run"]
    create += ["--max-trials", "3", "--pruner", "none"]
    ctx.hpo(create, deadline)
    ctx.hpo(["worker", "--study", "oom", "--storage", url], deadline)
    trials = read_trials(url, "oom")
    sequence = [
        {
            "number": t["number"],
            "gib": t["params"].get("gib"),
            "state": t["state"],
            "error": t["error"],
            "reserved_before_gib": _round(t["metrics"].get("reserved_before_gib")),
        }
        for t in trials
    ]
    first = sequence[0] if sequence else None
    failed_oom = bool(
        first
        and first["gib"] == 1000
        and first["state"] == "FAIL"
        and str(first["error"] or "").startswith("out of memory")
    )
    later_ok = [t for t in sequence[1:] if t["gib"] == 1 and t["state"] == "COMPLETE"]
    return {
        "trials": sequence,
        "oom_failed_with_reason": failed_oom,
        "next_completed": bool(later_ok),
        "reserved_before_next_gib": later_ok[0]["reserved_before_gib"] if later_ok else None,
        "passed": failed_oom and bool(later_ok),
    }


def _round(value: Any, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)
