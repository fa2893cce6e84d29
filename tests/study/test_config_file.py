"""Dr.Opt configs and bare NNI spaces, as users wrote them in the course reports."""

from __future__ import annotations

from typing import Any

import pytest

from hpo.errors import SpaceError
from hpo.objectives import Metric
from hpo.study import load_file, parse_config, parse_duration
from hpo.tuners import Component
from tests.helpers import DATA, SEARCH_SPACES

SPACE = {"lr": {"_type": "uniform", "_value": [0.001, 0.1]}}


def test_seed001_tpe_config_is_read_unchanged() -> None:
    config = load_file(DATA / "seed001_tpe.json")
    assert config.experiment_name == "ResNet18(pre)_TPE"
    assert config.max_trials == 15 and config.max_duration_s == 12 * 3600
    assert config.sampler == Component("tpe") and config.direction == "maximize"
    assert config.model == "lab3_1d"
    assert config.params == {"batch_size": 32, "lr": 0.001, "momentum": 0.9}
    assert config.space.names() == ["batch_size", "lr", "momentum"]
    # parentProject and updatePeriod are known Dr.Opt keys: no noise about them.
    assert [str(n) for n in config.all_notices] == [
        "search_space.lr._value: bounds reversed [0.1, 0.0001]; using [0.0001, 0.1]"
    ]


def test_seed001_evolution_config_maps_to_cmaes_with_its_population() -> None:
    config = load_file(DATA / "seed001_evolution.json")
    assert config.sampler == Component("cmaes", {"population_size": 100})
    assert any("runs as CMA-ES" in str(n) for n in config.notices)


def test_seed000_bare_space_is_read_as_a_space() -> None:
    config = load_file(DATA / "seed000_space.json")
    assert config.sampler is None and config.params == {}
    assert config.space.names() == ["batch_size", "lr", "warmup_period", "num_epochs"]


@pytest.mark.parametrize(
    ("tuner", "sampler", "pruner"),
    [
        ("TPE", "tpe", None),
        ("tpe", "tpe", None),
        ("Random", "random", None),
        ("Evolution", "cmaes", None),
        ("GridSearch", "grid", None),
        ("Anneal", "tpe", None),
        ("GPTuner", "gp", None),
        ("BOHB", "tpe", "hyperband"),
        ("Hyperband", "random", "hyperband"),
    ],
)
def test_nni_tuner_names_map_to_samplers(tuner: str, sampler: str, pruner: str | None) -> None:
    config = parse_config({"config": {"tuner": {"builtinTunerName": tuner}}, "search_space": SPACE})
    assert config.sampler is not None and config.sampler.name == sampler
    assert (config.pruner.name if config.pruner else None) == pruner


def test_hpo_keys_win_over_nni_ones() -> None:
    config = parse_config(
        {
            "config": {
                "tuner": {"builtinTunerName": "BOHB"},
                "assessor": {"builtinAssessorName": "Medianstop", "classArgs": {"start_step": 3}},
                "pruner": {"name": "asha", "reduction_factor": 4},
                "sampler": "random",
            },
            "search_space": SPACE,
        }
    )
    assert config.sampler == Component("random")
    assert config.pruner == Component("asha", {"reduction_factor": 4})


def test_nni_assessor_becomes_a_pruner() -> None:
    config = parse_config(
        {
            "config": {
                "assessor": {
                    "builtinAssessorName": "Medianstop",
                    "classArgs": {"optimize_mode": "minimize", "start_step": 5},
                }
            },
            "search_space": SPACE,
        }
    )
    assert config.pruner == Component("median", {"n_warmup_steps": 5})
    assert config.direction == "minimize"


@pytest.mark.parametrize(
    ("metrics", "expected"),
    [
        (
            {"val_acc": "maximize", "num_params": "minimize"},
            (Metric("val_acc", "maximize"), Metric("num_params", "minimize")),
        ),
        ([{"name": "loss", "direction": "minimize"}], (Metric("loss", "minimize"),)),
    ],
)
def test_metrics_give_one_direction_each(metrics: Any, expected: tuple[Metric, ...]) -> None:
    config = parse_config({"config": {"metrics": metrics}, "search_space": SPACE})
    assert config.metrics == expected


def test_unknown_config_keys_are_noticed_not_refused() -> None:
    config = parse_config({"config": {"maxTrialNum": 3, "colour": "blue"}, "search_space": SPACE})
    assert [str(n) for n in config.notices] == ["config.colour: unknown config key ignored"]


def test_gpus_per_trial_without_a_command_are_refused_not_ignored() -> None:
    # GPUs per trial change what runs: never dropped in silence.
    with pytest.raises(SpaceError, match=r"trialGpuNumber .* command trials"):
        parse_config({"config": {"maxTrialNum": 3, "trialGpuNumber": 1}, "search_space": SPACE})


def test_unknown_param_keys_are_noticed_with_a_hint() -> None:
    config = parse_config({"lr": {"_type": "uniform", "_value": [0, 1], "_vlaue": [0, 2]}})
    assert [str(n) for n in config.all_notices] == [
        "lr._vlaue: unknown key ignored (did you mean _value?)"
    ]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("12h", 43200), ("30m", 1800), ("2d", 172800), ("90s", 90), ("1.5h", 5400), (600, 600)],
)
def test_durations(text: Any, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["12 hours", "h", "-1h", 0, True, "1w"])
def test_bad_durations(text: Any) -> None:
    with pytest.raises(SpaceError):
        parse_duration(text, "config.maxExecDuration")


def test_every_search_space_shipped_validates_without_notices() -> None:
    files = sorted(SEARCH_SPACES.glob("*.json"))
    assert {f.stem for f in files} >= {
        "food11_resnet18",
        "food11_resnet18_momentum",
        "food11_kd_mobilenetv2",
        "cifar10_simplecnn_lr",
        "cifar10_resnet9",
        "cifar10_student_compress",
        "digits_cnn",
    }
    for file in files:
        config = load_file(file)
        assert config.all_notices == (), (file.name, config.all_notices)
        assert config.objective == "training"


def test_a_comment_for_people_is_read_past_in_every_kind_of_file() -> None:
    note = "Which report this reproduces, and what differs."
    assert parse_config({"_comment": note, "search_space": SPACE}).format == "Dr.Opt config"
    assert (
        parse_config({"_comment": note, **SPACE}).space.names() == parse_config(SPACE).space.names()
    )
