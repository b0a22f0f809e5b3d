"""Debian's chromium driven by Playwright (from PyPI), never a browser that Playwright downloads.

`make test` installs chromium with apt-get when it is missing and it can. Here, a missing browser
fails in CI (the `CI` variable is set) and skips elsewhere, with the reason.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "console" / "vendor" / "test" / "axe.min.js"
CHROMIUM_NAMES = ("chromium", "chromium-browser")
# Quiet, deterministic, offline apart from loopback: no first-run UI, no background downloads.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # root in a container: the sandbox needs user namespaces we may not have
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_executable() -> str:
    """The chromium binary, or fail (CI) / skip (elsewhere) saying why there is none."""
    found = os.environ.get("CHROMIUM") or next(filter(None, map(shutil.which, CHROMIUM_NAMES)), None)
    if found:
        return found
    reason = "chromium is not installed (make test installs it with apt-get when run as root)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: in CI the console's browser tests must run", pytrace=False)
    pytest.skip(reason)


def axe_violations(page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict]:
    """axe-core's violations of the given impacts on the page as it is now (axe is injected at start)."""
    found = page.evaluate(
        """async () => {
            const result = await axe.run(document, { resultTypes: ['violations'] });
            return result.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
            }));
        }"""
    )
    return [violation for violation in found if violation["impact"] in impacts]
