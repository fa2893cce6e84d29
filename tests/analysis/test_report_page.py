"""hpo report as a person opens it: a real study run by a real worker, its report opened in a
real headless Chromium. The page fetches nothing (no script, image, style or icon from outside
the file), opens with the summary, lists the search space as a table, has one importance
headline, and for one study no comparison of tuners.

With ``HPO_REPORT_SCREENSHOT=PATH`` it saves its screenshot there; README's docs/report.png
is this test's: ``HPO_REPORT_SCREENSHOT=docs/report.png pytest tests/analysis/test_report_page.py``
"""

from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from tests.analysis.browser import chromium, skip_without_chromium
from tests.helpers import hpo_create_study, run_hpo, write_module

skip_without_chromium()

# A smooth response surface with epochs, and a test accuracy a little under the validation's.
OBJECTIVE = """
import math

def run(params, report):
    fit = 1 - abs(math.log10(params["lr"]) + 1.5) / 4 - abs(params["momentum"] - 0.85) / 3
    fit -= {16: 0.0, 32: 0.01, 64: 0.03}[params["batch_size"]]
    fit -= 0.0 if params["init"] == "kaiming" else 0.02
    for epoch in range(1, 6):
        report(fit * (0.7 + 0.06 * epoch), epoch)
    return {"val_acc": fit, "test_acc": fit - 0.012}
"""

#: A choice with no place to break a line: it must wrap inside the page, not run past it.
LONG_CHOICE = "pretrained_resnet18_imagenet1k_v1_" * 3 + "weights"


