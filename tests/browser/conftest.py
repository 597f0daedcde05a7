"""Playwright against ``live_server``, driving the system's Chromium (never a downloaded one).

Run by ``scripts/test`` in its browser step (``SOLIDQ_BROWSER_TESTS=1``); skipped otherwise,
and when Playwright or ``/usr/bin/chromium`` is missing (the skip says which).
``SOLIDQ_SCREENSHOTS=1`` also saves a screenshot of every page into ``docs/screenshots/``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("SOLIDQ_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
LAPTOP_WIDTH = 1366  # the pages (and the screenshots) fit this wide without a sideways scroll
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

# Playwright's sync API runs an event loop in this thread; the ORM calls of the tests'
# setup and checks are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _skip_reason() -> str | None:
    if not os.environ.get("SOLIDQ_BROWSER_TESTS"):
        return "browser tests run in scripts/test's browser step (set SOLIDQ_BROWSER_TESTS=1)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright; no browser download needed)"
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _skip_reason()
    if reason is None:
        return
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    # A laptop's screen, the admin as it comes (Mission Control's pages leave out its sidebar).
    context = browser.new_context(viewport={"width": LAPTOP_WIDTH, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot(page: Any) -> Any:
    """``screenshot(name)``: save the page as docs/screenshots/<name>.png when asked to."""
    wanted = bool(os.environ.get("SOLIDQ_SCREENSHOTS"))

    def take(name: str) -> None:
        if wanted:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            # A full-page picture: the sticky save bar would sit across the middle of it.
            page.add_style_tag(content=".submit-row { position: static !important; }")
            page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return take
