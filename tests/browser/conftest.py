"""Playwright (sync API) driving Debian's Chromium against pytest-django's live server.

Skipped, saying why, where /usr/bin/chromium is missing; with REQUIRE_BROWSER=1 (CI)
a missing browser fails instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.browser.support import CHROMIUM, PASSWORD, launch, login

VIEWPORT = {"width": 1280, "height": 900}
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium): browser tests not run"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(reason + ", and REQUIRE_BROWSER=1 requires them")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API leaves its event loop marked as running in this thread, and
    # Django then refuses ORM calls here (SynchronousOnlyOperation). The tests' set-up
    # and checks are ordinary synchronous code, so allow them, for this module only:
    # the loop is gone, and the flag restored, before any other test runs.
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = launch(playwright)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            del os.environ[ASYNC_UNSAFE]
        else:
            os.environ[ASYNC_UNSAFE] = previous


@pytest.fixture
def users(db) -> dict[str, Any]:
    from django.contrib.auth import get_user_model

    model = get_user_model()
    return {
        name: model.objects.create_superuser(name, f"{name}@example.com", PASSWORD)
        for name in ("alice", "bob")
    }


@pytest.fixture
def signed_in(browser, live_server, users) -> Iterator[Callable[..., Any]]:
    """``signed_in("alice")``: a page in a fresh browser context, logged in as alice."""
    contexts = []

    def open_page(username: str, color_scheme: str = "light") -> Any:
        context = browser.new_context(
            base_url=live_server.url, viewport=VIEWPORT, color_scheme=color_scheme
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        login(page, live_server.url, username)
        return page

    yield open_page
    for context in contexts:
        context.close()
