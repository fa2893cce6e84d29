"""hpo dashboard, driven in a real headless Chromium (Debian's chromium and chromedriver)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from collections.abc import Iterator
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
    import optuna

    # The storage exists first: the dashboard reads one, it creates none (studies come later).
    optuna.storages.RDBStorage(sqlite_url).engine.dispose()
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "hpo", "dashboard", "--port", str(port)],
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
