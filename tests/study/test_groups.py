"""Comparison groups: one study per sampler and repeat, served evenly by group workers."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import optuna
import psycopg2
import pytest
from optuna.storages import RDBStorage

from hpo.errors import InvalidInputError, StudyExistsError
from hpo.storage import open_storage
from hpo.study import (
    Overrides,
    build_group,
    build_spec,
    create_study,
    group_members,
    parse_config,
)
from hpo.study.groups import create_studies
from hpo.worker import GroupWorker
from tests.helpers import (
    assert_one_line_error,
    hpo_create_study,
    run_hpo,
    start_hpo,
    wait_for,
    write_json,
    write_module,
)

SPACE = {"x": {"_type": "uniform", "_value": [0, 1]}, "y": {"_type": "uniform", "_value": [0, 1]}}


@pytest.fixture
def module(tmp_path: Path) -> Path:
    write_module(
        tmp_path,
        "quad",
        "def run(params):\n    return -(params['x'] - 0.7) ** 2 - (params['y'] - 0.2) ** 2\n",
    )
    return tmp_path


def test_a_group_is_one_study_per_sampler_and_repeat(sqlite_url: str, module: Path) -> None:
    config = parse_config(
        {
            "config": {"experimentName": "cmp", "maxTrialNum": 6, "model": "quad"},
            "search_space": SPACE,
        }
    )
    group, specs, _ = build_group(
        config, Overrides(seed=5), ["tpe", "random", "evolution"], 2, cwd=str(module)
    )
    assert group == "cmp"
    assert [s.name for s in specs] == [
        f"cmp-{sampler}-r{repeat}" for repeat in (1, 2) for sampler in ("tpe", "random", "cmaes")
    ]
    # Repeat k of every sampler shares a seed; repeats differ.
    assert len({s.seed for s in specs if s.repeat == 1}) == 1
    assert {s.seed for s in specs if s.repeat == 1} != {s.seed for s in specs if s.repeat == 2}
    assert all(s.max_trials == 6 and s.group == "cmp" for s in specs)
    storage = open_storage(sqlite_url)
    for spec in specs:
        create_study(storage, spec)
    assert [s.name for s in group_members(storage, "cmp")] == [s.name for s in specs]


@pytest.mark.parametrize("repeats", [1, 2])
def test_a_group_is_created_whole_or_not_at_all(
    sqlite_url: str, module: Path, repeats: int
) -> None:
    """One member's name is taken by another experiment: no member is left behind."""
    storage = open_storage(sqlite_url)
    config = parse_config({"config": {"experimentName": "grp"}, "search_space": SPACE})
    _, specs, _ = build_group(
        config, Overrides(seed=1, objective="math:sqrt"), ["tpe", "random"], repeats
    )
    other = parse_config({"search_space": {"z": {"_type": "uniform", "_value": [0, 1]}}})
    taken, _ = build_spec(
        other, Overrides(name=specs[-1].name, sampler="random", seed=1, objective="math:sqrt")
    )
    create_study(storage, taken)
    before = [s.study_name for s in storage.get_all_studies()]

    with pytest.raises(StudyExistsError, match="different search_space"):
        create_studies(storage, specs)
    assert [s.study_name for s in storage.get_all_studies()] == before
    # The same group again, with the names free, is created in full.
    storage.delete_study(storage.get_study_id_from_name(taken.name))
    assert [c.spec.name for c in create_studies(storage, specs)] == [s.name for s in specs]


def test_an_existing_member_stays_when_the_group_fails(sqlite_url: str, module: Path) -> None:
    """With --exist-ok, members that existed before are reused, and kept when it fails."""
    storage = open_storage(sqlite_url)
    config = parse_config({"config": {"experimentName": "grp"}, "search_space": SPACE})
    _, specs, _ = build_group(
        config, Overrides(seed=1, objective="math:sqrt"), ["tpe", "random", "qmc"], 1
    )
    create_study(storage, specs[0])
    other = parse_config({"search_space": {"z": {"_type": "uniform", "_value": [0, 1]}}})
    taken, _ = build_spec(
        other, Overrides(name=specs[2].name, sampler="qmc", seed=1, objective="math:sqrt")
    )
    create_study(storage, taken)

    with pytest.raises(StudyExistsError):
        create_studies(storage, specs, exist_ok=True)
    assert [s.study_name for s in storage.get_all_studies()] == [specs[0].name, taken.name]


