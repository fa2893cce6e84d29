"""``hpo trials``, ``hpo status --json``, ``hpo --version`` and every command's help."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
import typer

from hpo import attrs
from hpo.cli import app
from hpo.cli.app import COMMAND_ORDER
from tests.helpers import assert_one_line_error, hpo_cli, run_hpo, trials, write_json, write_module

OBJECTIVE = """
def run(params, report):
    for epoch in range(1, 4):
        report(params["lr"] * epoch, epoch)
    if params["batch_size"] == 64:
        raise RuntimeError("out of patience")
    return {"default": params["lr"], "test_acc": 0.5, "num_params": 1234}
"""


@pytest.fixture
def study(tmp_path: Path, sqlite_url: str) -> str:
    """A finished study of the Evolution (CMA-ES) tuner, which models numeric choices in order."""
    write_module(tmp_path, "quick", OBJECTIVE)
    write_json(
        tmp_path / "space.json",
        {
            "config": {"experimentName": "listed", "maxTrialNum": 8, "model": "quick"},
            "search_space": {
                "lr": {"_type": "uniform", "_value": [0.1, 0.9]},
                "batch_size": {"_type": "choice", "_value": [16, 32, 64]},
            },
        },
    )
    result = run_hpo(
        "run",
        "--space",
        "space.json",
        "--sampler",
        "evolution",
        "--seed",
        "3",
        "--pruner",
        "none",
        storage=sqlite_url,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    return sqlite_url


def test_trials_as_json_and_csv_match_the_storage(study: str) -> None:
    stored = {t.number: t for t in trials(study, "listed")}
    listed = json.loads(hpo_cli("trials", "listed", "--format", "json", storage=study).stdout)
    assert [r["number"] for r in listed] == sorted(stored)
    for record in listed:
        trial = stored[record["number"]]
        assert record["state"] == trial.state.name.lower()
        assert record["params"]["batch_size"] in (16, 32, 64)  # the value, never its index
        assert record["params"]["lr"] == trial.params["lr"]
        assert record["epochs"] == 3
        assert record["worker"]  # the host that ran it
        if record["state"] == "complete":
            assert record["values"] == {"default": trial.value}
            assert record["test_acc"] == 0.5 and record["num_params"] == 1234
        else:
            assert record["error"] == trial.user_attrs[attrs.ERROR]
            assert record["params"]["batch_size"] == 64
    rows = list(
        csv.DictReader(
            io.StringIO(hpo_cli("trials", "listed", "--format", "csv", storage=study).stdout)
        )
    )
    assert [int(r["number"]) for r in rows] == sorted(stored)
    assert {r["param.batch_size"] for r in rows} <= {"16", "32", "64"}


def test_trials_filtered_sorted_and_limited(study: str) -> None:
    result = hpo_cli(
        "trials",
        "listed",
        "--state",
        "complete",
        "--sort",
        "value",
        "--limit",
        "2",
        "--format",
        "json",
        storage=study,
    )
    listed = json.loads(result.stdout)
    complete = sorted(
        (t for t in trials(study, "listed") if t.state.name == "COMPLETE"),
        key=lambda t: -(t.value or 0),
    )
    assert [r["number"] for r in listed] == [t.number for t in complete[:2]]
    table = hpo_cli("trials", "listed", storage=study).stdout
    assert "batch_size=" in table and "[index]" not in table
    assert_one_line_error(
        hpo_cli("trials", "listed", "--state", "done", storage=study), 2, "unknown state 'done'"
    )
    assert_one_line_error(hpo_cli("trials", "nothing", storage=study), 1, "nothing")


def test_status_as_json(study: str) -> None:
    (listed,) = json.loads(hpo_cli("status", "--json", storage=study).stdout)
    stored = trials(study, "listed")
    assert listed["study"] == "listed" and listed["sampler"] == "cmaes"
    assert sum(listed["trials"].values()) == len(stored) == 8
    assert listed["trials"]["fail"] == sum(t.state.name == "FAIL" for t in stored)


def test_version() -> None:
    result = hpo_cli("--version")
    assert result.returncode == 0 and re.fullmatch(r"hpo \d+\.\d+\.\d+\n", result.stdout)


@pytest.mark.parametrize("name", COMMAND_ORDER)
def test_every_commands_help_shows_its_defaults(name: str) -> None:
    result = hpo_cli(name, "--help")
    assert result.returncode == 0, result.stderr
    assert "<bool>" not in result.stdout
    command = typer.main.get_command(app).commands[name]  # type: ignore[attr-defined]
    context = command.make_context(name, ["--help"], resilient_parsing=True)
    with_default = 0
    for option in command.params:
        record = option.get_help_record(context)
        if record is None or getattr(option, "is_flag", False) or option.required:
            continue
        # Every option with a default says it, in the words of its help or Typer's.
        if option.default not in (None, ()) or "[default" in (option.help or ""):
            assert "[default: " in record[1], (name, option.opts)
            with_default += 1
    assert result.stdout.count("[default:") >= with_default  # and the help as printed shows it
