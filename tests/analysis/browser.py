"""A real headless Chromium (Debian's chromium and chromedriver) for tests that open pages.

``.ci/run`` installs both; where they are missing outside CI, a test module skips, saying so.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def skip_without_chromium() -> None:
    """Skip the calling test module where there is no browser to drive (never on CI)."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()) and not os.environ.get("CI"):
        pytest.skip(
            "chromium and chromedriver are not installed "
            "(apt-get install chromium chromium-driver)",
            allow_module_level=True,
        )


@contextmanager
def chromium(*, network_log: bool = False) -> Iterator[Any]:
    """A selenium driver of a headless Chromium, closed afterwards; ``network_log``: it keeps
    the DevTools performance log (every request the page makes: ``driver.get_log``)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    if network_log:
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()
