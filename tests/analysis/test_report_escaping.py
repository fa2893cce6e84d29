"""hpo report and compare's HTML escape every name a user chose: opened in a real headless
Chromium, a study whose names carry script runs none of it, and names that carry plotly's own
markup (a link) show as text in every figure, hover labels included, never as a link."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.analysis.browser import chromium, skip_without_chromium
from tests.helpers import hpo_create_study, run_hpo, write_module

skip_without_chromium()


def payload(where: str) -> str:
    """Markup that records ``where`` in ``window.pwned`` if the page runs it."""
    return f"<img src=x onerror=\"(window.pwned=window.pwned||[]).push('{where}')\">"


def link(where: str) -> str:
    """Markup that plotly itself renders: a link (clickable, in the page's own origin)."""
    return f'<a href="https://evil.example/{where}">{where}</a>'


SCRIPT = "</script><script>(window.pwned=window.pwned||[]).push('value')</script>"
GROUP = "g" + payload("study") + link("study")
METRIC = "acc" + payload("metric") + link("metric")
# "$...$" too: matplotlib would read it as math (and fail on the unknown command).
PARAM = "lr $\\nope$" + payload("param") + link("param")
CHOICE = "b" + link("choice")

OBJECTIVE = f"""
def run(params, report):
    value = params[{PARAM!r}] + (0.5 if params["opt"] == "plain" else 0.0)
    value += 0.25 if params["opt2"] == {CHOICE!r} else 0.0
    for epoch in range(1, 4):
        report(value * epoch / 3, epoch)
    return value
"""


def test_a_report_of_hostile_names_runs_no_script(tmp_path: Path, sqlite_url: str) -> None:
    write_module(tmp_path, "hostile", OBJECTIVE)
    config = {
        "config": {
            "experimentName": GROUP,
            "maxTrialNum": 16,
            "model": "hostile",
            "seed": 2,
            "pruner": "none",
            "metrics": {METRIC: "maximize"},
        },
        "search_space": {
            PARAM: {"_type": "uniform", "_value": [0, 1]},
            "opt": {"_type": "choice", "_value": ["plain", SCRIPT]},
            "opt2": {"_type": "choice", "_value": ["a", CHOICE]},
        },
    }
    hpo_create_study(tmp_path, config, sqlite_url, "--sampler", "random,tpe")
    ran = run_hpo("worker", "--group", GROUP, storage=sqlite_url, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    made = run_hpo(
        "report", GROUP, "--out", "rep", "--bootstrap", "3", storage=sqlite_url, cwd=tmp_path
    )
    assert made.returncode == 0, made.stderr
    compared = run_hpo("compare", GROUP, "--out", "cmp", storage=sqlite_url, cwd=tmp_path)
    assert compared.returncode == 0, compared.stderr

    with chromium() as browser:
        for page in (tmp_path / "rep" / "report.html", tmp_path / "cmp" / "compare.html"):
            text = _open(browser, page)
            assert browser.execute_script("return window.pwned || []") == [], page
            # The report's own images only: its charts, inside the page itself.
            sources = "return Array.from(document.images).map(i => i.src.slice(0, 22))"
            assert browser.execute_script(sources) == _own_images(page)
            hover = browser.execute_script(HOVER_EVERY_POINT)
            assert any("evil.example" in label for label in hover), page  # hovered, as text
            links = "return Array.from(document.querySelectorAll('a')).map(a => a.outerHTML)"
            assert not [a for a in browser.execute_script(links) if "evil" in a], page
            if page.name == "report.html":
                # Shown as the text it is, not dropped: the names are there to read.
                for name in (GROUP, METRIC, PARAM):
                    assert name in text, name


#: Shows the hover label of the first points of every trace of every figure (plotly renders
#: each as markup when shown) and returns their texts.
HOVER_EVERY_POINT = """
const shown = [];
for (const figure of document.querySelectorAll('.js-plotly-plot')) {
  figure.data.forEach((trace, curve) => {
    const points = Math.min((trace.x || trace.y || []).length, 5);
    for (let point = 0; point < points; point++) {
      Plotly.Fx.hover(figure, [{curveNumber: curve, pointNumber: point}]);
      const layer = figure.querySelector('.hoverlayer');
      if (layer) shown.push(layer.textContent);
    }
  });
}
return shown;
"""


def _open(browser: Any, page: Path) -> str:
    """Load ``page`` and wait for plotly to draw its figures; the page's visible text."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(page.as_uri())
    WebDriverWait(browser, 120).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".plotly .main-svg"))
    )
    return str(browser.find_element(By.TAG_NAME, "body").text)


def _own_images(page: Path) -> list[str]:
    """The <img> elements the report itself shows: its importance chart, a data: URI."""
    return ["data:image/png;base64,"] if page.name == "report.html" else []
