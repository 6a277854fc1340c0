"""Headless Chromium (Debian's `chromium`) driven by Playwright; nothing is downloaded."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, sync_playwright

from tests.conftest import ROOT

ARTIFACTS = ROOT / "var" / "test-artifacts"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise RuntimeError(
            "Debian's chromium is needed for the browser tests "
            "(apt-get install chromium; .ci/run installs it)"
        )
    return found


@pytest.fixture(scope="module")
def browser_profile() -> Iterator[Path]:
    """The browser's profile directory (its disk cache is in there)."""
    with tempfile.TemporaryDirectory() as profile:
        yield Path(profile)


@pytest.fixture(scope="module")
def browser(browser_profile: Path) -> Iterator[BrowserContext]:
    """Chromium with a new empty profile (`--user-data-dir`), per test module: Playwright's
    sync API keeps an event loop running while it is open, which other tests must not see."""
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(browser_profile), executable_path=chromium_path(), args=FLAGS, headless=True
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(autouse=True)
def screenshot_on_failure(request: pytest.FixtureRequest) -> Iterator[None]:
    """A failed browser test leaves a screenshot of every page still open (kept as an
    artifact beside the success screenshots)."""
    yield
    report = getattr(request.node, "report_call", None)
    if report is None or not report.failed or "browser" not in request.fixturenames:
        return
    context: BrowserContext = request.getfixturevalue("browser")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for n, page in enumerate(context.pages):
        page.screenshot(path=str(ARTIFACTS / f"FAILED-{request.node.name}-{n}.png"), full_page=True)
