"""Many worker processes on one PostgreSQL study: exact budgets, distinct params, one
baseline, readable by plain Optuna and optuna-dashboard, and no password anywhere."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.trial import TrialState

from tests.helpers import (
    free_port,
    get_json,
    hpo_create_study,
    run_hpo,
    start_hpo,
    write_json,
    write_module,
)

pytestmark = pytest.mark.postgres

SPACE = {
    "lr": {"_type": "loguniform", "_value": [1e-5, 1e-1]},
    "momentum": {"_type": "uniform", "_value": [0.0, 0.99]},
    "batch_size": {"_type": "choice", "_value": [16, 32, 64, 128]},
    "layers": {"_type": "randint", "_value": [1, 9]},
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A user's directory: a search space and a train.py the workers import."""
    write_module(
        tmp_path,
        "train",
        """
        import math, time

        def run(params):
            time.sleep(0.02)  # long enough for the workers to overlap
            return -abs(math.log10(params["lr"]) + 3) - abs(params["momentum"] - 0.9)
        """,
    )
    return tmp_path


def run_workers(
    n: int, study: str, storage: str, cwd: Path
) -> list[subprocess.CompletedProcess[str]]:
    procs = [start_hpo("worker", "--study", study, storage=storage, cwd=cwd) for _ in range(n)]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        results.append(subprocess.CompletedProcess(p.args, p.returncode, out, err))
    return results


@pytest.mark.parametrize("sampler", ["random", "tpe"])
def test_four_workers_run_exactly_the_budget_with_distinct_params(
    sampler: str, project: Path, pg_url: str
) -> None:
    config = {
        "config": {"experimentName": f"four-{sampler}", "maxTrialNum": 40, "model": "train"},
        "search_space": SPACE,
    }
    hpo_create_study(project, config, pg_url, "--sampler", sampler)

    results = run_workers(4, f"four-{sampler}", pg_url, project)
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    assert all("budget of 40 trials is used up" in r.stderr for r in results)
    ran = [int(r.stderr.split("it ran ")[1].split()[0]) for r in results]
    assert sum(ran) == 40 and all(n > 0 for n in ran), ran  # every worker took part

    study = optuna.load_study(study_name=f"four-{sampler}", storage=pg_url)
    trials = study.trials
    assert len(trials) == 40
    assert sorted(t.number for t in trials) == list(range(40))
    assert all(t.state == TrialState.COMPLETE for t in trials)
    params = {json.dumps(t.params, sort_keys=True) for t in trials}
    assert len(params) == 40


def test_four_grid_workers_visit_every_point_once(project: Path, pg_url: str) -> None:
    # Before grid workers shared the study seed, 4 workers ran 30 trials on this grid of 30
    # points but visited only 20 of them: each shuffled the grid in its own order.
    space = {
        "lr": {"_type": "choice", "_value": [1e-4, 1e-3, 1e-2, 1e-1, 0.3, 1.0]},
        "momentum": {"_type": "choice", "_value": [0.0, 0.5, 0.8, 0.9, 0.99]},
    }
    # The Dr.Opt baseline (params) runs besides the 30 points, not instead of one of them.
    config = {
        "config": {"experimentName": "grid4", "model": "train"},
        "params": {"lr": 0.3, "momentum": 0.9},
        "search_space": space,
    }
    hpo_create_study(project, config, pg_url, "--sampler", "grid", "--pruner", "none")
    results = run_workers(4, "grid4", pg_url, project)
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    trials = optuna.load_study(study_name="grid4", storage=pg_url).trials
    [baseline] = [t for t in trials if t.user_attrs.get("hpo:baseline")]
    assert baseline.params == {"lr": 0.3, "momentum": 0.9}
    points = sorted((t.params["lr"], t.params["momentum"]) for t in trials if t != baseline)
    assert points == sorted(
        (lr, m) for lr in space["lr"]["_value"] for m in space["momentum"]["_value"]
    )


def test_dropt_baseline_is_enqueued_once_whatever_the_number_of_workers(
    project: Path, pg_url: str
) -> None:
    config = {
        "config": {"experimentName": "baseline", "maxTrialNum": 24, "model": "train"},
        "params": {
            "lr": 0.001,
            "momentum": 0.9,
            "batch_size": 32,
            "layers": 3,
            "data_dir": "/data",
        },
        "search_space": SPACE,
    }
    hpo_create_study(project, config, pg_url)
    results = run_workers(6, "baseline", pg_url, project)
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    trials = optuna.load_study(study_name="baseline", storage=pg_url).trials
    assert len(trials) == 24
    baselines = [t for t in trials if t.user_attrs.get("hpo:baseline")]
    assert len(baselines) == 1
    assert baselines[0].params == {"lr": 0.001, "momentum": 0.9, "batch_size": 32, "layers": 3}
    same = [t for t in trials if t.params == baselines[0].params]
    assert len(same) == 1


