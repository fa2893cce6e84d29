"""hpo dashboard, driven in a real headless Chromium (Debian's chromium and chromedriver)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.analysis.browser import chromium, skip_without_chromium
from tests.helpers import free_port, get_json, hpo_create_study, run_hpo, write_module

skip_without_chromium()

SPACE = {name: {"_type": "uniform", "_value": [0, 1]} for name in ("x", "y", "z")}


@pytest.fixture
def dashboard(sqlite_url: str, tmp_path: Path) -> Iterator[str]:
    """``hpo dashboard`` on the test's storage; yields its base URL."""
    with running_dashboard(sqlite_url, tmp_path) as base:
        yield base


@contextmanager
def running_dashboard(sqlite_url: str, tmp_path: Path, *options: str) -> Iterator[str]:
    import optuna

    # The storage exists first: the dashboard reads one, it creates none (studies come later).
    optuna.storages.RDBStorage(sqlite_url).engine.dispose()
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "hpo", "dashboard", "--port", str(port), *options],
        env={**os.environ, "HPO_STORAGE": sqlite_url},
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                get_json(f"{base}/api/meta")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    _, err = process.communicate(timeout=10)
                    raise AssertionError(f"the dashboard did not start: {err}") from None
                time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium() as driver:
        yield driver


def _study_id(base: str, name: str) -> int:
    studies = get_json(f"{base}/api/studies")["study_summaries"]
    return int(next(s["study_id"] for s in studies if s["study_name"] == name))


def _wait_for_importance_chart(driver: Any, timeout: float) -> Any:
    """The importance chart's element once plotly has drawn its bars."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout).until(
        expected_conditions.presence_of_element_located(
            (By.CSS_SELECTOR, "#graph-hyperparameter-importances .bars path")
        )
    )
    return driver.find_element(By.ID, "graph-hyperparameter-importances")


def _colours(png: bytes) -> int:
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    return len(image.getcolors(maxcolors=image.width * image.height) or [])


def test_the_dashboard_lists_hpo_studies_and_draws_their_importance(
    dashboard: str, browser: Any, sqlite_url: str, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    write_module(tmp_path, "linear", "def run(params):\n    return 2 * params['x'] + params['y']\n")
    config = {
        "config": {"experimentName": "dash", "maxTrialNum": 30, "model": "linear"},
        "search_space": SPACE,
    }
    hpo_create_study(tmp_path, config, sqlite_url, "--sampler", "random,tpe")
    assert run_hpo("worker", "--group", "dash", storage=sqlite_url, cwd=tmp_path).returncode == 0

    # The API the page reads: both members of the group, and importances for them.
    study_id = _study_id(dashboard, "dash-random")
    importances = get_json(f"{dashboard}/api/studies/{study_id}/param_importances")
    [per_objective] = importances["param_importances"]
    assert {p["name"] for p in per_objective} == {"x", "y", "z"}

    browser.get(f"{dashboard}/dashboard")
    body = browser.find_element(By.TAG_NAME, "body")
    for _ in range(100):
        if "dash-random" in body.text and "dash-tpe" in body.text:
            break
        time.sleep(0.2)
    assert "dash-random" in body.text and "dash-tpe" in body.text

    browser.get(f"{dashboard}/dashboard/studies/{study_id}")
    chart = _wait_for_importance_chart(browser, 60)
    png = chart.screenshot_as_png
    (tmp_path / "importance.png").write_bytes(png)
    # A drawn chart: bars, axes and labels in several colours, not a blank box.
    assert png.startswith(b"\x89PNG") and _colours(png) > 20
    labels = {e.text for e in chart.find_elements(By.CSS_SELECTOR, ".ytick text")}
    assert {"x", "y", "z"} <= labels


@pytest.mark.slow
@pytest.mark.long  # its size is the point; the other dashboard tests drive the same pages
def test_a_10000_trial_study_loads_in_bounded_time(
    dashboard: str, browser: Any, sqlite_url: str
) -> None:
    from bench.analysis_scale import fill

    [name] = fill(sqlite_url, 10_000, samplers=("random",))
    study_id = _study_id(dashboard, name)
    started = time.monotonic()
    browser.get(f"{dashboard}/dashboard/studies/{study_id}")
    _wait_for_importance_chart(browser, 120)
    seconds = time.monotonic() - started
    print(f"10,000-trial study: page and importance chart in {seconds:.1f} s")
    assert seconds < 120


# Prints a line per epoch (the log the note shows), fails where x is large, records metrics.
NOTED = """
def run(params, report):
    if params["x"] > 0.8:
        raise ValueError(f"x={params['x']:.3f} is too large for this model")
    for epoch in range(1, 4):
        print(f"epoch {epoch}: loss {1 - params['x'] * epoch / 3:.4f}")
        report(params["x"] * epoch / 3, epoch)
    return {"default": params["x"], "test_acc": params["x"] - 0.01, "num_params": 1234}
