"""Hostile and broken search-space files and options: one line, the right exit code, nothing
stored, and ``validate`` refusing exactly what ``create-study`` refuses."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import assert_one_line_error, hpo_cli, run_hpo, trials, write_json

SPACE = {"lr": {"_type": "uniform", "_value": [0.01, 0.1]}}


def _deep_json(depth: int) -> str:
    return '{"x": ' + "[" * depth + "]" * depth + "}"


def _nested_choice(depth: int) -> str:
    inner = '{"_type": "choice", "_value": [1, 2]}'
    for _ in range(depth):
        inner = '{"_type": "choice", "_value": [{"_name": "a", "y": ' + inner + "}]}"
    return '{"x": ' + inner + "}"


def _deep_params(depth: int) -> str:
    space = json.dumps(SPACE)
    return '{"params": {"a": ' + "[" * depth + "]" * depth + '}, "search_space": ' + space + "}"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (_deep_json(100_000), "nested too deeply"),
        # Read, then storing the spec failed (RecursionError in create-study); 101 is refused.
        (_deep_params(500), "params.a[0][0]"),
        (_deep_params(101), "nested too deeply (more than 100 levels)"),
        (_nested_choice(400), "nested too deeply"),
        ("x: [" * 5000 + "]" * 5000, "nested too deeply"),  # YAML
    ],
    ids=[
        "json-100000-deep",
        "params-500-deep",
        "params-101-deep",
        "choice-400-deep",
        "yaml-5000-deep",
    ],
)
def test_deeply_nested_files(tmp_path: Path, text: str, needle: str) -> None:
    (tmp_path / "deep.json").write_text(text)
    if text.startswith("x:"):
        (tmp_path / "deep.json").rename(tmp_path / "deep.yml")
    name = "deep.yml" if text.startswith("x:") else "deep.json"
    assert_one_line_error(hpo_cli("validate", name, cwd=tmp_path), 2, needle)
    created = hpo_cli("create-study", "--space", name, "--objective", "math:sqrt", cwd=tmp_path)
    assert_one_line_error(created, 2, needle)


def test_a_file_too_large_is_not_read_whole(tmp_path: Path) -> None:
    with (tmp_path / "huge.json").open("wb") as huge:  # sparse: 65 MiB that take no disk
        huge.truncate(65 * 2**20)
    assert_one_line_error(hpo_cli("validate", "huge.json", cwd=tmp_path), 2, "larger than 64 MiB")


#: (what, how to make it at a path, what the error says). None of these is a file to read: a
#: FIFO blocked the reader until something wrote to it, a device was read as a file.
NOT_FILES = [
    ("fifo", os.mkfifo, "is a FIFO (named pipe), not a regular file"),
    ("dev-zero", lambda path: path.symlink_to("/dev/zero"), "is a character device"),
    ("dev-null", lambda path: path.symlink_to("/dev/null"), "is a character device"),
]


@pytest.mark.parametrize(
    ("make", "needle"), [case[1:] for case in NOT_FILES], ids=[case[0] for case in NOT_FILES]
)
@pytest.mark.parametrize("named", ["argument", "searchSpaceFile"])
def test_what_is_not_a_regular_file_is_refused_without_blocking(
    tmp_path: Path, make: Callable[[Path], None], needle: str, named: str
) -> None:
    make(tmp_path / "space.json")
    if named == "searchSpaceFile":
        (tmp_path / "config.yml").write_text("searchSpaceFile: space.json\ntrialCommand: x\n")
    # A real process with a deadline: a FIFO without a writer would block it for ever.
    file = "space.json" if named == "argument" else "config.yml"
    result = run_hpo("validate", file, cwd=tmp_path, timeout=60)
    assert_one_line_error(result, 2, "space.json", needle)


def _choice_bomb() -> str:
    """A YAML "billion laughs" as a choice's options: 9 nested levels of 9 aliases each."""
    levels = "".join(f"&{c} [" for c in "ihgfedcb") + "&a [l,o,l,o,l,o,l,o,l]"
    for c in "abcdefgh":
        levels += "," + ",".join([f"*{c}"] * 8) + "]"
    return "x:\n  _type: choice\n  _value: " + levels + "\n"


def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path: Path) -> None:
    """300 bytes whose aliases expand 9^9 times: minutes of parsing before, now one line."""
    (tmp_path / "space.yml").write_text(_choice_bomb())
    assert len(_choice_bomb()) < 400
    result = run_hpo("validate", "space.yml", cwd=tmp_path, timeout=60)
    assert_one_line_error(result, 2, "space.yml", "aliases expand to more than")


