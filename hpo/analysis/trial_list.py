"""``hpo trials``: every trial of a study or group, as a table, CSV or JSON.

One record per trial: its study, number, state, value per metric, the params as the trial
received them (decoded: a choice's value, never its index), epochs reached, the step it was
pruned at, seconds, the numbers it reported (test accuracy, parameters, …), why it failed, and
the worker that ran it; in JSON also where its log is and the log's last lines (``add_logs``).
"""

from __future__ import annotations

import csv
import io
import json
import math
import shlex
from collections.abc import Sequence
from typing import Any, Literal

from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial, TrialState

from hpo import attrs
from hpo import optuna_compat as compat
from hpo.analysis.load import load_trials, resolve_studies
from hpo.analysis.trial_numbers import trial_numbers
from hpo.errors import InvalidInputError
from hpo.storage import blob_store
from hpo.study import StudySpec
from hpo.study.logs import log_tail
from hpo.text import clip, number, table

TrialFormat = Literal["table", "csv", "json"]
_SEARCHED = "_searched"
_TRIAL_ID = "_trial_id"
_LOG_PATH = "_log_path"
SortKey = Literal["number", "value", "seconds"]
STATES = {s.name.lower(): s for s in TrialState}


def parse_states(text: str | None) -> set[TrialState] | None:
    """``complete,pruned`` → those states; None for every state."""
    if not text:
        return None
    states = set()
    for name in (part.strip().lower() for part in text.split(",") if part.strip()):
        if name not in STATES:
            raise InvalidInputError(f"--state: unknown state {name!r} (known: {', '.join(STATES)})")
        states.add(STATES[name])
    return states


def trial_records(
    storage: BaseStorage,
    names: Sequence[str],
    *,
    states: set[TrialState] | None = None,
    sort: SortKey = "number",
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """The trials of these studies and groups, one JSON-ready record each."""
    specs = resolve_studies(storage, names)
    trials = load_trials(storage, specs)
    records = []
    for spec in specs:
        for trial in trials[spec.name]:
            if states is None or trial.state in states:
                records.append(_record(spec, trial))
    records.sort(key=_sort_key(sort, specs))
    return records[:limit] if limit is not None else records


def _record(spec: StudySpec, trial: FrozenTrial) -> dict[str, Any]:
    numbers = trial_numbers(trial)
    metrics = trial.user_attrs.get(attrs.METRICS)
    values = (
        dict(zip([m.name for m in spec.metrics], trial.values, strict=True))
        if trial.values is not None and len(trial.values) == len(spec.metrics)
        else None
    )
    return {
        "study": spec.name,
        "number": trial.number,
        "state": trial.state.name.lower(),
        "values": values,
        "params": _params(spec, trial),
        "epochs": numbers.epochs,
        "pruned_at": max(trial.intermediate_values)
        if trial.state == TrialState.PRUNED and trial.intermediate_values
        else None,
        "seconds": numbers.seconds,
        "test_acc": numbers.test_acc,
        "num_params": numbers.num_params,
        "metrics": dict(metrics) if isinstance(metrics, dict) else {},
        "error": trial.user_attrs.get(attrs.ERROR),
        "worker": trial.user_attrs.get(attrs.WORKER),
        "seed": trial.user_attrs.get(attrs.SEED),
        _SEARCHED: spec.space.names(),  # for the table, which shows the searched params only
        _TRIAL_ID: compat.trial_id(trial),  # for its log (add_logs)
        _LOG_PATH: trial.user_attrs.get(attrs.LOG),
    }


def add_logs(storage: BaseStorage, records: list[dict[str, Any]]) -> None:
    """Where each trial's log is (``log``) and its last lines (``log_tail``; None: no log).

    ``log`` is ``{"where": "database", "command": "hpo logs STUDY N"}`` for a log the study's
    database keeps (read from any machine), ``{"where": WORKER, "path": PATH}`` for a command
    trial's log that an older hpo kept only on the machine that ran it, None for no log.
    """
    blobs = blob_store(storage)
    for record in records:
        tail = None if blobs is None else log_tail(blobs, record[_TRIAL_ID])
        record["log_tail"] = tail
        if tail is not None:
            command = f"hpo logs {shlex.quote(record['study'])} {record['number']}"
            record["log"] = {"where": "database", "command": command}
        elif record[_LOG_PATH]:
            record["log"] = {"where": record["worker"], "path": record[_LOG_PATH]}
        else:
            record["log"] = None


def _params(spec: StudySpec, trial: FrozenTrial) -> dict[str, Any]:
    """The params as the objective received them; a trial still being sampled has only some
    (its stored ones, as stored)."""
    try:
        return spec.trial_params(trial.params)
    except (KeyError, ValueError):
        return {**spec.params, **trial.params}


def _sort_key(sort: SortKey, specs: Sequence[StudySpec]) -> Any:
    order = {spec.name: i for i, spec in enumerate(specs)}
    maximize = {spec.name: spec.metrics[0].direction == "maximize" for spec in specs}

    def key(record: dict[str, Any]) -> tuple[Any, ...]:
        if sort == "number":
            return (order[record["study"]], record["number"])
        if sort == "seconds":
            seconds = record["seconds"]
            return (seconds is None, -(seconds or 0.0), record["number"])
        values = record["values"]
        if not values:
            return (True, 0.0, record["number"])  # trials without a value last
        first = next(iter(values.values()))
        return (False, -first if maximize[record["study"]] else first, record["number"])

    return key


def as_json(records: list[dict[str, Any]]) -> str:
    return json.dumps([_public(r) for r in records], indent=2, default=str)


def _public(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if not k.startswith("_")}


def as_csv(records: list[dict[str, Any]]) -> str:
    """One row per trial; params, values and metrics as columns of their own."""
    columns: dict[str, None] = {}
    rows = []
    for record in records:
        row = {k: v for k, v in _public(record).items() if k not in ("values", "params", "metrics")}
        row.update({f"value.{k}": v for k, v in (record["values"] or {}).items()})
        row.update({f"param.{k}": _cell(v) for k, v in record["params"].items()})
        row.update({f"metric.{k}": v for k, v in record["metrics"].items()})
        rows.append(row)
        columns.update(dict.fromkeys(row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def as_table(records: list[dict[str, Any]]) -> str:
    several = len({r["study"] for r in records}) > 1
    headers = ["#", "state", "value", "epochs", "pruned at", "seconds", "test_acc", "params"]
    rows = []
    for r in records:
        values = r["values"] or {}
        value = ", ".join(number(v) for v in values.values()) if values else None
        params = " ".join(f"{k}={_short(v)}" for k, v in r["params"].items() if k in r[_SEARCHED])
        row = [
            r["number"],
            r["state"] + (f": {clip(r['error'], 40)}" if r["error"] else ""),
            value,
            r["epochs"],
            r["pruned_at"],
            None if r["seconds"] is None else f"{r['seconds']:.1f}",
            None if r["test_acc"] is None else number(r["test_acc"]),
            clip(params, 80),
        ]
        rows.append([r["study"], *row] if several else row)
    return table(["study", *headers] if several else headers, rows)


def _cell(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, dict | list) else value


def _short(value: Any) -> str:
    if isinstance(value, float) and math.isfinite(value):
        return number(value)
    return clip(json.dumps(value) if isinstance(value, dict | list) else str(value), 24)
