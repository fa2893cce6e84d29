"""``hpo trials --format json`` says where each trial's log is and shows its last lines, read
from the study's database (SQLite and PostgreSQL); an empty answer names the storage read."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import hpo_create_study, run_hpo, write_module


def test_trials_json_has_each_logs_place_and_last_lines(tmp_path: Path, storage_url: str) -> None:
    write_module(
        tmp_path,
        "chatty",
        """
        def run(params):
            for i in range(30):
                print(f"line {i} of x={params['x']}")
            return params["x"]
        """,
    )
    config = {
        "config": {"experimentName": "chatty", "model": "chatty", "maxTrialNum": 2},
        "search_space": {"x": {"_type": "choice", "_value": [1, 2]}},
    }
    hpo_create_study(tmp_path, config, storage_url, "--sampler", "grid")
    empty = run_hpo("trials", "chatty", storage=storage_url)
    assert empty.returncode == 0, empty.stderr
    host = storage_url.split("@")[-1].split("///")[-1]
    assert empty.stdout.startswith("no trials of chatty in ") and host in empty.stdout

    worked = run_hpo("worker", "chatty", storage=storage_url, cwd=tmp_path)
    assert worked.returncode == 0, worked.stderr
    listed = run_hpo("trials", "chatty", "--format", "json", storage=storage_url)
    assert listed.returncode == 0, listed.stderr
    records = json.loads(listed.stdout)
    assert len(records) == 2
    for record in records:
        x = record["params"]["x"]
        assert record["log"] == {
            "where": "database",
            "command": f"hpo logs chatty {record['number']}",
        }
        assert record["log_tail"] == [f"line {i} of x={x}" for i in range(10, 30)]
    # The table is unchanged: no log column.
    table = run_hpo("trials", "chatty", storage=storage_url)
    assert "line 29" not in table.stdout and "log" not in table.stdout.splitlines()[0]
    filtered = run_hpo("trials", "chatty", "--state", "fail", storage=storage_url)
    assert filtered.stdout.startswith("no trials in state fail of chatty in ")
