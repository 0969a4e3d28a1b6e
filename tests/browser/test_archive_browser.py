"""Archive a config from its page, find it under Status: Archived, restore it, in a real
browser. With CV_SCREENSHOTS set, the archive confirmation, the changelist filtered on
Archived and the archived config's page are saved there, light and dark."""

from __future__ import annotations

import re

import pytest

from config_versions.models import BotConfig
from tests.browser.support import BASE_CONFIG
from tests.browser.test_admin_browser import admin_url
from tests.browser.test_rollback_and_changes import shoot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHANGELIST = "/admin/config_versions/botconfig/"


@pytest.fixture
def bots(users):
    created = []
    for name, slug in (("Support bot", "support-bot"), ("Sales bot", "sales-bot")):
        bot = BotConfig.objects.create(name=name, slug=slug)
        bot.get_version_manager(user=users["alice"]).create(
            {**BASE_CONFIG, "name": name}, created_by="alice"
        )
        created.append(bot)
    return created


def names(page) -> list[str]:
    return page.locator("#result_list tbody th a").all_inner_texts()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_archive_filter_then_restore(signed_in, bots, scheme):
    support, _ = bots
    page = signed_in("alice", color_scheme=scheme)
    page.goto(admin_url(support, "change"))
    page.click("a.cv-archive-link")
    page.wait_for_url(re.compile(r"/delete/$"))
    content = page.inner_text("#content")
    assert "Archive Support bot?" in content
    assert "410 Gone" in content
    page.fill("#id_reason", "Replaced by the new helpdesk bot")
    shoot(page, "archive-confirmation", scheme)
    page.click("#cv-archive-form input[type=submit]")

    page.wait_for_url(re.compile(r"/botconfig/$"))
    assert "was archived" in page.inner_text(".messagelist")
    assert names(page) == ["Sales bot"]

    page.locator("#changelist-filter a", has_text="Archived").click()
    page.wait_for_url(re.compile(r"status=archived"))
    assert names(page) == ["Support bot"]
    assert "by alice" in page.inner_text("#result_list")
    shoot(page, "archive-changelist-archived", scheme)

    page.click("#result_list tbody th a")
    page.wait_for_url(re.compile(r"/change/"))
    banner = page.inner_text("#cv-archived-banner")
    assert "Archived on" in banner
    assert "Replaced by the new helpdesk bot" in banner
    assert page.locator("textarea[name=config]").count() == 0
    shoot(page, "archived-config-page", scheme)

    page.click("#cv-archived-banner input[type=submit][value='Restore']")
    page.wait_for_url(re.compile(r"/change/$"))
    assert "was restored" in page.inner_text(".messagelist")
    assert page.locator("#cv-archived-banner").count() == 0
    assert not BotConfig.objects.get(pk=support.pk).is_archived
    page.goto(CHANGELIST)
    assert names(page) == ["Sales bot", "Support bot"]
