"""The resumable state: written at its cadence, always at the end and on a stop, and a resumed
run continues exactly where the stopped one was."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from training import fit

DIGITS = {"dataset": "digits", "model": "simple_cnn", "lr": 0.05, "num_epochs": 4, "seed": 3}


class StopRequestedError(Exception):
    """What a caller raises from ``report`` to end a trial (a worker told to quit)."""


def saved_epoch(path: Path) -> int | None:
    if not path.exists():
        return None
    return int(torch.load(path, weights_only=False)["epoch"])


def test_a_stopped_run_resumes_exactly_where_it_was(tmp_path: Path) -> None:
    whole: list[tuple[int, float]] = []
    fit(DIGITS, lambda value, epoch: whole.append((epoch, value)))

    state = tmp_path / "state.pt"
    first: list[tuple[int, float]] = []

    def stop_after_two(value: float, epoch: int) -> None:
        first.append((epoch, value))
        if epoch == 2:
            raise StopRequestedError

    with pytest.raises(StopRequestedError):
        fit({**DIGITS, "state_file": str(state)}, stop_after_two)
    again: list[tuple[int, float]] = []
    metrics = fit({**DIGITS, "state_file": str(state)}, lambda v, e: again.append((e, v)))
    assert metrics["resumed_from_epoch"] == 2
    assert again == whole  # epochs 1-2 reported again from the state, 3-4 trained as before


@pytest.mark.parametrize("every", [0, 1e9])
def test_the_state_is_written_at_its_cadence_and_at_the_end(tmp_path: Path, every: float) -> None:
    state = tmp_path / "state.pt"
    seen: list[int | None] = []
    fit(
        {**DIGITS, "state_file": str(state), "state_every": every},
        lambda value, epoch: seen.append(saved_epoch(state)),
    )
    # Every epoch, or (a cadence longer than the run) only after the last one.
    assert seen == ([1, 2, 3, 4] if every == 0 else [None, None, None, 4])


def test_a_stop_between_writes_still_saves_the_epoch_it_ended(tmp_path: Path) -> None:
    state = tmp_path / "state.pt"

    def stop_at_three(value: float, epoch: int) -> None:
        if epoch == 3:
            raise StopRequestedError

    with pytest.raises(StopRequestedError):
        fit({**DIGITS, "state_file": str(state), "state_every": 1e9}, stop_at_three)
    assert saved_epoch(state) == 3


def test_a_state_of_other_params_is_ignored(tmp_path: Path) -> None:
    state = tmp_path / "state.pt"
    fit({**DIGITS, "num_epochs": 1, "state_file": str(state)})
    metrics: dict[str, Any] = fit({**DIGITS, "num_epochs": 2, "state_file": str(state)})
    assert "resumed_from_epoch" not in metrics and saved_epoch(state) == 2