"""


def test_the_dashboard_shows_hpo_state_in_notes_and_metrics_as_attributes(
    sqlite_url: str, tmp_path: Path
) -> None:
    write_module(tmp_path, "noted", NOTED)
    config = {
        "config": {
            "experimentName": "noted",
            "maxTrialNum": 12,
            "maxExecDuration": "1h",
            "model": "noted",
            "seed": 4,
            "sampler": "random",
            "pruner": "none",
        },
        "search_space": {"x": {"_type": "uniform", "_value": [0, 1]}},
    }
    hpo_create_study(tmp_path, config, sqlite_url)
    assert run_hpo("worker", "--study", "noted", storage=sqlite_url, cwd=tmp_path).returncode == 0
    with running_dashboard(sqlite_url, tmp_path, "--notes-every", "0.5") as dashboard:
        _check_notes(dashboard, sqlite_url, tmp_path)


def _check_notes(dashboard: str, sqlite_url: str, tmp_path: Path) -> None:
    study_id = _study_id(dashboard, "noted")

    # The dashboard's own API, as its page reads it: notes appear once the refresher ran.
    def study() -> Any:
        return get_json(f"{dashboard}/api/studies/{study_id}?after=0")

    deadline = time.monotonic() + 120
    while True:
        detail = study()
        if detail["note"]["body"] and all(t["note"]["body"] for t in detail["trials"]):
            break
        assert time.monotonic() < deadline, "no notes from hpo dashboard"
        time.sleep(0.5)
    note = detail["note"]["body"]
    assert note.startswith("**hpo**")
    for said in ("**state** done", "**budget** 12 trials / 60m (", "s used)", "**workers** none"):
        assert said in note, said
    assert "**sampler** ` random `" in note and "**pruner** ` none `" in note
    assert "` x ` uniform ` [0, 1] `" in note
    trials = detail["trials"]
    failed = [t for t in trials if t["state"] == "Fail"]
    complete = [t for t in trials if t["state"] == "Complete"]
    assert failed and complete
    for t in failed:
        assert "is too large for this model" in t["note"]["body"]
        assert "ValueError" in t["note"]["body"]  # the log's traceback, its last lines
    for t in complete:
        body = t["note"]["body"]
        assert "epoch 3: loss" in body and f"hpo logs noted {t['number']}" in body
        attributes = {a["key"]: a["value"] for a in t["user_attrs"]}
        assert float(attributes["metric:test_acc"]) == pytest.approx(t["values"][0] - 0.01)
        assert float(attributes["metric:num_params"]) == 1234
        assert "hpo:metrics" in attributes  # kept, for what reads it

    # A person's note below the line survives the next refresh.
    ours = complete[0]
    put = urllib.request.Request(
        f"{dashboard}/api/studies/{study_id}/{ours['trial_id']}/note",
        data=json.dumps(
            {"version": ours["note"]["version"] + 1, "body": ours["note"]["body"] + "mine"}
        ).encode(),
        headers={"Content-Type": "application/json"},
        method="PUT",
    )
    urllib.request.urlopen(put, timeout=30).close()
    run_hpo("set-budget", "noted", "--max-trials", "13", storage=sqlite_url, cwd=tmp_path)
    deadline = time.monotonic() + 120
    while "13 trials" not in study()["note"]["body"]:  # the study's note follows the budget
        assert time.monotonic() < deadline, "the study note was not refreshed"
        time.sleep(0.5)
    [again] = [t for t in study()["trials"] if t["trial_id"] == ours["trial_id"]]
    assert again["note"]["body"].endswith("---\nmine")
