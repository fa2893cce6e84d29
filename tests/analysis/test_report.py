"""hpo report on a pruned study: the epoch curves keep pruned trials apart from completed ones."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.trial import TrialState

from hpo.analysis.report_study import MAX_CURVES, epoch_curves, sample_with
from tests.helpers import hpo_create_study, run_hpo, write_module

# A learning curve that ends at x: ASHA can judge a trial from its early epochs.
CURVE = """
def run(params, report):
    for epoch in range(1, 10):
        report(params["x"] * epoch / 9, epoch)
    return params["x"]
"""


def test_a_pruned_studys_report_draws_pruned_and_completedepoch_curves(
    tmp_path: Path, sqlite_url: str
) -> None:
    write_module(tmp_path, "curve", CURVE)
    config = {
        "config": {
            "experimentName": "pr",
            "maxTrialNum": 24,
            "model": "curve",
            "seed": 3,
            "sampler": "random",
            "pruner": "asha",
        },
        "search_space": {"x": {"_type": "uniform", "_value": [0, 1]}},
    }
    hpo_create_study(tmp_path, config, sqlite_url)
    ran = run_hpo("worker", "--study", "pr", storage=sqlite_url, cwd=tmp_path, timeout=300)
    assert ran.returncode == 0, ran.stderr
    trials = optuna.load_study(study_name="pr", storage=sqlite_url).trials
    states = [t.state for t in trials]
    assert TrialState.PRUNED in states and TrialState.COMPLETE in states

    made = run_hpo("report", "pr", "--out", "rep", storage=sqlite_url, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    page = (tmp_path / "rep" / "report.html").read_text()
    # Every trial with epochs is one line of the figure, coloured by how it ended.
    figure = _figure_with_title(page, "per epoch: completed and pruned trials")
    lines = [d for d in figure["data"] if d.get("mode") == "lines"]
    assert len(lines) == sum(1 for t in trials if t.intermediate_values)
    by_trial = {t.number: t for t in trials}
    for line in lines:
        number = int(re.search(r"trial (\d+)", line["hovertemplate"]).group(1))  # type: ignore[union-attr]
        trial = by_trial[number]
        assert line["name"] == trial.state.name.lower()
        assert line["x"] == sorted(trial.intermediate_values)
        assert line["y"] == [trial.intermediate_values[s] for s in line["x"]]
    # One legend entry per state, not one per trial.
    assert sorted(d["name"] for d in lines if d.get("showlegend", True)) == ["complete", "pruned"]
    # The optimisation history plots the completed trials under their own numbers.
    history = _figure_with_title(page, "Optimization History Plot")
    [points] = [
        d
        for d in history["data"]
        if d.get("mode") == "markers" and d.get("name") != "Infeasible Trial"
    ]
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert points["x"] == [t.number for t in complete]
    assert points["y"] == [t.value for t in complete]
    # The top trials, best first, with the params they ran with; then the search space.
    shown = min(10, len(complete))
    top = page.split(f"<h3>top {shown} of {len(complete)} complete</h3>")[1].split("</table>")[0]
    header, *rows = re.findall(r"<tr>(.*?)</tr>", top)
    assert re.findall(r"<th>(.*?)</th>", header) == ["trial", "default", "epochs", "seconds", "x"]
    ranked = sorted(complete, key=lambda t: (-(t.value or 0.0), t.number))[:shown]
    cells = [re.findall(r"<td>(.*?)</td>", row) for row in rows]
    assert [int(c[0]) for c in cells] == [t.number for t in ranked]
    assert [float(c[4]) for c in cells] == [pytest.approx(t.params["x"], rel=1e-3) for t in ranked]
    space = page.split("<h3>search space</h3>")[1]
    assert "<tr><td>x</td><td>uniform</td><td>[0, 1]</td></tr>" in space


def test_epoch_curves_draw_only_the_latest_trials() -> None:
    trials = [
        optuna.trial.create_trial(
            state=TrialState.PRUNED if n % 2 else TrialState.COMPLETE,
            value=None if n % 2 else 0.5,
            intermediate_values={1: 0.1, 2: 0.2},
        )
        for n in range(MAX_CURVES + 50)
    ]
    figure = epoch_curves(trials, "acc")
    assert len(figure.data) == MAX_CURVES
    grey = [t for t in figure.data if t.line.color == "#aaaaaa"]
    assert len(grey) == MAX_CURVES // 2 and all(t.name == "pruned" for t in grey)


def _figure_with_title(page: str, title: str) -> dict[str, Any]:
    """The plotly figure (data and layout) whose title contains ``title``, parsed from the page."""
    decoder = json.JSONDecoder()
    for call in re.finditer(r"Plotly\.newPlot\(\s*\"[^\"]+\",\s*", page):
        data, end = decoder.raw_decode(page, call.end())
        layout, _ = decoder.raw_decode(page, page.index("{", end))
        if title in json.dumps(layout.get("title", "")):
            return {"data": data, "layout": layout}
    raise AssertionError(f"no figure titled {title!r} in the report")


def test_parallel_coordinates_sample_keeps_the_best_and_the_order() -> None:
    trials = [
        optuna.trial.create_trial(state=TrialState.COMPLETE, value=float(n)) for n in range(1000)
    ]
    for n, t in enumerate(trials):
        t.number = n
    best = trials[537]
    drawn = sample_with(trials, best, 300)
    assert len(drawn) == 300 and best in drawn
    assert [t.number for t in drawn] == sorted(t.number for t in drawn)
    assert sample_with(trials, best, 300) == drawn  # seeded: the same report twice
    assert sample_with(trials[:10], best, 300) == trials[:10]