def test_yaml_is_read_as_yaml_1_2_through_create_study(tmp_path: Path, sqlite_url: str) -> None:
    """Parameters named on / yes / no, dates and 1e-3 as values, a merge key: a study."""
    (tmp_path / "space.yml").write_text(
        "lr: &log {_type: loguniform, _value: [1e-4, 1e-1]}\n"
        "on: {_type: choice, _value: [yes, no, 2024-01-01]}\n"
        "no: {<<: *log, _value: [1e-3, 1]}\n"
    )
    created = hpo_cli(
        "create-study",
        "--space",
        "space.yml",
        "--objective",
        "math:sqrt",
        "--name",
        "y",
        storage=sqlite_url,
        cwd=tmp_path,
    )
    assert created.returncode == 0, created.stderr
    import optuna

    space = optuna.load_study(study_name="y", storage=sqlite_url).user_attrs["hpo:spec"]
    assert space["search_space"] == {
        "lr": {"_type": "loguniform", "_value": [0.0001, 0.1]},
        "on": {"_type": "choice", "_value": ["yes", "no", "2024-01-01"]},
        "no": {"_type": "loguniform", "_value": [0.001, 1]},
    }


#: (what, YAML text, what the error says): YAML that no search space holds, through the CLI.
BAD_YAML = [
    ("number-key", "3: {_type: uniform, _value: [0, 1]}\n", "a key must be text, got 3"),
    ("binary-option", "x: {_type: choice, _value: [!!binary aGk=, 2]}\n", "!!binary"),
    ("date-option", "x: {_type: choice, _value: [!!timestamp 2024-01-01]}\n", "!!timestamp"),
    ("int-5000-digits", "x: {_type: uniform, _value: [0, 1" + "0" * 5000 + "]}\n", "too large"),
]


@pytest.mark.parametrize(
    ("text", "needle"), [case[1:] for case in BAD_YAML], ids=[case[0] for case in BAD_YAML]
)
def test_yaml_no_search_space_holds_is_one_line(tmp_path: Path, text: str, needle: str) -> None:
    (tmp_path / "space.yml").write_text(text)
    assert_one_line_error(hpo_cli("validate", "space.yml", cwd=tmp_path), 2, "space.yml", needle)


