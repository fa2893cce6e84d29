"""hpo compare: the table's numbers against values computed directly from the trials."""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from typing import TypedDict

import optuna
import pytest
from optuna.trial import TrialState

from tests.helpers import assert_one_line_error, hpo_create_study, run_hpo, write_module

SPACE = {"x": {"_type": "uniform", "_value": [0, 1]}, "y": {"_type": "uniform", "_value": [0, 1]}}
TARGET = -0.05


@pytest.fixture
def group(tmp_path: Path, sqlite_url: str) -> list[str]:
    """A group of random and TPE, 3 repeats of 12 trials; x > 0.9 crashes (failed trials)."""
    write_module(
        tmp_path,
        "quad",
        """
        def run(params):
            if params["x"] > 0.9:
                raise ValueError("x too large")
            return -(params["x"] - 0.7) ** 2 - (params["y"] - 0.2) ** 2
        """,
    )
    config = {
        "config": {"experimentName": "cmp", "maxTrialNum": 12, "model": "quad", "seed": 3},
        "search_space": SPACE,
    }
    created = hpo_create_study(
        tmp_path, config, sqlite_url, "--sampler", "random,tpe", "--repeats", "3"
    )
    ran = run_hpo("worker", "--group", "cmp", storage=sqlite_url, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    return created.stdout.split()


class Direct(TypedDict):
    complete: int
    failed: int
    best: float
    reach: tuple[int, float] | None


def _direct(sqlite_url: str, study: str) -> Direct:
    """Best, trials and compute to the target, computed here from the stored trials."""
    trials = optuna.load_study(study_name=study, storage=sqlite_url).trials
    done = sorted(
        (t for t in trials if t.state.is_finished()),
        key=lambda t: (t.datetime_complete, t.number),
    )
    best, spent, reach = -math.inf, 0.0, None
    for n, t in enumerate(done, 1):
        assert t.datetime_complete is not None and t.datetime_start is not None
        spent += (t.datetime_complete - t.datetime_start).total_seconds()
        if t.state == TrialState.COMPLETE:
            assert t.value is not None
            best = max(best, t.value)
        if reach is None and best >= TARGET:
            reach = (n, spent)
    return Direct(
        complete=sum(t.state == TrialState.COMPLETE for t in done),
        failed=sum(t.state == TrialState.FAIL for t in done),
        best=best,
        reach=reach,
    )


def test_compare_numbers_match_the_trials(
    tmp_path: Path, sqlite_url: str, group: list[str]
) -> None:
    result = run_hpo(
        "compare", "cmp", "--target", str(TARGET), "--json", "--out", "figs",
        storage=sqlite_url, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["direction"] == "maximize" and report["target"] == TARGET
    assert report["warnings"] == []  # every study ran its budget
    tuners = {t["sampler"]: t for t in report["tuners"]}
    assert set(tuners) == {"random", "tpe"}
    for sampler, row in tuners.items():
        studies = [f"cmp-{sampler}-r{k}" for k in (1, 2, 3)]
        assert row["studies"] == studies
        direct = [_direct(sqlite_url, s) for s in studies]
        assert row["complete"] == sum(d["complete"] for d in direct)
        assert row["failed"] == sum(d["failed"] for d in direct)
        bests = [d["best"] for d in direct]
        assert row["best"] == pytest.approx(bests)
        assert row["best_mean"] == pytest.approx(statistics.fmean(bests))
        assert row["best_std"] == pytest.approx(statistics.stdev(bests))
        hits = [d["reach"] for d in direct if d["reach"] is not None]
        assert row["reached"] == len(hits)
        if hits:
            assert row["trials_to_target"] == statistics.median(h[0] for h in hits)
            assert row["seconds_to_target"] == pytest.approx(
                statistics.median(h[1] for h in hits),
                abs=1e-6,
            )
    # Mean ranks: per repeat, 1 for the better best value.
    ranks = [0.0, 0.0]
    for r, t in zip(tuners["random"]["best"], tuners["tpe"]["best"], strict=True):
        ranks[0] += 1.5 if r == t else 1.0 if r > t else 2.0
        ranks[1] += 1.5 if r == t else 1.0 if t > r else 2.0
    assert tuners["random"]["mean_rank"] == pytest.approx(ranks[0] / 3)
    assert tuners["tpe"]["mean_rank"] == pytest.approx(ranks[1] / 3)
    assert report["rank_test"]["method"] == "Wilcoxon signed-rank"
    assert 0.0 <= report["rank_test"]["p_value"] <= 1.0
    # The figures: a real PNG and a self-contained HTML page with both curves.
    png = (tmp_path / "figs" / "compare.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    html = (tmp_path / "figs" / "compare.html").read_text()
    assert html.count("best value so far against") == 2 and "cmp-tpe-r2" in html


def test_compare_table_names_every_tuner(tmp_path: Path, sqlite_url: str, group: list[str]) -> None:
    # A group and a study named together: the study counts once.
    result = run_hpo("compare", "cmp", "cmp-tpe-r1", storage=sqlite_url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:5] == ["tuner", "runs", "complete", "pruned", "failed"]
    assert {line.split()[0] for line in lines[2:4]} == {"random", "tpe"}
    assert all(line.split()[1] == "3" for line in lines[2:4])
    assert "Wilcoxon signed-rank" in result.stdout


def test_compare_of_an_unknown_name_is_one_line(sqlite_url: str, group: list[str]) -> None:
    result = run_hpo("compare", "nope", storage=sqlite_url)
    assert_one_line_error(result, 1, "no study or group named 'nope'")


def test_compare_on_an_unfinished_group_warns_and_says_seeds_are_shared(
    tmp_path: Path, sqlite_url: str
) -> None:
    write_module(tmp_path, "quad", "def run(params):\n    return -(params['x'] - 0.7) ** 2\n")
    config = {
        "config": {"experimentName": "half", "maxTrialNum": 14, "model": "quad", "seed": 3},
        "search_space": SPACE,
    }
    hpo_create_study(tmp_path, config, sqlite_url, "--sampler", "random,tpe")
    # random runs its whole budget, tpe 11 of its 14 trials: the group is half done.
    for study, extra in (("half-random", []), ("half-tpe", ["--n-trials", "11"])):
        ran = run_hpo("worker", "--study", study, *extra, storage=sqlite_url, cwd=tmp_path)
        assert ran.returncode == 0, ran.stderr

    result = run_hpo("compare", "half", "--json", storage=sqlite_url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    [warning] = report["warnings"]
    assert "unfinished: 1 of 2 studies have trials to run (half-tpe 11 of 14 trials" in warning
    warned = [line for line in result.stderr.splitlines() if "unfinished" in line]
    assert warned == [warning] or (len(warned) == 1 and warning in warned[0])
    # Common random numbers, stated and measured: TPE starts with 10 random trials, which
    # are random's own under the shared seed.
    assert any("shares a seed (common random numbers)" in n for n in report["notes"])
    assert "random and tpe sampled the same params in their first 10 trials" in report["notes"]
    text = run_hpo("compare", "half", storage=sqlite_url, cwd=tmp_path)
    assert "note: random and tpe sampled the same params in their first 10 trials" in text.stdout
    assert "unfinished: 1 of 2 studies" in text.stderr

    # Finished, the warning goes; what the seeds do stays said.
    ran = run_hpo("worker", "--study", "half-tpe", storage=sqlite_url, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    done = run_hpo("compare", "half", "--json", storage=sqlite_url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["warnings"] == [] and "unfinished" not in done.stderr
    assert any("common random numbers" in n for n in json.loads(done.stdout)["notes"])
