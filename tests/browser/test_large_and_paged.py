"""A real browser saves a config near the size limit, and compares versions across pages."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from config_versions.conf import settings as cv_settings
from config_versions.models import BotConfig
from tests.admin.test_large_config import compact_size, config_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_config_near_the_limit_saves_from_the_browser(signed_in, users):
    bot = BotConfig.objects.create(name="Big bot", slug="big-bot")
    config = config_of(1_990_000)
    assert 1_900_000 < compact_size(config) < cv_settings.MAX_CONFIG_BYTES
    bot.get_version_manager(user=users["alice"]).create(config, created_by="alice")
    page = signed_in("alice")
    page.goto(f"/admin/config_versions/botconfig/{bot.pk}/change/")
    # One small edit, typed where it belongs; the browser posts the whole text
    # (about 4 MB once URL-encoded, with the line ends as CRLF).
    page.eval_on_selector(
        "#id_config",
        """(area) => {
            const at = area.value.indexOf('"priority": 6');
            area.focus();
            area.setSelectionRange(at + 12, at + 13);
        }""",
    )
    page.keyboard.type("9")
    page.fill("#id_reason", "Raise a priority")
    page.click("input[name=_save]")
    assert "Saved version 2." in page.inner_text(".messagelist")
    bot.refresh_from_db()
    assert bot.current_version == 2
    saved = bot.version_manager.current_config
    assert saved is not None
    changed = [n for n, intent in enumerate(saved["intents"]) if intent["priority"] == 9]
    assert len(changed) == 1
    config["intents"][changed[0]]["priority"] = 9
    assert saved == config


def test_versions_on_different_pages_are_compared_by_clicking(signed_in, users, settings):
    settings.CONFIG_VERSIONS = {"ADMIN_HISTORY_PAGE_SIZE": 10}
    bot = BotConfig.objects.create(name="Support bot", slug="support-bot")
    manager = bot.get_version_manager(user=users["alice"])
    manager.create({"n": 1}, created_by="alice")
    for n in range(2, 26):
        manager.update({"n": n}, reason=f"edit {n}", created_by="alice")
    page = signed_in("alice")
    page.goto(f"/admin/config_versions/botconfig/{bot.pk}/history/")
    page.check("input[name=to][value='25']")
    page.click(".paginator .cv-page-link:text-is('3')")
    page.wait_for_url(re.compile(r"p=3"))
    assert page.locator("tr.cv-version-row").first.get_attribute("data-version") == "5"
    assert "compare to v25 (page 1)" in page.inner_text(".cv-other-page-picks")
    page.check("input[name=from][value='1']")
    page.click("#cv-compare-form input[type=submit]")
    page.wait_for_url(re.compile(r"/diff/\?"))
    query = parse_qs(urlsplit(page.url).query)
    assert (query["from"], query["to"]) == (["1"], ["25"])
    assert '"n": 25' in page.inner_text("table.cv-diff")