@pytest.mark.parametrize(
    ("config", "needle"),
    [
        ({"config": {"pruner": {"name": "asha", "min_resource": -3}}}, "min_resource"),
        ({"config": {"pruner": {"name": "percentile", "percentile": "x"}}}, "percentile"),
        ({"config": {"grace_period": 2, "heartbeat_interval": 60}}, "grace_period (2s)"),
        ({"config": {"sampler": {"name": "tpe", "n_startup_trials": "ten"}}}, "n_startup_trials"),
        # A generation of 10^12 hung the worker; 10^9 candidates per trial too.
        (
            {"config": {"sampler": {"name": "cmaes", "population_size": 10**12}}},
            "population_size must be from 2 to 10,000",
        ),
        (
            {"config": {"sampler": {"name": "tpe", "n_ei_candidates": 10**9}}},
            "n_ei_candidates must be from 1 to 10,000",
        ),
        ({"config": {"sampler": {"name": "tpe", "n_startup_trials": -1}}}, "n_startup_trials"),
        # Paths no machine has: tracebacks (a home of an unknown user, a NUL).
        (
            {"config": {"checkpoint_dir": "~hpo-no-such-user/ck"}},
            "checkpoint directory '~hpo-no-such-user/ck': ~hpo-no-such-user is the home",
        ),
        ({"config": {"artifact_dir": "~hpo-no-such-user/a"}}, "artifact directory"),
        (
            {"config": {"objective": "a\u0000b.py:run"}},
            "config.objective: 'a\\x00b.py:run': a path cannot hold a NUL character",
        ),
        (
            {"config": {"objective": "~hpo-no-such-user/train.py:run"}},
            "config.objective: '~hpo-no-such-user/train.py:run'",
        ),
    ],
    ids=[
        "asha-min-resource",
        "percentile-text",
        "grace-below-heartbeat",
        "sampler-option",
        "population-10^12",
        "tpe-candidates-10^9",
        "negative-startup-trials",
        "checkpoint-dir-of-no-user",
        "artifact-dir-of-no-user",
        "objective-file-nul",
        "objective-file-of-no-user",
    ],
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
        (["--repeats", "101"], "--repeats must be from 1 to 100"),  # 101 studies, before
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


#: Numbers that start processes or studies, or take hours, past their bounds (each was taken
#: as given): (command line, the option the one error line names).
PAST_BOUNDS = [
    (["worker", "--study", "x", "--stop-timeout", "inf"], "--stop-timeout"),
    (["worker", "--study", "x", "--stop-timeout", "86401"], "--stop-timeout"),
    (["worker", "--study", "x", "--trials-per-gpu", "65", "--gpus", "0"], "--trials-per-gpu"),
    (["importance", "x", "--bootstrap", "1001"], "--bootstrap"),
    (["report", "x", "--bootstrap", "1001"], "--bootstrap"),
    (["compare", "x", "--target", "nan"], "--target must be a finite number"),
    (["compare", "x", "--target", "-inf"], "--target must be a finite number"),
    (["report", "x", "--target", "inf"], "--target must be a finite number"),
    (["run", "--space", "space.json", "--workers", "65"], "--workers: 65 worker processes"),
    (["run", "--space", "space.json", "--workers", "100000"], "at most 64"),
]


@pytest.mark.parametrize(("args", "needle"), PAST_BOUNDS, ids=[" ".join(a) for a, _ in PAST_BOUNDS])
def test_options_past_their_bounds(
    tmp_path: Path, sqlite_url: str, args: list[str], needle: str
) -> None:
    write_json(tmp_path / "space.json", {"config": {"maxTrialNum": 3}, "search_space": SPACE})
    assert_one_line_error(hpo_cli(*args, storage=sqlite_url, cwd=tmp_path), 2, needle)
    assert not (tmp_path / "hpo.db").exists()  # refused before the storage was opened


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


@pytest.mark.parametrize(
    ("upper", "needle"),
    [(10**9, "grid search over x: 1,000,000,000 values"), (1001, "more than 1,000,000 points")],
    ids=["values-of-one-param", "points"],
)
def test_a_grid_too_large_to_hold_is_refused_at_once(
    tmp_path: Path, sqlite_url: str, upper: int, needle: str
) -> None:
    """Two randint [0, 10^9] as a grid: validate and create-study listed 10^18 points."""
    space = {name: {"_type": "randint", "_value": [0, upper]} for name in ("x", "y")}
    write_json(tmp_path / "space.json", space)
    for command in (["validate", "space.json"], ["create-study", "--space", "space.json"]):
        args = [*command, "--sampler", "grid", "--objective", "math:sqrt"]
        result = run_hpo(*args, storage=sqlite_url, cwd=tmp_path, timeout=60)
        assert_one_line_error(result, 2, needle)
    assert not (tmp_path / "hpo.db").exists()


def test_training_paths_no_machine_has_are_refused_and_home_paths_kept(tmp_path: Path) -> None:
    """A NUL in data_dir was a traceback, and so was ~user of an unknown user, which a worker
    (another machine) may know: it is stored as written, as ~ always was."""
    space = json.loads(
        (Path(__file__).resolve().parents[2] / "search_spaces" / "digits_cnn.json").read_text()
    )
    space["params"]["data_dir"] = "a\0b"
    write_json(tmp_path / "space.json", space)
    result = hpo_cli("validate", "space.json", cwd=tmp_path)
    assert_one_line_error(result, 2, "params: data_dir: a path cannot hold a NUL character")
    space["params"]["data_dir"] = "~hpo-no-such-user/data"
    write_json(tmp_path / "space.json", space)
    result = hpo_cli("validate", "space.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_a_search_space_file_that_is_a_directory(tmp_path: Path) -> None:
    """Linux opens a directory for reading: it was read, and failed with IsADirectoryError."""
    (tmp_path / "config.yml").write_text("searchSpaceFile: .\ntrialCommand: x\n")
    result = hpo_cli("validate", "config.yml", cwd=tmp_path)
    assert_one_line_error(result, 2, str(tmp_path), "is a directory")


def test_distillation_searched_without_a_teacher_is_refused(tmp_path: Path) -> None:
    space = {
        "params": {"model": "dw_student", "dataset": "digits"},
        "search_space": {"kd_alpha": {"_type": "uniform", "_value": [0.1, 0.9]}},
    }
    write_json(tmp_path / "space.json", space)
    result = hpo_cli("validate", "space.json", cwd=tmp_path)
    assert_one_line_error(result, 2, "search_space.kd_alpha: searched, but there is no teacher")
