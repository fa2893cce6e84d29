"""The built-in objective's adapter: its seed, its resumable state in the trial's directory,
and its params checked before any worker starts. Real (tiny) training on digits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hpo import attrs
from hpo.errors import InvalidInputError
from hpo.objectives import Attempt, Metric, ObjectiveSpec, kind_of, load_objective
from hpo.objectives.training import STATE_FILE, WEIGHTS_FILE, check_training_params

DIGITS = {"dataset": "digits", "model": "simple_cnn", "num_epochs": 2, "lr": 0.05, "device": "cpu"}


def attempt(directory: Path, recorded: dict[str, Any], *, number: int = 0) -> Attempt:
    return Attempt(
        number=number,
        first_number=0,
        retry=number,
        seed=1234,
        directory=directory,
        report=lambda value, step: None,
        should_stop=lambda: False,
        record=recorded.__setitem__,
    )


def test_a_trial_trains_with_its_seed_keeps_its_state_and_a_retry_resumes_it(
    tmp_path: Path,
) -> None:
    objective = load_objective(ObjectiveSpec(), [Metric("val_acc", "maximize")])
    directory = tmp_path / "trial-0"
    first: dict[str, Any] = {}
    outcome = objective.run(dict(DIGITS), attempt(directory, first))
    assert first[attrs.SEED] == 1234  # the attempt's seed, recorded with the trial
    assert 0.0 <= outcome.values[0] <= 1.0 and "test_acc" in outcome.metrics
    assert (directory / STATE_FILE).exists()  # the state after the last epoch, for a retry

    retried: dict[str, Any] = {}
    again = objective.run(dict(DIGITS), attempt(directory, retried, number=5))
    assert retried[attrs.SEED] == 1234
    assert again.attrs == {attrs.RESUMED_FROM_EPOCH: 2}  # nothing left to train
    assert again.values == outcome.values

    objective.close(attempt(directory, {}))  # over for good: no retry will need the state
    assert not directory.exists()


def test_a_retry_across_the_upgrade_resumes_from_where_release_0_1_0_kept_the_state(
    tmp_path: Path,
) -> None:
    objective = load_objective(ObjectiveSpec(), [Metric("val_acc", "maximize")])
    directory = tmp_path / "trial-0"
    objective.run(dict(DIGITS), attempt(directory, {}))
    legacy = directory.with_suffix(".pt")  # 0.1.0: CKPT/STUDY-T/trial-0.pt
    (directory / STATE_FILE).replace(legacy)
    (directory / WEIGHTS_FILE).unlink()  # 0.1.0 kept no weights: its trials' directory was empty
    directory.rmdir()
    again = objective.run(dict(DIGITS), attempt(directory, {}, number=3))
    assert again.attrs == {attrs.RESUMED_FROM_EPOCH: 2}
    objective.close(attempt(directory, {}))
    assert not legacy.exists() and not directory.exists()


def test_a_seed_the_user_fixed_wins_and_is_recorded(tmp_path: Path) -> None:
    objective = load_objective(ObjectiveSpec(), [Metric("val_acc", "maximize")])
    recorded: dict[str, Any] = {}
    objective.run({**DIGITS, "num_epochs": 1, "seed": 7}, attempt(tmp_path / "t", recorded))
    assert recorded[attrs.SEED] == 7


def test_params_are_checked_at_create_study(tmp_path: Path) -> None:
    with pytest.raises(
        InvalidInputError, match=r"search_space\.learning_rate: .*did you mean 'lr'"
    ):
        check_training_params({}, {"learning_rate": None}, "search_space", str(tmp_path))
    with pytest.raises(InvalidInputError, match="params: momentum must be in"):
        check_training_params({"momentum": 2.0}, {}, "", str(tmp_path))
    params, notices = check_training_params({"data_dir": "food11"}, {}, "", str(tmp_path))
    assert params["data_dir"] == str(tmp_path / "food11")
    assert [n.path for n in notices] == ["params.data_dir"]


def test_each_kind_names_its_default_metric() -> None:
    assert kind_of(ObjectiveSpec()).metric == "val_acc"
    assert kind_of(ObjectiveSpec("train:run")).metric == "default"  # NNI's name
