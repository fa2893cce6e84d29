"""Rules between training params: checked at create-study with the values that are fixed,
left to each trial where a param they involve is searched (its value comes later)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import assert_one_line_error, run_hpo, write_json
from training.config import ConfigError, TrainConfig, rule_warnings

PRUNED = {"model": "dw_student", "pretrained": "w.pt", "num_epochs": 4}


def space(params: dict[str, Any], search_space: dict[str, Any]) -> dict[str, Any]:
    return {
        "config": {"experimentName": "rules", "objective": "training", "maxTrialNum": 2},
        "params": params,
        "search_space": search_space,
    }


@pytest.mark.parametrize(
    ("fixed", "searched", "message"),
    [
        ({"prune_rounds": 2}, ["prune_rate"], "prune_rounds needs prune_rate"),
        ({"kd_alpha": 0.5}, ["teacher"], "kd_alpha needs a teacher"),
        ({**PRUNED, "prune_rounds": 6}, ["prune_rate"], ""),
        ({**PRUNED, "prune_rate": 0.9, "prune_rounds": 6}, ["num_epochs"], "needs num_epochs"),
        ({"freeze_backbone": True}, ["pretrained"], "freeze_backbone needs pretrained"),
    ],
)
def test_a_rule_involving_a_searched_param_is_left_to_the_trial(
    fixed: dict[str, Any], searched: list[str], message: str
) -> None:
    TrainConfig.from_params(fixed, searched=searched)  # accepted: the trial has the value
    if message:  # refused when nothing is searched, and by a trial whose value breaks it
        with pytest.raises(ConfigError, match=message):
            TrainConfig.from_params(fixed)


def test_a_value_is_still_checked_alone_whatever_is_searched() -> None:
    with pytest.raises(ConfigError, match="prune_rounds must be > 0"):
        TrainConfig.from_params({"prune_rounds": 0}, searched=["prune_rate"])
    with pytest.raises(ConfigError, match="prune_rate must be in"):
        TrainConfig.from_params({"prune_rate": 1.5}, searched=["prune_rounds"])


def test_the_cli_accepts_one_of_two_linked_params_fixed_and_refuses_fixed_only_errors(
    tmp_path: Path,
) -> None:
    prune = space(
        {**PRUNED, "num_epochs": 20, "prune_rate": 0.95},
        {
            "prune_rate": {"_type": "choice", "_value": [0.9, 0.95]},
            "prune_rounds": {"_type": "quniform", "_value": [1, 4, 1]},
            "lr": {"_type": "loguniform", "_value": [0.0001, 0.003]},
        },
    )
    write_json(tmp_path / "prune.json", prune)
    storage = f"sqlite:///{tmp_path / 'hpo.db'}"
    # -p fixes prune_rounds; prune_rate stays searched: each trial has both.
    created = run_hpo(
        "create-study", "--space", "prune.json", "-p", "prune_rounds=2", "--name", "fixed_rounds",
        storage=storage, cwd=tmp_path,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert "prune_rounds fixed to 2 by --param" in created.stderr
    # The same with both fixed: 30 rounds in 20 epochs is wrong whatever a trial samples.
    refused = run_hpo(
        "create-study", "--space", "prune.json", "-p", "prune_rounds=30", "-p", "prune_rate=0.9",
        "--name", "too_many_rounds", storage=storage, cwd=tmp_path,
    )  # fmt: skip
    assert_one_line_error(refused, 2, "prune_rounds 30 needs num_epochs ≥ 30")

    # A space file whose fixed kd_alpha waits for its searched teacher.
    teachers = {"teacher": {"_type": "choice", "_value": ["a.pt", "b.pt"]}}
    write_json(tmp_path / "kd.json", space({"kd_alpha": 0.5}, teachers))
    validated = run_hpo("validate", "kd.json", cwd=tmp_path)
    assert validated.returncode == 0, validated.stderr
    # A rule between fixed params only is still refused up front.
    frozen = space({"freeze_backbone": True}, {"lr": {"_type": "loguniform", "_value": [0.01, 1]}})
    write_json(tmp_path / "frozen.json", frozen)
    assert_one_line_error(
        run_hpo("validate", "frozen.json", cwd=tmp_path), 2, "freeze_backbone needs pretrained"
    )


def test_a_rule_that_no_searched_value_can_satisfy_is_still_refused() -> None:
    fixed = {**PRUNED, "prune_rounds": 20, "num_epochs": 5}
    with pytest.raises(ConfigError, match=r"needs num_epochs ≥ 20 .*whatever the search gives"):
        TrainConfig.from_params(fixed, searched={"prune_rate": (0.9, 0.95)})
    # With a null among the options no trial can run either, but for two reasons: each is
    # left to its trials, and said.
    TrainConfig.from_params(fixed, searched={"prune_rate": (None, 0.9)})
    assert rule_warnings(fixed, {"prune_rate": (None, 0.9)}) == [
        "prune_rounds 20 needs num_epochs ≥ 20 (one per round) for some values of prune_rate: "
        "those trials fail",
        "prune_rounds needs prune_rate for some values of prune_rate: those trials fail",
    ]
    # Names alone (values unknown): left to the trials.
    TrainConfig.from_params(fixed, searched=["prune_rate"])


@pytest.mark.parametrize(
    ("searched", "refused", "warned"),
    [
        ({"pretrained": (None,)}, True, False),
        ({"pretrained": (None, "w.pt")}, False, True),
        ({"pretrained": ("a.pt", "b.pt")}, False, False),
    ],
)
def test_searched_values_decide_between_refusing_warning_and_accepting(
    searched: dict[str, tuple[Any, ...]], refused: bool, warned: bool
) -> None:
    fixed = {"freeze_backbone": True}
    if refused:
        with pytest.raises(ConfigError, match="freeze_backbone needs pretrained"):
            TrainConfig.from_params(fixed, searched=searched)
        return
    TrainConfig.from_params(fixed, searched=searched)
    assert bool(rule_warnings(fixed, searched)) == warned


@pytest.mark.parametrize(
    ("epochs", "refused", "warned"),
    [
        # A value bad alone (0 epochs, a range's end) is no evidence either way.
        ((0, 3, 10), False, True),
        ((0, 3), True, False),
        ((6, 10), False, False),
    ],
)
def test_a_value_bad_alone_is_no_evidence(
    epochs: tuple[int, ...], refused: bool, warned: bool
) -> None:
    fixed = {**PRUNED, "prune_rate": 0.9, "prune_rounds": 6}
    del fixed["num_epochs"]
    searched = {"num_epochs": epochs}
    if refused:
        with pytest.raises(ConfigError, match="needs num_epochs ≥ 6"):
            TrainConfig.from_params(fixed, searched=searched)
        return
    TrainConfig.from_params(fixed, searched=searched)
    assert bool(rule_warnings(fixed, searched)) == warned


def test_nesterov_with_momentum_0_is_plain_sgd() -> None:
    """The momentum report's grid (momentum × nesterov) has such trials: they run."""
    from torch import nn

    from training.optimizers import build_optimizer

    config = TrainConfig.from_params({"nesterov": True, "momentum": 0.0, "optimizer": "sgd"})
    [group, *_] = build_optimizer(nn.Linear(2, 2), config).param_groups
    assert group["nesterov"] is False and group["momentum"] == 0.0
    config = TrainConfig.from_params({"nesterov": True, "momentum": 0.9, "optimizer": "sgdw"})
    assert build_optimizer(nn.Linear(2, 2), config).param_groups[0]["nesterov"] is True


def test_the_cli_refuses_what_no_trial_can_run_and_warns_of_what_some_cannot(
    tmp_path: Path,
) -> None:
    rates = {"prune_rate": {"_type": "choice", "_value": [0.9, 0.95]}}
    write_json(tmp_path / "rounds.json", space({**PRUNED, "num_epochs": 5}, rates))
    storage = f"sqlite:///{tmp_path / 'hpo.db'}"
    refused = run_hpo(
        "create-study", "--space", "rounds.json", "-p", "prune_rounds=20",
        storage=storage, cwd=tmp_path,
    )  # fmt: skip
    assert_one_line_error(refused, 2, "prune_rounds 20 needs num_epochs ≥ 20", "prune_rate")
    weights = {"pretrained": {"_type": "choice", "_value": ["w.pt", None]}}
    write_json(tmp_path / "frozen.json", space({"freeze_backbone": True}, weights))
    validated = run_hpo("validate", "frozen.json", cwd=tmp_path)
    assert validated.returncode == 0, validated.stderr
    assert "freeze_backbone needs pretrained weights (pretrained: a file) for some values of " + (
        "pretrained: those trials fail"
    ) in (validated.stdout + validated.stderr)
