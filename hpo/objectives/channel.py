"""How a command trial reports its metrics back to the worker.

Two channels, read side by side:

- NNI's local protocol, which the ``nni`` shim (and a real NNI 2.x in its ``local`` mode)
  writes: records ``ME`` + a 6-digit length + a JSON line, appended to
  ``$NNI_SYS_DIR/.nni/metrics``; each JSON line has ``type`` (``PERIODICAL`` for an
  intermediate result, ``FINAL``) and ``value`` (the metric, itself JSON-encoded).
- A line protocol on stdout, for programs that are not Python::

      @hpo intermediate 0.8123
      @hpo intermediate {"default": 0.81, "loss": 0.52}
      @hpo intermediate 0.8123 step=3
      @hpo final 0.93

A metric is a number, or an object whose ``default`` key (or the study's metric name) is the
value and whose other numeric keys are stored with the trial. Intermediate results are steps
1, 2, … of each run of the command; a script that resumes a retried trial from its own
checkpoint names its step (``step=N`` here, ``nni.report_intermediate_result(x, step=N)`` in
the shim), so that its results continue where the earlier attempt's stopped.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpo.objectives.outcome import DEFAULT_METRIC, TrialFailedError

#: Where NNI's local protocol keeps a trial's metrics, under its ``NNI_SYS_DIR``.
METRICS_FILE = Path(".nni") / "metrics"
#: The prefix of a metric line on a command's stdout.
STDOUT_PREFIX = "@hpo "
_HEADER = 8  # b"ME" and six digits of length
_STEP = re.compile(r"^(.*\S)\s+step=([1-9]\d*)$")


@dataclass(frozen=True)
class Reported:
    """One result a trial reported: intermediate (one more step) or final."""

    final: bool
    value: Any  # a number or a mapping, as decoded from JSON
    step: int | None = None  # the step an intermediate result names, if it names one


class MetricsFile:
    """Reads the records appended to an NNI metrics file since the last read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._pending = b""

    def read(self) -> list[Reported]:
        try:
            with self.path.open("rb") as file:
                file.seek(self._offset)
                chunk = file.read()
        except FileNotFoundError:
            return []
        self._offset += len(chunk)
        self._pending += chunk
        found = []
        while len(self._pending) >= _HEADER:
            head = self._pending[:_HEADER]
            if head[:2] != b"ME" or not head[2:].isdigit():
                raise TrialFailedError(f"{self.path}: not an NNI metrics record: {head!r}")
            end = _HEADER + int(head[2:])
            if len(self._pending) < end:
                break  # the rest of this record is still being written
            found.append(_record(self._pending[_HEADER:end], str(self.path)))
            self._pending = self._pending[end:]
        return found


def _record(data: bytes, where: str) -> Reported:
    try:
        record = json.loads(data)
        value = record["value"]
        if isinstance(value, str):
            value = json.loads(value)  # NNI encodes the metric twice
        step = record.get("step")
        if step is not None and (isinstance(step, bool) or not isinstance(step, int) or step < 1):
            raise ValueError(f"step {step!r} is not a positive integer")
        return Reported(record.get("type") == "FINAL", value, step)
    except (ValueError, KeyError, TypeError) as exc:
        raise TrialFailedError(f"{where}: unreadable metric record {data[:80]!r} ({exc})") from None


def parse_stdout_line(line: str) -> Reported | None:
    """The metric on an ``@hpo`` line of a command's stdout; None for any other line."""
    if not line.startswith(STDOUT_PREFIX):
        return None
    kind, _, payload = line[len(STDOUT_PREFIX) :].strip().partition(" ")
    step = None
    if kind == "intermediate" and (named := _STEP.match(payload)):
        payload, step = named.group(1), int(named.group(2))
    if kind not in ("intermediate", "final"):
        raise TrialFailedError(
            f"stdout line {line.strip()[:80]!r}: expected '@hpo intermediate VALUE' or "
            "'@hpo final VALUE'"
        )
    try:
        value = json.loads(payload)
    except ValueError:
        raise TrialFailedError(
            f"stdout line {line.strip()[:80]!r}: the value is not a number or a JSON object"
        ) from None
    return Reported(kind == "final", value, step)


def split_metric(value: Any, metric: str) -> tuple[float, dict[str, float]]:
    """An intermediate result → (the value the pruner sees, the other numbers reported)."""
    if isinstance(value, Mapping):
        key = metric if metric in value else DEFAULT_METRIC
        if key not in value:
            keys = ", ".join(map(str, value)) or "none"
            raise TrialFailedError(
                f"an intermediate result has no {DEFAULT_METRIC!r} or {metric!r} key (its keys: "
                f"{keys})"
            )
        extras = {
            str(k): float(v)
            for k, v in value.items()
            if k != key and _is_number(v) and math.isfinite(float(v))
        }
        return _number(value[key]), extras
    return _number(value), {}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(value: Any) -> float:
    if not _is_number(value):
        raise TrialFailedError(f"an intermediate result is {value!r}, not a number")
    return float(value)
