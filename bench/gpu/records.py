"""The records of the steps and the summary: one line per step while it runs, a table of the
figures against their goals at the end (and in results.json after every step)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .plan import (
    GOAL_BUSY,
    GOAL_RATIO,
    GOAL_SPEEDRUN_ACC,
    GOAL_SPEEDRUN_SECONDS,
    GOAL_SPEEDRUN_SEEDS,
    GOAL_TEST_ACC,
)


@dataclass
class Record:
    status: str  # ok, timeout, error, skipped
    limit: float
    seconds: float = 0.0
    note: str = ""
    result: dict[str, Any] = field(default_factory=dict)


def brief(key: str, r: dict[str, Any]) -> str:
    """One line of a step's result for the progress output (results.json has it all)."""
    if key == "warm":
        decoded = ", ".join(f"{k} {v:.0f} s" for k, v in r["decode_seconds"].items())
        return f"{r['device'].get('gpu', 'no GPU')}, torch {r['device']['torch']}; {decoded}"
    if key == "throughput":
        return "real/synthetic " + ", ".join(f"{k} {v['ratio']:g}" for k, v in r["cases"].items())
    if key == "syncs":
        cases = []
        for label, case in r["cases"].items():
            # Where they come from, as file:line (results.json has the source lines).
            sites = [s.split()[0].split("/")[-1] for s in case["sites_per_step"]]
            cases.append(
                f"{label} {case['syncs_per_step']:g}" + (f" ({', '.join(sites)})" if sites else "")
            )
        return "host syncs per step " + "; ".join(cases)
    if key.startswith("accuracy"):
        return (
            f"test acc {r['test_acc']}, val acc {r['val_acc']}, {r['trial_seconds']} s per trial,"
            f" {r['train_img_s']} img/s"
        )
    if key in ("speedrun", "compile"):
        text = (
            f"{r['seeds']} seeds, test acc mean {r['test_acc_mean']}, {r['trial_seconds_mean']} s"
            f" per trial ({_first_later(r)})"
        )
        if key == "compile":
            spent = [t.get("compile_seconds") for t in r["trials"]]
            text += f"; compile seconds per trial {spent}"
        return text
    if key.startswith("pack"):
        return f"{r['trials']}, {r['trials_per_gpu_hour']} trials/GPU-hour, busy {r['gpu_busy']}"
    if key == "oom":
        states = ", ".join(f"#{t['number']} {t['gib']} GiB {t['state']}" for t in r["trials"])
        return f"{'passed' if r['passed'] else 'FAILED'}: {states}"
    return json.dumps(r)[:200]


@dataclass(frozen=True)
class Row:
    figure: str
    value: str
    goal: str
    status: str  # pass, fail, info, skipped, timeout, error


def summary_rows(records: dict[str, Record]) -> list[dict[str, str]]:
    return [asdict(r) for r in _rows(records)]


def _rows(records: dict[str, Record]) -> list[Row]:
    rows: list[Row] = []

    def missing(figure: str, goal: str, key: str) -> None:
        record = records.get(key)
        status = record.status if record else "skipped"
        note = record.note if record else "not run"
        rows.append(Row(figure, f"({note[:60]})" if note else "-", goal, status))

    tp = records.get("throughput")
    if tp and tp.status == "ok":
        for label, case in tp.result["cases"].items():
            img_s = f"{case['real_img_s']:.0f} / {case['synthetic_img_s']:.0f} img/s"
            value = f"{case['ratio']:.3f} ({img_s})"
            status = "pass" if case["ratio"] >= GOAL_RATIO else "fail"
            rows.append(Row(f"real/synthetic {label}", value, f">= {GOAL_RATIO}", status))
    else:
        missing("real/synthetic img/s", f">= {GOAL_RATIO}", "throughput")

    sy = records.get("syncs")
    if sy and sy.status == "ok":
        for label, case in sy.result["cases"].items():
            value = f"{case['syncs_per_step']:g}"
            if case["harness_syncs_per_step"]:
                value += f" (+{case['harness_syncs_per_step']:g} of the benchmark harness)"
            status = "pass" if case["syncs_per_step"] == 0 else "fail"
            rows.append(Row(f"host syncs/step {label}", value, "0", status))
    else:
        missing("host syncs per step", "0", "syncs")

    accuracy = [r for k, r in records.items() if k.startswith("accuracy") and r.status == "ok"]
    if accuracy:
        tests = [float(r.result["test_acc"]) for r in accuracy if r.result["test_acc"] is not None]
        secs = [float(r.result["trial_seconds"]) for r in accuracy if r.result["trial_seconds"]]
        if tests:
            mean = sum(tests) / len(tests)
            spread = f", {min(tests):.4f}-{max(tests):.4f}" if len(tests) > 1 else ""
            value = f"{mean:.4f} (mean of {len(tests)} seeds{spread})"
            status = "pass" if mean >= GOAL_TEST_ACC else "fail"
            rows.append(Row("resnet9 baseline test acc", value, f">= {GOAL_TEST_ACC}", status))
        if secs:
            epochs = accuracy[0].result["epochs"]
            value = f"{sum(secs) / len(secs):.1f} s ({epochs:g} epochs)"
            rows.append(Row("seconds per trial", value, "(report: 420 s, 20 ep)", "info"))
    else:
        missing("resnet9 baseline test acc", f">= {GOAL_TEST_ACC}", "accuracy-0")

    rows.extend(_speedrun_rows(records))

    for key in ("pack1", "pack2"):
        record = records.get(key)
        if record and record.status == "ok":
            r = record.result
            n = r["trials"].get("COMPLETE", 0)
            per_hour = r["trials_per_gpu_hour"]
            value = f"{per_hour} ({r['epochs_per_gpu_hour']} epochs/GPU-h; {n} complete)"
            if "limit" in r["note"]:
                value += " (step limit hit)"
            rows.append(Row(f"trials/GPU-hour, {r['per_gpu']}/GPU", value, "-", "info"))
            if r["gpu_busy"] is not None:
                status = "pass" if r["gpu_busy"] >= GOAL_BUSY else "fail"
                value = f"{r['gpu_busy']:.2f} (whole run {r['gpu_busy_whole_run']:.2f})"
                rows.append(Row(f"GPU busy, {r['per_gpu']}/GPU", value, f">= {GOAL_BUSY}", status))
            else:
                rows.append(
                    Row(f"GPU busy, {r['per_gpu']}/GPU", "no samples", f">= {GOAL_BUSY}", "info")
                )
        else:
            missing(f"trials/GPU-hour, {key[-1]}/GPU", "-", key)

    oom = records.get("oom")
    if oom and oom.status == "ok":
        r = oom.result
        value = (
            f"OOM trial FAIL: {r['oom_failed_with_reason']}, next completes: {r['next_completed']}"
        )
        rows.append(Row("out-of-memory recovery", value, "both", "pass" if r["passed"] else "fail"))
    else:
        missing("out-of-memory recovery", "both", "oom")
    return rows