def test_a_study_is_readable_by_plain_optuna_and_optuna_dashboard(
    project: Path, pg_url: str
) -> None:
    config = {
        "config": {"experimentName": "readable", "maxTrialNum": 10, "model": "train"},
        "search_space": SPACE,
    }
    write_json(project / "space.json", config)
    assert run_hpo("run", "--space", "space.json", storage=pg_url, cwd=project).returncode == 0

    # Plain Optuna, with nothing from hpo: the URL string and the study name.
    study = optuna.load_study(study_name="readable", storage=pg_url)
    assert len(study.trials) == 10 and study.best_value <= 0
    assert set(study.best_params) == {"lr", "momentum", "batch_size", "layers"}
    assert study.user_attrs["hpo:spec"]["max_trials"] == 10

    # optuna-dashboard, its own server process on the same database.
    port = free_port()
    dashboard = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("optuna-dashboard")),
            pg_url,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 60
        while True:
            try:
                studies = get_json(f"{base}/api/studies")["study_summaries"]
                break
            except OSError:
                if time.time() > deadline or dashboard.poll() is not None:
                    raise
                time.sleep(0.3)
        [listed] = [s for s in studies if s["study_name"] == "readable"]
        detail = get_json(f"{base}/api/studies/{listed['study_id']}?after=0")
        assert len(detail["trials"]) == 10
        assert {p["name"] for p in detail["union_search_space"]} == {
            "lr",
            "momentum",
            "batch_size",
            "layers",
        }
        best = next(t for t in detail["trials"] if t["number"] == study.best_trial.number)
        assert best["values"] == [study.best_value]
    finally:
        dashboard.terminate()
        dashboard.wait(timeout=30)


def test_the_password_appears_in_no_output_log_or_process_list(
    project: Path, pg_databases: Any
) -> None:
    password = "pw-Zq81-never-print"
    url = pg_databases.create(password=password)  # trust auth: any password is accepted
    config = {
        "config": {"experimentName": "secret", "maxTrialNum": 30, "model": "train"},
        "search_space": SPACE,
    }
    write_json(project / "space.json", config)
    outputs = []
    created = run_hpo("create-study", "--space", "space.json", storage=url, cwd=project)
    outputs.append(created.stdout + created.stderr)
    workers = [start_hpo("worker", "--study", "secret", storage=url, cwd=project) for _ in range(2)]
    ps = ""
    deadline = time.time() + 60
    while "hpo worker --study secret" not in ps and time.time() < deadline:
        if all(w.poll() is not None for w in workers):
            break
        time.sleep(0.1)
        ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    for w in workers:
        out, err = w.communicate(timeout=120)
        assert w.returncode == 0, err
        outputs.append(out + err)
    for args in (["status"], ["best", "secret"], ["-v", "status"]):
        result = run_hpo(*args, storage=url, cwd=project)
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout + result.stderr)
    bad_study = run_hpo("worker", "--study", "nope", storage=url)
    outputs.append(bad_study.stdout + bad_study.stderr)
    assert "hpo worker --study secret" in ps  # the process list was read while they ran
    for text in [*outputs, ps]:
        assert password not in text
    assert any("postgres:***@" in o for o in outputs)  # masked, not dropped


def test_status_lists_counts_per_state(project: Path, pg_url: str) -> None:
    write_module(
        project,
        "half",
        """
        def run(params):
            if params["layers"] % 2:
                raise RuntimeError("odd")
            return params["lr"]
        """,
    )
    config = {
        "config": {"experimentName": "half", "maxTrialNum": 12, "model": "half"},
        "search_space": SPACE,
    }
    write_json(project / "space.json", config)
    assert (
        run_hpo(
            "run",
            "--space",
            "space.json",
            "--sampler",
            "random",
            "--seed",
            "1",
            storage=pg_url,
            cwd=project,
        ).returncode
        == 0
    )
    trials = optuna.load_study(study_name="half", storage=pg_url).trials
    complete = sum(t.state == TrialState.COMPLETE for t in trials)
    failed = sum(t.state == TrialState.FAIL for t in trials)
    result = run_hpo("status", storage=pg_url)
    header, _, row = result.stdout.splitlines()[:3]
    cells = dict(zip(header.split(), row.split(), strict=False))
    assert cells["study"] == "half" and cells["sampler"] == "random"
    assert (int(cells["complete"]), int(cells["fail"])) == (complete, failed)
    assert complete + failed == 12
