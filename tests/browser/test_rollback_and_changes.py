"""Resolving an edit conflict, rollback's confirmation, and recorded field changes, in a
real browser. With CV_SCREENSHOTS set, the confirmation pages and the history's "Other
changes" are also saved there as screenshots, light and dark."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from config_versions.models import BotConfig, BotConfigChange
from tests.browser.support import BASE_CONFIG, second_config, third_config
from tests.browser.test_admin_browser import admin_url, edit_config

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("CV_SCREENSHOTS")


@pytest.fixture
def bot(users):
    """Support bot at version 1, with a description (the history shows its changes)."""
    created = BotConfig.objects.create(
        name="Support bot",
        slug="support-bot",
        description="Answers customer questions on the web chat and by email.",
    )
    manager = created.get_version_manager(user=users["alice"])
    manager.save(
        BASE_CONFIG, reason="Initial configuration", created_by="alice", expected_version=0
    )
    return BotConfig.objects.get(pk=created.pk)


def shoot(page, name: str, scheme: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}-{scheme}.png"), full_page=True)


def test_after_a_conflict_the_editor_resolves_and_saves(signed_in, bot):
    alice, bob = signed_in("alice"), signed_in("bob")
    alice.goto(admin_url(bot, "change"))
    bob.goto(admin_url(bot, "change"))

    edit_config(alice, lambda c: c["llm"].update(temperature=0.2, model="gpt-4o"))
    alice.fill("#id_reason", "Less creative, newer model")
    alice.click("input[name=_save]")
    assert "Saved version 2." in alice.inner_text(".messagelist")

    edit_config(bob, lambda c: (c["llm"].update(temperature=0.9), c.update(tone="warm")))
    bob.fill("#id_reason", "More creative")
    bob.click("input[name=_save]")
    error = bob.locator(".errorlist.nonfield").inner_text()
    assert "Both of you changed /llm/temperature:" in error
    assert "yours 0.9, version 2 has 0.2" in error
    # The page is consistent: it edits version 2 everywhere.
    assert "You are editing version 2." in bob.inner_text(".cv-editing")
    assert bob.input_value("#id_expected_version") == "2"
    held = json.loads(bob.input_value("#id_config"))
    assert held["llm"]["temperature"] == 0.9  # bob's value where both changed
    assert held["llm"]["model"] == "gpt-4o"  # alice's edit elsewhere is kept
    assert held["tone"] == "warm"

    bob.click("input[name=_save]")
    assert "Saved version 3." in bob.inner_text(".messagelist")
    bot.refresh_from_db()
    final = bot.version_manager.current_config
    assert (final["llm"]["temperature"], final["llm"]["model"], final["tone"]) == (
        0.9,
        "gpt-4o",
        "warm",
    )


def test_clean_merge_is_saved_and_says_onto_what(signed_in, bot):
    alice, bob = signed_in("alice"), signed_in("bob")
    alice.goto(admin_url(bot, "change"))
    bob.goto(admin_url(bot, "change"))
    edit_config(alice, lambda c: c["llm"].update(model="gpt-4o"))
    alice.fill("#id_reason", "Newer model")
    alice.click("input[name=_save]")
    edit_config(bob, lambda c: c["memory"].update(max_messages=30))
    bob.fill("#id_reason", "Longer memory")
    bob.click("input[name=_save]")
    message = bob.inner_text(".messagelist")
    assert "Saved version 3: your edits were merged onto version 2, saved by alice" in message
    bob.click("a.cv-merged-diff")
    bob.wait_for_url(re.compile(r"/diff/\?from=2&to=3"))


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_rollback_asks_first_from_the_history(signed_in, bot, users, scheme):
    make_more_history(bot, users)
    page = signed_in("alice", color_scheme=scheme)
    page.goto(admin_url(bot, "history"))
    page.locator("tr.cv-version-row[data-version='1'] a.cv-rollback-button").click()
    page.wait_for_url(re.compile(r"/rollback/1/$"))
    assert "Roll back Support bot to version 1?" in page.inner_text("#content")
    assert page.input_value("#id_reason") == "Rollback to version 1"
    assert page.locator("td.cv-code.cv-removed").count() > 0
    shoot(page, "rollback-confirmation", scheme)
    page.fill("#id_reason", "The short greeting confused people")
    page.click("#cv-rollback-form input[type=submit]")
    page.wait_for_url(re.compile(r"/history/$"))
    assert "Rolled back to version 1" in page.inner_text(".messagelist")
    bot.refresh_from_db()
    newest = bot.version_manager.get_version(bot.current_version)
    assert newest.reason == "The short greeting confused people"
    assert newest.metadata["rollback_to"] == 1


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_changelist_action_asks_first(signed_in, bot, users, scheme):
    other = BotConfig.objects.create(name="Sales bot", slug="sales-bot")
    other.get_version_manager(user=users["bob"]).create({"name": "SalesBot"}, created_by="bob")
    page = signed_in("alice", color_scheme=scheme)
    page.goto("/admin/config_versions/botconfig/")
    make_more_history(bot, users)
    page.check(f"input[name=_selected_action][value='{bot.pk}']")
    page.check(f"input[name=_selected_action][value='{other.pk}']")
    page.select_option("select[name=action]", "rollback_to_previous")
    page.click("button[name=index]")
    assert "Roll back configs to their previous version?" in page.inner_text("#content")
    plan = page.inner_text("table.cv-rollback-plan")
    assert "nothing to do: there is no previous version" in plan
    shoot(page, "rollback-selected", scheme)
    before = bot.current_version
    page.click("input[type=submit][value='Yes, roll back']")
    assert "Rolled back “Support bot”" in page.inner_text(".messagelist")
    bot.refresh_from_db()
    assert bot.current_version == before + 1


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_field_changes_are_recorded_and_shown_in_the_history(signed_in, bot, users, scheme):
    make_more_history(bot, users)
    page = signed_in("alice", color_scheme=scheme)
    page.goto(admin_url(bot, "change"))
    page.fill("#id_name", "Help desk bot")
    page.fill("#id_slug", "help-desk")
    page.fill("#id_reason", "One name for the bot everywhere")
    page.click("input[name=_save]")
    # A slug rename is confirmed by saving again.
    assert "API clients and bots find this config by its slug" in page.inner_text(".errorlist")
    page.click("input[name=_save]")
    assert "API clients must now ask for “help-desk”" in page.inner_text(".messagelist")
    assert BotConfigChange.objects.filter(bot_config=bot).count() == 2
    page.goto(admin_url(bot, "change"))
    page.click("#fieldset-0-2-heading, summary:has-text('Validation')")
    page.fill("#id_schema", json.dumps({"type": "object", "required": ["name", "llm"]}))
    page.fill("#id_reason", "Every config needs a name and a model")
    page.click("input[name=_save]")
    page.goto(admin_url(bot, "history"))
    section = page.locator("#other-changes").inner_text()
    assert "Support bot" in section
    assert "Help desk bot" in section
    assert "One name for the bot everywhere" in section
    assert '{"required": ["name", "llm"], "type": "object"}' in section
    page.locator("#other-changes").scroll_into_view_if_needed()
    shoot(page, "history-other-changes", scheme)


def make_more_history(bot: BotConfig, users) -> None:
    """Versions 2 and 3 on top of version 1: a model switch, then a tweak."""
    manager = bot.get_version_manager(user=users["bob"])
    manager.update(second_config(), reason="Switch to Claude 3.5 Sonnet", created_by="bob")
    manager.update(third_config(), reason="Shorter greeting and replies", created_by="alice")
    bot.refresh_from_db()
