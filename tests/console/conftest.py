"""The console in a real headless chromium: one browser and one `serve` per session.

Every page a test visits is screenshotted into the run's output folder (under pytest's basetemp,
printed at the end), never into the repository.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support.browser import AXE, CHROMIUM_ARGS, axe_violations, chromium_executable
from support.serve import serve

_SCREENSHOTS: list[Path] = []
# How long an action, a navigation or an `expect` may wait for the page: only a failure waits it out.
# Playwright's `expect` has its own default (5 s) that set_default_timeout does not change; a page
# fetching from a `serve` on a loaded CI machine (2 cores, 6 test workers) can take longer to render.
PAGE_TIMEOUT_MS = 30_000


@pytest.fixture(scope="session")
def browser_context(tmp_path_factory):
    """A persistent context on a new, empty profile directory: the one browser of the session."""
    executable = chromium_executable()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            user_data_dir=tmp_path_factory.mktemp("chromium-profile"),
            executable_path=executable,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        # Init scripts are not subject to the console's Content-Security-Policy (an inline <script> is).
        context.add_init_script(path=str(AXE))
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="session")
def console_data(tmp_path_factory) -> Path:
    """The data directory of the session's `serve`: a test may store records there as the lifecycle
    would (tests/support/results.py), e.g. a run in a given state, without running Locust."""
    return tmp_path_factory.mktemp("console-serve")


@pytest.fixture(scope="session")
def console_url(console_data):
    """One `serve` for the console's modules (each test makes its own load tests)."""
    with serve(console_data) as url:
        yield url


@pytest.fixture
def page(browser_context):
    """A fresh tab; an uncaught exception in the console fails the test."""
    from playwright.sync_api import expect

    expect.set_options(timeout=PAGE_TIMEOUT_MS)
    tab = browser_context.new_page()
    tab.set_default_timeout(PAGE_TIMEOUT_MS)
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield tab
    finally:
        tab.close()
    assert not errors, f"uncaught errors in the console: {errors}"


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("console-screenshots", numbered=False)


@pytest.fixture
def check_page(screenshot_dir, request):
    """Screenshot the page as it is, then require no serious or critical axe-core violation."""

    def check(page, name: str) -> None:
        file = screenshot_dir / f"{request.node.name}-{re.sub(r'[^a-z0-9]+', '-', name.lower())}.png"
        page.screenshot(path=str(file), full_page=True)
        _SCREENSHOTS.append(file)
        violations = axe_violations(page)
        assert not violations, f"axe-core on {name} ({page.url}): {violations}"

    return check


def pytest_terminal_summary(terminalreporter):
    if _SCREENSHOTS:
        terminalreporter.write_line(f"console screenshots ({len(_SCREENSHOTS)}): {_SCREENSHOTS[0].parent}")