def test_samplers_listed_twice_are_refused(module: Path) -> None:
    config = parse_config({"search_space": SPACE})
    with pytest.raises(InvalidInputError, match="twice"):
        build_group(config, Overrides(), ["tpe", "TPE"], 1)


def test_group_worker_advances_the_tuners_evenly(sqlite_url: str, module: Path) -> None:
    config = parse_config(
        {
            "config": {"experimentName": "even", "maxTrialNum": 5, "model": "quad"},
            "search_space": SPACE,
        }
    )
    _, specs, _ = build_group(config, Overrides(), ["tpe", "random", "qmc"], 1, cwd=str(module))
    storage = open_storage(sqlite_url)
    for spec in specs:
        create_study(storage, spec)
    worker = GroupWorker(storage, "even", n_trials=7, stop_timeout=5)
    worker.run()
    counts = sorted(
        len(optuna.load_study(study_name=s.name, storage=sqlite_url).trials) for s in specs
    )
    assert counts == [2, 2, 3]  # 7 trials over 3 tuners: never more than one apart
    GroupWorker(open_storage(sqlite_url), "even", n_trials=None, stop_timeout=5).run()
    assert all(
        len(optuna.load_study(study_name=s.name, storage=sqlite_url).trials) == 5 for s in specs
    )


def test_group_through_the_cli_with_two_workers(
    tmp_path: Path, module: Path, sqlite_url: str
) -> None:
    config = {
        "config": {"experimentName": "cli", "maxTrialNum": 8, "model": "quad"},
        "search_space": SPACE,
    }
    created = hpo_create_study(
        tmp_path, config, sqlite_url, "--sampler", "tpe,random", "--repeats", "2"
    )
    assert created.returncode == 0, created.stderr
    assert created.stdout.split() == ["cli-tpe-r1", "cli-random-r1", "cli-tpe-r2", "cli-random-r2"]
    workers = [
        start_hpo("worker", "--group", "cli", storage=sqlite_url, cwd=tmp_path) for _ in range(2)
    ]
    for w in workers:
        _, err = w.communicate(timeout=300)
        assert w.returncode == 0, err
    for name in created.stdout.split():
        trials = optuna.load_study(study_name=name, storage=sqlite_url).trials
        assert len(trials) == 8 and all(t.state.is_finished() for t in trials)
    neither = run_hpo("worker", storage=sqlite_url)
    assert neither.returncode == 2 and "or --study NAME) or --group NAME" in neither.stderr


@pytest.mark.postgres
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_halfway_through_a_group_leaves_no_member(
    tmp_path: Path, pg_url: str, module: Path, signum: int
) -> None:
    """SIGTERM's default ended create-study between two members: half a group stayed."""
    write_json(
        tmp_path / "space.json",
        {"config": {"experimentName": "half", "model": "quad"}, "search_space": SPACE},
    )
    RDBStorage(pg_url)  # Optuna's tables, so that a member's row can be held below
    # Another transaction holds the second member's name, uncommitted: create-study makes the
    # first member, then waits on the name's unique index, where the signal reaches it.
    holder = psycopg2.connect(pg_url.replace("postgresql+psycopg2", "postgresql"))
    try:
        with holder.cursor() as cur:
            cur.execute("INSERT INTO studies (study_name) VALUES ('half-random-r1')")
        create = start_hpo(
            "create-study",
            "--space",
            "space.json",
            "--sampler",
            "tpe,random",
            "--repeats",
            "3",
            storage=pg_url,
            cwd=tmp_path,
        )
        watch = psycopg2.connect(pg_url.replace("postgresql+psycopg2", "postgresql"))
        watch.autocommit = True

        def blocked_on_the_second_member() -> bool:
            with watch.cursor() as cur:
                cur.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO studies%'"
                )
                row = cur.fetchone()
            return create.poll() is not None or bool(row and row[0])

        wait_for(blocked_on_the_second_member, 300, "create-study to wait for the second name")
        assert create.poll() is None, create.communicate()
        with watch.cursor() as cur:
            cur.execute("SELECT study_name FROM studies")
            assert [name for (name,) in cur.fetchall()] == ["half-tpe-r1"]  # half made
        watch.close()
        create.send_signal(signum)
    finally:
        holder.rollback()  # the name is free again: the waiting insert goes on
        holder.close()
    out, err = create.communicate(timeout=300)
    result = subprocess.CompletedProcess(create.args, create.returncode, out, err)
    assert_one_line_error(result, 128 + signum, signal.Signals(signum).name, "no study created")
    assert open_storage(pg_url).get_all_studies() == []
