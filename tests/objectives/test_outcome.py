"""What a run comes to: results checked against the metrics, failures typed by exception."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch

from hpo.objectives import (
    InvalidResultError,
    Metric,
    NonFiniteResultError,
    Outcome,
    failure_of,
    outcome_of,
)

ONE = [Metric("val_acc", "maximize")]
TWO = [Metric("val_acc", "maximize"), Metric("num_params", "minimize")]


@pytest.mark.parametrize(
    ("result", "metrics", "outcome"),
    [
        (0.9, ONE, Outcome([0.9])),
        (np.float32(0.5), ONE, Outcome([0.5])),
        (torch.tensor(0.25), ONE, Outcome([0.25])),
        ({"val_acc": 0.9, "test_acc": 0.8, "note": "x"}, ONE, Outcome([0.9], {"test_acc": 0.8})),
        ({"default": 0.7, "loss": 0.3}, ONE, Outcome([0.7], {"loss": 0.3})),  # NNI's key
        ({"val_acc": 0.9, "num_params": 1e6}, TWO, Outcome([0.9, 1e6])),
        ((0.9, 1e6), TWO, Outcome([0.9, 1e6])),
    ],
)
def test_results_become_one_value_per_metric(
    result: Any, metrics: list[Metric], outcome: Outcome
) -> None:
    assert outcome_of(result, metrics) == outcome


@pytest.mark.parametrize(
    ("result", "metrics", "message"),
    [
        (None, ONE, "returned None"),
        ({"acc": 0.9}, ONE, r"no 'val_acc' \(its keys: acc\)"),
        ("0.9", ONE, "returned str"),
        (0.9, TWO, "one number; the study has 2 objectives"),
        ((0.9,), TWO, "1 values for 2 objectives"),
        ({"val_acc": "high"}, ONE, "'high' for 'val_acc', not a number"),
    ],
)
def test_results_that_fit_no_metric_are_invalid(
    result: Any, metrics: list[Metric], message: str
) -> None:
    with pytest.raises(InvalidResultError, match=message) as raised:
        outcome_of(result, metrics)
    assert not isinstance(raised.value, NonFiniteResultError)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_a_non_finite_result_is_a_divergence(value: float) -> None:
    with pytest.raises(NonFiniteResultError):
        outcome_of({"val_acc": value}, ONE)


class DivergedError(FloatingPointError):
    """As the training package raises it."""


class DataError(FileNotFoundError):
    """As the training package raises it."""


FAILURES: list[tuple[BaseException, str, bool, str]] = [
    (NonFiniteResultError("returned nan for 'x'"), "diverged", True, "returned nan for 'x'"),
    (DivergedError("loss became nan"), "diverged", True, "diverged: loss became nan"),
    (InvalidResultError("returned None"), "error", False, "returned None"),
    (MemoryError(), "out_of_memory", False, "out of memory: MemoryError"),
    (
        torch.cuda.OutOfMemoryError("CUDA out of memory"),
        "out_of_memory",
        False,
        "out of memory: OutOfMemoryError: CUDA out of memory",
    ),
    (DataError("food11 needs data_dir"), "missing_data", False, "DataError: food11 needs data_dir"),
    (ValueError("bad statistics\nmore"), "error", False, "ValueError: bad statistics"),
    # The message says "diverged", the type does not: the type decides.
    (RuntimeError("diverged at x=0.1"), "error", False, "RuntimeError: diverged at x=0.1"),
]


@pytest.mark.parametrize(("exc", "kind", "prunes", "reason"), FAILURES)
def test_a_failure_is_decided_by_the_exceptions_type(
    exc: BaseException, kind: str, prunes: bool, reason: str
) -> None:
    failure = failure_of(exc)
    assert (failure.kind, failure.prunes, failure.reason) == (kind, prunes, reason)


def test_torch_running_out_of_cpu_memory_is_out_of_memory() -> None:
    with pytest.raises(RuntimeError) as raised:
        torch.empty(1 << 60, dtype=torch.uint8)  # far beyond any machine: refused at once
    assert failure_of(raised.value).kind == "out_of_memory"
