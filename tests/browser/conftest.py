"""Fixtures of the browser tests (`make test-browser`): headless Chromium from the OS packages
driven by Selenium against pytest-django's live server, the demo data of `manage.py seed`, and
a screenshot of every step under `artifacts/screenshots/` (kept by CI).

A missing Chromium or chromedriver fails the run with what to install: these tests are never
skipped. `make test` leaves them out by their marker (`browser`, pyproject.toml).
"""

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from apps.accounts.seed import CREDENTIALS_FILE, DEMO_ADMIN_EMAIL

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("BROWSER_SCREENSHOTS", ROOT / "artifacts" / "screenshots"))
# Where Debian, Ubuntu and other distributions put the browser and its driver.
CHROME_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
DRIVER_NAMES = ("chromedriver",)
MISSING_MESSAGE = (
    "{what} not found (looked for {names} on PATH; or set {variable}). "
    "Install it: apt-get install -y chromium chromium-driver (or run .ci/browser)."
)
WAIT_SECONDS = 15
WINDOW = "1440,1000"


def executable(variable: str, names: tuple[str, ...], what: str) -> str:
    """The path of a program from `variable` or the first of `names` on PATH; fails the run
    loudly (never a skip) when there is none."""
    path = os.environ.get(variable) or next(filter(None, map(shutil.which, names)), None)
    if not path or not os.access(path, os.X_OK):
        pytest.fail(
            MISSING_MESSAGE.format(what=what, names=", ".join(names), variable=variable),
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def chrome() -> Iterator[WebDriver]:
    """One headless Chromium for the session (a fresh profile; cookies cleared per test)."""
    options = webdriver.ChromeOptions()
    options.binary_location = executable("CHROME_BIN", CHROME_NAMES, "Chromium")
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI containers run as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={WINDOW}",
        "--lang=en-US",
    ):
        options.add_argument(argument)
    service = Service(executable_path=executable("CHROMEDRIVER", DRIVER_NAMES, "chromedriver"))
    driver = webdriver.Chrome(options=options, service=service)
    yield driver
    driver.quit()


@pytest.fixture
def browser(chrome: WebDriver) -> Iterator[WebDriver]:
    """The session's browser, logged out and on a blank page after the test."""
    yield chrome
    chrome.delete_all_cookies()
    chrome.get("about:blank")


def wait(driver: WebDriver, seconds: float = WAIT_SECONDS) -> WebDriverWait[WebDriver]:
    """A WebDriverWait: every step waits for what it needs, never for a fixed time."""
    return WebDriverWait(driver, seconds)


class Screenshots:
    """Numbered screenshots of one test: `artifacts/screenshots/<test>/<nn>-<step>.png`."""

    def __init__(self, driver: WebDriver, folder: Path) -> None:
        """Start an empty folder for the test."""
        self.driver = driver
        self.folder = folder
        self.taken: list[Path] = []
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)

    def take(self, step: str) -> Path:
        """Save the page as it is now under the step's name."""
        name = re.sub(r"[^a-z0-9]+", "-", step.lower()).strip("-")
        path = self.folder / f"{len(self.taken) + 1:02d}-{name}.png"
        assert self.driver.save_screenshot(str(path)), f"no screenshot written for {step}"
        self.taken.append(path)
        return path


@pytest.fixture
def shots(browser: WebDriver, request: pytest.FixtureRequest) -> Screenshots:
    """The test's screenshots."""
    return Screenshots(browser, SCREENSHOTS / request.node.name)


@dataclass(frozen=True)
class Demo:
    """The live server's URL and the demo admin `manage.py seed` created."""

    url: str
    admin_email: str
    admin_password: str


@pytest.fixture
def demo(live_server: Any, settings: Any, tmp_path: Path) -> Demo:
    """The demo data of the real `manage.py seed`, served by the live server. The seed's
    credentials file goes to a temporary folder (never the developer's)."""
    settings.BASE_DIR = tmp_path
    call_command("seed", stdout=StringIO())
    credentials = dict(
        line.split(" ", 1) for line in (tmp_path / CREDENTIALS_FILE).read_text().splitlines()
    )
    return Demo(str(live_server.url), DEMO_ADMIN_EMAIL, credentials[DEMO_ADMIN_EMAIL])
