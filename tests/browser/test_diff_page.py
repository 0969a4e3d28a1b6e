"""The diff page as a browser draws it: nothing clipped, long line numbers in their column."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from config_versions.models import BotConfig

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("CV_SCREENSHOTS")  # a folder: save screenshots there

# Elements whose content does not fit their box (scrolled or spilling over).
OVERFLOWING = """(nodes) => nodes
    .filter((node) => node.scrollWidth > node.clientWidth + 1
                   || node.scrollHeight > node.clientHeight + 1)
    .map((node) => [node.id || node.className, node.textContent.slice(0, 40),
                    node.scrollWidth, node.clientWidth, node.scrollHeight, node.clientHeight])"""


def make_bot(users, old: dict[str, Any], new: dict[str, Any]) -> BotConfig:
    bot = BotConfig.objects.create(name="Support bot", slug="support-bot")
    manager = bot.get_version_manager(user=users["alice"])
    manager.create(old, reason="Initial configuration", created_by="alice")
    manager.update(new, reason="Edit", created_by="alice")
    return bot


def diff_url(bot: BotConfig) -> str:
    return f"/admin/config_versions/botconfig/{bot.pk}/diff/"


def changed_keys(count: int) -> tuple[dict[str, Any], dict[str, Any]]:
    old = {f"setting_{n:03}": n for n in range(count * 5)}
    new = {key: (value + 1 if value % 5 == 0 else value) for key, value in old.items()}
    return old, new


def test_every_change_of_the_summary_is_in_view(signed_in, users):
    bot = make_bot(users, *changed_keys(12))
    page = signed_in("alice")
    page.goto(diff_url(bot))
    assert page.inner_text(".cv-summary h2") == "12 changes"
    items = page.locator(".cv-summary-list li")
    assert items.count() == 12
    assert all(items.nth(k).is_visible() for k in range(12))
    # No list scrolls inside its own box: what is listed can be seen.
    assert page.eval_on_selector_all(".cv-summary-list", OVERFLOWING) == []


def test_more_changes_say_how_many_and_open(signed_in, users):
    bot = make_bot(users, *changed_keys(40))
    page = signed_in("alice")
    page.goto(diff_url(bot))
    visible = page.locator(".cv-summary-list li:visible")
    assert visible.count() == 10
    toggle = page.locator(".cv-summary-more > summary")
    assert toggle.inner_text() == "Show 30 more changes"
    toggle.click()
    assert visible.count() == 40
    assert page.eval_on_selector_all(".cv-summary-list", OVERFLOWING) == []


def long_configs(items: int) -> tuple[dict[str, Any], dict[str, Any]]:
    old = {"items": [{"id": n, "name": f"item {n}", "enabled": True} for n in range(items)]}
    new = {"items": [dict(item) for item in old["items"]]}
    new["items"][-2]["name"] = "renamed"
    del new["items"][-5]
    new["items"].append({"id": items, "name": "new item", "enabled": False})
    return old, new


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(("items", "digits"), [(400, 4), (2600, 5)])
def test_long_line_numbers_stay_in_their_column(signed_in, users, scheme, items, digits):
    bot = make_bot(users, *long_configs(items))
    page = signed_in("alice", color_scheme=scheme)
    page.goto(diff_url(bot))
    numbers = page.locator("td.cv-num:not(.cv-empty)")
    assert len(numbers.last.inner_text().replace("+", "").strip()) == digits
    assert page.eval_on_selector_all("td.cv-num", OVERFLOWING) == []
    # The numbers line up at the right edge of their column, clear of the code.
    removed = page.locator("td.cv-num.cv-removed").first
    code = page.locator("td.cv-code.cv-removed").first
    assert (
        removed.bounding_box()["x"] + removed.bounding_box()["width"]
        <= code.bounding_box()["x"] + 1
    )
    if SHOTS and digits == 4:
        page.locator("tr.cv-changed").first.scroll_into_view_if_needed()
        page.evaluate("window.scrollBy(0, -120)")
        page.screenshot(path=str(Path(SHOTS) / f"diff-4-digit-lines-{scheme}.png"))
