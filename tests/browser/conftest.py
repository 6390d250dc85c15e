"""Browser tests: Debian's chromium and chromedriver, installed by the test tooling when missing.

The session fixture installs them with apt (the CI machine is Debian with root); when that is
impossible the tests fail with apt's output, they are never skipped. Screenshots of every page
go to var/artifacts/.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "var" / "artifacts"
PACKAGES = ("chromium", "chromium-driver")
BROWSERS = ("chromium", "chromium-browser")


def _installed() -> tuple[str, str] | None:
    driver = shutil.which("chromedriver")
    browser = next((found for name in BROWSERS if (found := shutil.which(name))), None)
    return (browser, driver) if browser and driver else None


def _apt(*args: str) -> subprocess.CompletedProcess[str]:
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(
        [*prefix, "apt-get", *args], capture_output=True, text=True, env=env, check=False
    )


@pytest.fixture(scope="session")
def chromium() -> tuple[str, str]:
    """(browser, chromedriver) paths; apt installs them the first time."""
    found = _installed()
    if found is None:
        done = _apt("install", "-y", "--no-install-recommends", *PACKAGES)
        if done.returncode != 0:  # a stale package list: refresh it once
            _apt("update")
            done = _apt("install", "-y", "--no-install-recommends", *PACKAGES)
        found = _installed()
        if found is None:
            pytest.fail(f"chromium could not be installed with apt:\n{done.stdout}\n{done.stderr}")
    return found


@pytest.fixture(scope="session")
def browser(chromium: tuple[str, str]) -> Iterator[webdriver.Chrome]:
    binary, driver = chromium
    options = Options()
    options.binary_location = binary
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,1000",
        "--lang=ru",
    ):
        options.add_argument(argument)
    chrome = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    chrome.set_page_load_timeout(30)
    try:
        yield chrome
    finally:
        chrome.quit()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
