"""Debian's Chromium under Playwright, for the browser tests (marker
``browser``). Screenshots go to test-artifacts/screenshots/ (git-ignored)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from eventmaster.tests.server import installed

SHOTS = Path(settings.BASE_DIR) / "test-artifacts" / "screenshots"
# As root on these machines Chromium needs --no-sandbox; without the
# background-networking features off it keeps calling out of a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]  # fmt: skip


@contextmanager
def chromium(*extra_args: str) -> Iterator[Any]:
    """A headless Chromium (a Playwright ``Browser``), skipping the test
    where Chromium is missing and cannot be installed."""
    # Debian's chromium: Playwright's own browser download cannot work offline.
    executable = installed("chromium", "chromium")
    if executable is None:
        pytest.skip(
            "Chromium is not installed and could not be installed here (Debian: apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    # Playwright's sync API keeps an event loop in this thread; the test's own
    # (synchronous) database calls are safe, so Django's guard is lifted here.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=executable, headless=True, args=[*CHROMIUM_ARGS, *extra_args]
            )
            try:
                yield browser
            finally:
                browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous
