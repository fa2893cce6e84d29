"""The run: the steps in order, each under its limit while the budget allows, recorded."""

from __future__ import annotations

import functools
import json
import os
import platform
import shutil
import subprocess
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .commands import Context, StepError, StepTimeoutError
from .plan import OPTIONAL_STEPS, STEPS, extra_seed_limit
from .records import Record, brief, print_summary, summary_rows
from .trials import step_accuracy, step_oom, step_pack, step_speedrun


def small_copy(full: Path, dest: Path, train: int, test: int) -> Path:
    """The first ``train`` / ``test`` images of each class as symlinks: no copy, made once."""
    done = dest / ".complete"
    if done.exists():
        return dest
    shutil.rmtree(dest, ignore_errors=True)
    for split, count in (("train", train), ("test", test)):
        if count == 0:
            continue
        source = full / split
        if not source.is_dir():
            raise StepError(f"{source} is missing: the CIFAR-10 JPEG copy is not extracted there")
        for folder in sorted(p for p in source.iterdir() if p.is_dir()):
            target = dest / split / folder.name
            target.mkdir(parents=True)
            for image in sorted(folder.iterdir())[:count]:
                (target / image.name).symlink_to(image)
    done.touch()
    return dest


class Check:
    """One run of the steps, recorded in results.json after each."""

    def __init__(self, ctx: Context, only: set[str] | None) -> None:
        self.ctx = ctx
        self.only = only
        self.started = float(os.environ.get("HPO_CHECK_STARTED") or time.time())
        self.deadline = self.started + ctx.profile.budget
        self.records: dict[str, Record] = {}
        self.results: dict[str, Any] = {
            "profile": ctx.profile.name,
            "budget_s": ctx.profile.budget,
            "plan": {"setup": ctx.profile.setup, **ctx.profile.limits},
            "started": datetime.fromtimestamp(self.started, UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "steps": {},
        }

    def elapsed(self) -> float:
        return time.time() - self.started

    def say(self, text: str) -> None:
        print(f"[{self.elapsed():4.0f} s] {text}", flush=True)
        self.ctx.log(f"## [{self.elapsed():.0f} s] {text}")

    def step(self, key: str, limit: float, run: Callable[[float], dict[str, Any]]) -> Record:
        name = key.split("-")[0]
        if self.only is not None and name not in self.only:
            record = Record("skipped", limit, note="not in --only")
        elif time.time() + limit > self.deadline:
            left = max(0.0, self.deadline - time.time())
            record = Record(
                "skipped",
                limit,
                note=f"needs {limit:.0f} s, {left:.0f} s left of the {self.ctx.profile.budget:.0f}"
                " s plan",
            )
            self.say(f"{key}: skipped ({record.note})")
        else:
            what = STEPS.get(name) or OPTIONAL_STEPS.get(name, "another seed")
            self.say(f"{key}: {what} (limit {limit:.0f} s)")
            started = time.time()
            try:
                record = Record("ok", limit, result=run(started + limit))
            except StepTimeoutError as exc:
                record = Record("timeout", limit, note=str(exc))
            except Exception as exc:
                record = Record("error", limit, note=f"{type(exc).__name__}: {exc}")
                self.ctx.log(traceback.format_exc())
            record.seconds = round(time.time() - started, 1)
            summary = record.note or brief(key, record.result)
            self.say(f"{key}: {record.status} in {record.seconds:.0f} s; {summary}")
        self.records[key] = record
        self.results["steps"][key] = asdict(record)
        self.save()
        return record

    def save(self) -> None:
        self.results["elapsed_s"] = round(self.elapsed(), 1)
        self.results["summary"] = summary_rows(self.records)
        path = self.ctx.out / "results.json"
        path.write_text(json.dumps(self.results, indent=1, default=str) + "\n")

    def run(self) -> int:
        ctx, p = self.ctx, self.ctx.profile
        shutil.rmtree(ctx.db, ignore_errors=True)  # fresh studies on every run
        ctx.db.mkdir(parents=True)
        small_copy(ctx.full, ctx.small, p.small_train, p.small_test)
        limits = p.limits
        self.step("warm", limits["warm"], lambda d: ctx.measure("warm", d))
        self.step("throughput", limits["throughput"], lambda d: ctx.measure("throughput", d))
        self.step("syncs", limits["syncs"], lambda d: ctx.measure("syncs", d))
        self.step("accuracy-0", limits["accuracy"], lambda d: step_accuracy(ctx, d, 0))
        self.step("speedrun", limits["speedrun"], lambda d: step_speedrun(ctx, d))
        self.step("pack1", limits["pack1"], lambda d: step_pack(ctx, d, 1))
        self.step("pack2", limits["pack2"], lambda d: step_pack(ctx, d, 2))
        self.step("oom", limits["oom"], lambda d: step_oom(ctx, d))
        if p.compile_seeds:  # in the time left, before more seeds of the accuracy trial
            compiled = functools.partial(step_speedrun, ctx, compiled=True)
            self.step("compile", p.compile_limit, compiled)
        if self.records["accuracy-0"].status == "ok":
            limit = extra_seed_limit(p, self.records["accuracy-0"].seconds)
            for seed in range(1, p.extra_seeds + 1):
                if time.time() + limit > self.deadline:
                    break  # no time for another: not a skipped step, just the end
                self.step(
                    f"accuracy-{seed}", limit, functools.partial(step_accuracy, ctx, seed=seed)
                )
        self.save()
        print_summary(self.records, self.elapsed(), ctx.out)
        return 0


def machine() -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    for name in ("torch", "torchvision", "numpy", "optuna", "SQLAlchemy", "alembic", "typer"):
        try:
            info[name] = version(name)
        except PackageNotFoundError:
            info[name] = None
    if shutil.which("nvidia-smi"):
        query = "name,driver_version,memory.total"
        result = subprocess.run(
            ["nvidia-smi", f"--query-gpu={query}", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        info["nvidia_smi"] = result.stdout.strip()
    return info
