"""Hostile and broken search-space files and options: one line, the right exit code, nothing
stored, and ``validate`` refusing exactly what ``create-study`` refuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import assert_one_line_error, hpo_cli, trials, write_json

SPACE = {"lr": {"_type": "uniform", "_value": [0.01, 0.1]}}


def _deep_json(depth: int) -> str:
    return '{"x": ' + "[" * depth + "]" * depth + "}"


def _nested_choice(depth: int) -> str:
    inner = '{"_type": "choice", "_value": [1, 2]}'
    for _ in range(depth):
        inner = '{"_type": "choice", "_value": [{"_name": "a", "y": ' + inner + "}]}"
    return '{"x": ' + inner + "}"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (_deep_json(100_000), "nested too deeply"),
        (_nested_choice(400), "nested too deeply"),
        ("x: [" * 5000 + "]" * 5000, "nested too deeply"),  # YAML
    ],
    ids=["json-100000-deep", "choice-400-deep", "yaml-5000-deep"],
)
def test_deeply_nested_files(tmp_path: Path, text: str, needle: str) -> None:
    (tmp_path / "deep.json").write_text(text)
    if text.startswith("x:"):
        (tmp_path / "deep.json").rename(tmp_path / "deep.yml")
    name = "deep.yml" if text.startswith("x:") else "deep.json"
    assert_one_line_error(hpo_cli("validate", name, cwd=tmp_path), 2, needle)


def test_an_endless_file_is_not_read_whole() -> None:
    assert_one_line_error(hpo_cli("validate", "/dev/zero"), 2, "larger than 64 MiB")


@pytest.mark.parametrize(
    ("config", "needle"),
    [
        ({"config": {"pruner": {"name": "asha", "min_resource": -3}}}, "min_resource"),
        ({"config": {"pruner": {"name": "percentile", "percentile": "x"}}}, "percentile"),
        ({"config": {"grace_period": 2, "heartbeat_interval": 60}}, "grace_period (2s)"),
        ({"config": {"sampler": {"name": "tpe", "n_startup_trials": "ten"}}}, "n_startup_trials"),
    ],
    ids=["asha-min-resource", "percentile-text", "grace-below-heartbeat", "sampler-option"],
)
def test_validate_refuses_what_create_study_refuses(
    tmp_path: Path, sqlite_url: str, config: dict[str, object], needle: str
) -> None:
    write_json(tmp_path / "space.json", {**config, "search_space": SPACE})
    assert_one_line_error(hpo_cli("validate", "space.json", cwd=tmp_path), 2, needle)
    created = hpo_cli("create-study", "--space", "space.json", storage=sqlite_url, cwd=tmp_path)
    assert_one_line_error(created, 2, needle)
    assert not (tmp_path / sqlite_url.rpartition("/")[2]).exists() or not _studies(sqlite_url)


def _studies(url: str) -> list[str]:
    import optuna

    return [s.study_name for s in optuna.get_all_study_summaries(url)]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--name", ""], "--name"),
        (["--name", "   "], "--name"),
        (["--repeats", "0"], "--repeats"),
        (["--repeats", "-1"], "--repeats"),
    ],
)
def test_options_that_name_nothing(
    tmp_path: Path, sqlite_url: str, args: list[str], needle: str
) -> None:
    write_json(
        tmp_path / "space.json", {"config": {"experimentName": "named"}, "search_space": SPACE}
    )
    created = hpo_cli(
        "create-study",
        "--space",
        "space.json",
        "--objective",
        "math:sqrt",
        *args,
        storage=sqlite_url,
        cwd=tmp_path,
    )
    assert_one_line_error(created, 2, needle)
    with pytest.raises(KeyError):
        trials(sqlite_url, "named")


@pytest.mark.parametrize(
    "args", [["--n-trials", "-1"], ["--stop-timeout", "-5"]], ids=["n-trials", "stop-timeout"]
)
def test_negative_worker_options(sqlite_url: str, args: list[str]) -> None:
    assert_one_line_error(hpo_cli("worker", "--study", "x", *args, storage=sqlite_url), 2, args[0])


def test_a_huge_choice_is_read_in_linear_time_and_printed_short(tmp_path: Path) -> None:
    options = list(range(270_000))
    write_json(tmp_path / "space.json", {"x": {"_type": "choice", "_value": options}})
    result = hpo_cli("validate", "space.json", "--objective", "math:sqrt", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout) + len(result.stderr) < 10_000  # the choice is clipped, not dumped
    duplicate = {"x": {"_type": "choice", "_value": [*options[:1000], 999.0]}}
    (tmp_path / "space.json").write_text(json.dumps(duplicate))
    assert_one_line_error(
        hpo_cli("validate", "space.json", cwd=tmp_path), 2, "duplicate options 999 and 999"
    )


@pytest.mark.parametrize(
    ("param", "needle"),
    [
        ("model=nonexistent_net", "model must be one of"),
        ("num_epochs=1e999", "num_epochs must be an integer"),
    ],
)
def test_training_params_that_cannot_train_are_refused_before_the_study_exists(
    tmp_path: Path, sqlite_url: str, param: str, needle: str
) -> None:
    space = str(Path(__file__).resolve().parents[2] / "search_spaces" / "digits_cnn.json")
    created = hpo_cli("create-study", "--space", space, "-p", param, storage=sqlite_url)
    assert_one_line_error(created, 2, needle)
    assert not _studies(sqlite_url)
    if param.startswith("num_epochs"):  # 1e400 as written in a file: JSON reads infinity
        (tmp_path / "space.json").write_text(
            '{"params": {"num_epochs": 1e400}, "search_space": ' + json.dumps(SPACE) + "}"
        )
        assert_one_line_error(hpo_cli("validate", "space.json", cwd=tmp_path), 2, needle)


def test_distillation_searched_without_a_teacher_is_refused(tmp_path: Path) -> None:
    space = {
        "params": {"model": "dw_student", "dataset": "digits"},
        "search_space": {"kd_alpha": {"_type": "uniform", "_value": [0.1, 0.9]}},
    }
    write_json(tmp_path / "space.json", space)
    result = hpo_cli("validate", "space.json", cwd=tmp_path)
    assert_one_line_error(result, 2, "search_space.kd_alpha: searched, but there is no teacher")
