"""What a worker prints while it runs: trial starts, tagged steps, and in a group the study."""

from __future__ import annotations

import re
from pathlib import Path

from tests.helpers import hpo_create_study, run_hpo, write_module

OBJECTIVE = """
def run(params, report):
    for epoch in range(1, 3):
        report(params["x"] * epoch, epoch)
    return params["x"]
"""
SPACE = {"x": {"_type": "uniform", "_value": [0, 1]}}


def test_a_trial_says_when_it_starts_and_its_steps_say_whose_they_are(
    tmp_path: Path, sqlite_url: str
) -> None:
    write_module(tmp_path, "steps", OBJECTIVE)
    config = {"config": {"experimentName": "lines", "maxTrialNum": 2, "model": "steps"}}
    hpo_create_study(tmp_path, {**config, "search_space": SPACE}, sqlite_url, "--pruner", "none")
    result = run_hpo("-v", "worker", "--study", "lines", storage=sqlite_url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    for number in (0, 1):
        started = next(i for i, s in enumerate(lines) if s.startswith(f"trial {number} started"))
        ended = next(i for i, s in enumerate(lines) if s.startswith(f"trial {number} COMPLETE"))
        steps = [s for s in lines[started:ended] if s.startswith(f"[lines #{number}] step")]
        assert len(steps) == 2, lines[started:ended]
    assert "worker 0 on 'lines' done" in result.stderr


def test_a_group_workers_lines_name_their_study(tmp_path: Path, sqlite_url: str) -> None:
    write_module(tmp_path, "steps", OBJECTIVE)
    config = {"config": {"experimentName": "grp", "maxTrialNum": 1, "model": "steps"}}
    hpo_create_study(
        tmp_path, {**config, "search_space": SPACE}, sqlite_url, "--sampler", "tpe,random"
    )
    result = run_hpo("worker", "--group", "grp", storage=sqlite_url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    trial_lines = [s for s in result.stderr.splitlines() if re.search(r"trial \d+ ", s)]
    assert trial_lines and all(re.match(r"grp-(tpe|random): trial", s) for s in trial_lines)
    assert "on 'grp-tpe' done" in result.stderr and "on 'grp-random' done" in result.stderr