def _speedrun_rows(records: dict[str, Record]) -> list[Row]:
    """The speed recipe against its goal, and with compile: true when that ran."""
    rows: list[Row] = []
    goal_acc = f">= {GOAL_SPEEDRUN_ACC} ({GOAL_SPEEDRUN_SEEDS} seeds)"
    goal_s = f"<= {GOAL_SPEEDRUN_SECONDS:g} s"
    record = records.get("speedrun")
    if not (record and record.status == "ok"):
        status = record.status if record else "skipped"
        note = f"({(record.note if record else 'not run')[:60]})"
        return [Row("speedrun test acc", note, goal_acc, status)]
    r = record.result
    if r["test_acc_mean"] is not None:
        enough = r["seeds"] >= GOAL_SPEEDRUN_SEEDS
        tests = [t["test_acc"] for t in r["trials"] if t["test_acc"] is not None]
        value = f"{r['test_acc_mean']:.4f} (mean of {r['seeds']} seeds, {min(tests):.4f}-"
        value += f"{max(tests):.4f})"
        ok = enough and r["test_acc_mean"] >= GOAL_SPEEDRUN_ACC
        rows.append(Row("speedrun test acc", value, goal_acc, "pass" if ok else "fail"))
    if r["trial_seconds_mean"] is not None:
        value = f"{r['trial_seconds_mean']:.2f} ({_first_later(r)})"
        value += " (step limit hit)" if r["note"] else ""
        ok = r["trial_seconds_mean"] <= GOAL_SPEEDRUN_SECONDS
        rows.append(Row("speedrun s/trial, start to tell", value, goal_s, "pass" if ok else "fail"))
    compiled = records.get("compile")
    if compiled and compiled.status == "ok":
        c = compiled.result
        spent = [t.get("compile_seconds") for t in c["trials"]]
        reused = [t.get("compile_reused") for t in c["trials"]]
        value = f"{c['trial_seconds_mean']} s/trial ({_first_later(c)});"
        value += f" compile s {spent}, reused {reused}"
        if c["test_acc_mean"] is not None:
            value += f"; test acc {c['test_acc_mean']:.4f}"
        rows.append(Row("speedrun with compile: true", value, "-", "info"))
    elif compiled:
        rows.append(
            Row("speedrun with compile: true", f"({compiled.note[:60]})", "-", compiled.status)
        )
    return rows


def _first_later(r: dict[str, Any]) -> str:
    """The first trial's seconds and the later ones' mean, or that only one was timed."""
    first, later = r["trial_seconds_first"], r["trial_seconds_later_mean"]
    if first is None:
        return "no trial timed"
    if later is None:
        return f"first {first}, the only trial timed"
    return f"first {first}, later {later:.2f}"


def print_summary(records: dict[str, Record], elapsed: float, out: Path) -> None:
    rows = _rows(records)
    widths = [
        max(len(getattr(r, f)) for r in [*rows, Row("figure", "value", "goal", "status")])
        for f in ("figure", "value", "goal", "status")
    ]
    print()
    print(f"GPU check: {elapsed:.0f} s; results in {out / 'results.json'}")
    header = Row("figure", "value", "goal", "status")
    for row in [header, *rows]:
        cells = (row.figure, row.value, row.goal, row.status)
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip())
    statuses = Counter(r.status for r in rows)
    print("; ".join(f"{n} {s}" for s, n in sorted(statuses.items())))
