"""Studies stored by the first release are read and worked on by this one.

``tests/data/release-0.1.0.sql`` is a SQLite dump of a database that release 0.1.0 (commit
d147d8b, before the packages were reorganised) wrote with these commands:

    hpo run --space search_spaces/digits_cnn.json --seed 11 --max-trials 5 -p num_epochs=4
    hpo run --space quad_space.json --sampler tpe,random --repeats 2 --seed 5
    hpo create-study --space grid_space.json --seed 3 && hpo worker --study quadgrid --n-trials 5
    hpo stop quad-random-r2

``quad_space.json`` and ``grid_space.json`` name the function objective of
``tests/data/quadratic.py``; the directory the studies stored for it was rewritten to
``/nonexistent/hpo-0.1.0``, so here the module is found on ``PYTHONPATH``.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from tests.helpers import DATA, hpo_cli, hpo_env, run_hpo, trials


@pytest.fixture
def old_db(tmp_path: Path) -> str:
    path = tmp_path / "release.db"
    with sqlite3.connect(path) as conn:
        conn.executescript((DATA / "release-0.1.0.sql").read_text())
    return f"sqlite:///{path}"


def worker(storage: str, *args: str) -> None:
    ran = run_hpo("worker", *args, env=hpo_env(storage, PYTHONPATH=str(DATA)))
    assert ran.returncode == 0, ran.stderr
    assert "Traceback" not in ran.stderr


def test_status_reads_every_old_study(old_db: str) -> None:
    status = hpo_cli("status", storage=old_db)
    assert status.returncode == 0, status.stderr
    lines = {line.split()[0]: line for line in status.stdout.splitlines()[2:]}
    assert set(lines) == {
        "digits_cnn",
        "quad-tpe-r1",
        "quad-random-r1",
        "quad-tpe-r2",
        "quad-random-r2",
        "quadgrid",
    }
    assert lines["quad-random-r2"].split()[1] == "stopped"
    assert lines["digits_cnn"].split()[1:6] == ["done", "tpe", "asha", "max", "2"]


def test_best_of_an_old_study_includes_the_seed_it_trained_with(old_db: str) -> None:
    best = hpo_cli("best", "digits_cnn", storage=old_db)
    assert best.returncode == 0, best.stderr
    out = json.loads(best.stdout)
    assert out["trial"] == 2 and out["values"]["val_acc"] == pytest.approx(0.874652, abs=1e-6)
    assert out["params"]["num_epochs"] == 4 and isinstance(out["seed"], int)


def test_an_old_training_study_gets_more_trials(old_db: str) -> None:
    raised = hpo_cli(
        "set-budget", "digits_cnn", "--max-trials", "7", "--max-duration", "1000d", storage=old_db
    )
    assert raised.returncode == 0, raised.stderr
    worker(old_db, "--study", "digits_cnn")
    everything = trials(old_db, "digits_cnn")
    assert len(everything) == 7 and all(t.state.is_finished() for t in everything)
    assert all(isinstance(t.user_attrs.get("hpo:seed"), int) for t in everything[5:])


def test_an_old_group_is_compared_and_its_stopped_member_resumed(old_db: str) -> None:
    compared = hpo_cli("compare", "quad", "--json", storage=old_db)
    assert compared.returncode == 0, compared.stderr
    assert {t["sampler"] for t in json.loads(compared.stdout)["tuners"]} == {"tpe", "random"}
    assert hpo_cli("resume", "quad-random-r2", storage=old_db).returncode == 0
    raised = hpo_cli("set-budget", "quad-random-r2", "--max-trials", "12", storage=old_db)
    assert raised.returncode == 0, raised.stderr
    worker(old_db, "--study", "quad-random-r2")
    assert len(trials(old_db, "quad-random-r2")) == 12


def test_an_old_grid_study_visits_the_rest_of_its_points_once(old_db: str) -> None:
    worker(old_db, "--study", "quadgrid")
    study = optuna.load_study(study_name="quadgrid", storage=old_db)
    done = [t for t in study.trials if t.state != TrialState.FAIL]
    assert len(done) == 13  # the baseline and the 12 points
    points = {(t.params["x"], t.params["y"], t.params["k"]) for t in done[1:]}
    assert len(points) == 12