def test_the_report_opens_offline_with_its_summary_first(tmp_path: Path, sqlite_url: str) -> None:
    write_module(tmp_path, "surface", OBJECTIVE)
    config = {
        "config": {
            "experimentName": "digits_like",
            "maxTrialNum": 20,
            "maxExecDuration": "2h",
            "model": "surface",
            "seed": 5,
            "sampler": "random",
            "pruner": "none",
            "metrics": {"val_acc": "maximize"},
        },
        "search_space": {
            "lr": {"_type": "loguniform", "_value": [1e-4, 1]},
            "momentum": {"_type": "uniform", "_value": [0.5, 0.99]},
            "batch_size": {"_type": "choice", "_value": [16, 32, 64]},
            "init": {"_type": "choice", "_value": ["kaiming", LONG_CHOICE]},
        },
    }
    hpo_create_study(tmp_path, config, sqlite_url)
    ran = run_hpo("worker", "--study", "digits_like", storage=sqlite_url, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    made = run_hpo("report", "digits_like", "--out", "rep", storage=sqlite_url, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    report = tmp_path / "rep" / "report.html"
    assert sorted(p.name for p in report.parent.iterdir()) == ["report.html"]  # nothing beside
    html = report.read_text()
    # Every src and href of the markup (not inside scripts) stays inside the file.
    assert [ref for ref in _references(html) if not ref.startswith(("data:", "#"))] == []
    # plotly.js once, inline: it is most of the file's size.
    assert 1_000_000 < len(html) < 8_000_000

    trials = optuna.load_study(study_name="digits_like", storage=sqlite_url).trials
    best = max((t for t in trials if t.state == TrialState.COMPLETE), key=lambda t: t.values[0])

    with chromium(network_log=True) as browser:
        text = _open(browser, report)
        # No request but the file itself (a data: URI is no request either).
        requested = [
            event["params"]["request"]["url"]
            for event in (
                json.loads(entry["message"])["message"] for entry in browser.get_log("performance")
            )
            if event["method"] == "Network.requestWillBeSent"
        ]
        assert [url for url in requested if not url.startswith(("data:", report.as_uri()))] == []
        resources = browser.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)"
        )
        assert [name for name in resources if not name.startswith("data:")] == []
        images = browser.execute_script(
            "return Array.from(document.images).map(i => [i.src.slice(0, 22), i.naturalWidth])"
        )
        assert images and all(src == "data:image/png;base64," and w > 0 for src, w in images)

        # The summary comes first: the best value, its params and test accuracy, the trials
        # by state and the time used and left of the 2h budget.
        headings = browser.execute_script(
            "return Array.from(document.querySelectorAll('h2')).map(h => h.textContent)"
        )
        assert headings[0] == "Summary"
        assert "Comparison" not in headings  # one study: nothing to compare
        summary = _section_text(browser, "section.summary")
        assert f"Best val_acc: {best.values[0]:.6g} (trial #{best.number} of digits_like" in summary
        assert f"test accuracy {best.values[0] - 0.012:.4f}" in summary
        for name, value in best.params.items():
            assert re.search(rf"{re.escape(name)}\s+{re.escape(_shown(value))}", summary), name
        [row] = _table_rows(browser, "section.summary table:last-of-type")
        assert row[:9] == ["digits_like", "random", "none", "done", "20", "0", "0", "0", "0"]
        assert row[9] == "20 trials / 2h"
        assert re.fullmatch(r"\d+s", row[10]) and re.fullmatch(r"1[12]\dm", row[11]), row

        # The search space as a table, one row per parameter.
        space = _table_after(browser, "search space")
        assert space[0] == ["lr", "loguniform", "[0.0001, 1]"]
        assert space[2] == ["batch_size", "choice", "16, 32, 64"]
        assert space[3] == ["init", "choice", f"kaiming, {LONG_CHOICE}"]
        # One importance headline, the methods' verdicts under it.
        headline = browser.execute_script(
            "return Array.from(document.querySelectorAll('p.headline')).map(p => p.textContent)"
        )
        assert len(headline) == 2 and headline[1].startswith("Most important: ")
        assert headline[1].split(": ")[1].split(" (")[0] in config["search_space"]
        assert "PED-ANOVA" in text and "fANOVA" in text
        # Each curve once: the history, the epochs, the parallel coordinates.
        assert (
            browser.execute_script("return document.querySelectorAll('.js-plotly-plot').length")
            == 3
        )
        # Nothing runs past the right edge: the long choice wraps.
        assert browser.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth"
        )
        shot = Path(os.environ.get("HPO_REPORT_SCREENSHOT", tmp_path / "report.png"))
        assert browser.save_screenshot(str(shot))
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _open(browser: Any, page: Path) -> str:
    """Load ``page``, wait for plotly to draw its figures; the page's visible text."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(page.as_uri())
    WebDriverWait(browser, 120).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".plotly .main-svg"))
    )
    return str(browser.find_element(By.TAG_NAME, "body").text)


def _section_text(browser: Any, selector: str) -> str:
    from selenium.webdriver.common.by import By

    return str(browser.find_element(By.CSS_SELECTOR, selector).text)


def _table_rows(browser: Any, selector: str) -> list[list[str]]:
    return list(
        browser.execute_script(
            "return Array.from(document.querySelector(arguments[0]).querySelectorAll('tbody tr'))"
            ".map(r => Array.from(r.cells).map(c => c.textContent))",
            selector,
        )
    )


def _table_after(browser: Any, heading: str) -> list[list[str]]:
    """The rows of the table that follows the h3 reading ``heading``."""
    return list(
        browser.execute_script(
            "const h = Array.from(document.querySelectorAll('h3'))"
            ".find(h => h.textContent === arguments[0]);"
            "let t = h.nextElementSibling; while (t.tagName !== 'TABLE') t = t.nextElementSibling;"
            "return Array.from(t.querySelectorAll('tbody tr'))"
            ".map(r => Array.from(r.cells).map(c => c.textContent));",
            heading,
        )
    )


def _shown(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _references(html: str) -> list[str]:
    """Every src and href attribute in the page's markup."""
    found: list[str] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.extend(v or "" for k, v in attrs if k in ("src", "href"))

    Collect().feed(html)
    return found
