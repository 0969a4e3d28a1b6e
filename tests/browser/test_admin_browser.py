"""The admin as staff use it: a real browser, a real server, a real database."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from config_versions.forms import pretty_json
from config_versions.models import BotConfig
from tests.browser.support import BASE_CONFIG

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def bot(users):
    bot = BotConfig.objects.create(name="Support bot", slug="support-bot")
    bot.get_version_manager(user=users["alice"]).create(
        BASE_CONFIG, reason="Initial configuration", created_by="alice"
    )
    bot.refresh_from_db()
    return bot


def admin_url(bot, view: str) -> str:
    return f"/admin/config_versions/botconfig/{bot.pk}/{view}/"


def compared(page) -> tuple[int, int]:
    query = parse_qs(urlsplit(page.url).query)
    return int(query["from"][0]), int(query["to"][0])


def edit_config(page, change) -> None:
    config = json.loads(page.input_value("#id_config"))
    change(config)
    page.fill("#id_config", json.dumps(config, indent=2, sort_keys=True))


def test_edit_compare_and_roll_back(signed_in, bot):
    page = signed_in("alice")

    # Edit the config with a reason.
    page.goto(admin_url(bot, "change"))
    assert "You are editing version 1." in page.inner_text(".cv-editing")
    edit_config(page, lambda c: c["llm"].update(model="gpt-4o"))
    page.fill("#id_reason", "Upgrade to GPT-4o")
    page.click("input[name=_continue]")
    assert "Saved version 2." in page.inner_text(".messagelist")
    assert page.input_value("#id_expected_version") == "2"

    # Open the history: newest first, with number, author and reason.
    page.click("a.historylink")
    rows = page.locator("tr.cv-version-row")
    assert rows.count() == 2
    assert re.search(r"v2\s+current", rows.nth(0).inner_text())
    assert "alice" in rows.nth(0).inner_text()
    assert "Upgrade to GPT-4o" in rows.nth(0).inner_text()

    # Compare v1 and v2 (the default pick) and check the highlighted lines.
    page.click("#cv-compare-form input[type=submit]")
    page.wait_for_url(re.compile(r"/diff/\?"))
    assert compared(page) == (1, 2)
    removed = page.locator("td.cv-code.cv-removed")
    added = page.locator("td.cv-code.cv-added")
    assert removed.all_inner_texts() == ['    "model": "gpt-4",']
    assert added.all_inner_texts() == ['    "model": "gpt-4o",']
    assert page.locator("td.cv-added mark").inner_text() == "o"
    assert "1 change" in page.inner_text(".cv-summary h2")
    # The summary links to the changed line.
    new_lines = pretty_json(bot.version_manager.current_config).splitlines()
    line = new_lines.index('    "model": "gpt-4o",') + 1
    page.click(".cv-summary-list a")
    assert page.evaluate("location.hash") == f"#cv-R{line}"
    assert page.locator(f"#cv-R{line}").is_visible()

    # The rollback button asks first (the diff back to v1, a reason); confirming rolls
    # back and lands on the history with the new version.
    page.click("text=Roll back to version 1")
    page.wait_for_url(re.compile(r"/rollback/1/$"))
    assert page.input_value("#id_reason") == "Rollback to version 1"
    page.click("#cv-rollback-form input[type=submit]")
    page.wait_for_url(re.compile(r"/history/$"))
    assert "Rolled back to version 1: its config is now version 3." in page.inner_text(
        ".messagelist"
    )
    top = page.locator("tr.cv-version-row").nth(0).inner_text()
    assert re.search(r"v3\s+current\s+rolled back to v1", top)
    bot.refresh_from_db()
    assert bot.current_version == 3
    assert bot.version_manager.current_config == BASE_CONFIG


def test_second_editor_gets_the_conflict_and_a_link_to_the_diff(signed_in, bot):
    alice, bob = signed_in("alice"), signed_in("bob")
    alice.goto(admin_url(bot, "change"))
    bob.goto(admin_url(bot, "change"))

    edit_config(alice, lambda c: c["llm"].update(temperature=0.2))
    alice.fill("#id_reason", "Less creative")
    alice.click("input[name=_save]")
    assert "Saved version 2." in alice.inner_text(".messagelist")

    edit_config(bob, lambda c: c["llm"].update(temperature=0.9))
    bob.fill("#id_reason", "More creative")
    bob.click("input[name=_save]")
    error = bob.locator(".errorlist.nonfield").inner_text()
    assert "Version 2 was saved by alice after you opened this form at version 1" in error
    assert "Both of you changed /llm/temperature:" in error
    bot.refresh_from_db()
    assert bot.current_version == 2
    assert bot.version_manager.current_config["llm"]["temperature"] == 0.2
    # Bob's text is still in the editor.
    assert json.loads(bob.input_value("#id_config"))["llm"]["temperature"] == 0.9

    bob.click("a.cv-conflict-diff")
    bob.wait_for_url(re.compile(r"/diff/\?"))
    assert compared(bob) == (1, 2)
    assert bob.locator("td.cv-code.cv-added").all_inner_texts() == ['    "temperature": 0.2']


def test_editor_checks_json_while_typing(signed_in, bot):
    page = signed_in("alice")
    page.goto(admin_url(bot, "change"))
    assert page.inner_text(".cv-json-status") == "Valid JSON."
    page.fill("#id_config", '{\n  "a": 1,\n  "b": }')
    page.wait_for_function(
        "document.querySelector('.cv-json-status').textContent.startsWith('Invalid')"
    )
    assert page.inner_text(".cv-json-status") == "Invalid JSON on line 3, column 8: unexpected “}”."
    # The server says the same when the form is sent anyway.
    page.fill("#id_reason", "broken")
    page.click("input[name=_save]")
    assert "Invalid JSON on line 3, column 8" in page.inner_text(".errorlist")
    bot.refresh_from_db()
    assert bot.current_version == 1


@pytest.mark.parametrize(
    "broken",
    # (Not a trailing comma: Python 3.13 points at the comma, 3.11 after it.)
    ['{\n  "a" 1\n}', '{\n  "a": 1\n  "b": 2\n}', '{\n  "a": tru\n}', '{\n  "a": {'],
)
def test_browser_and_server_agree_on_where_the_json_breaks(signed_in, bot, broken):
    page = signed_in("alice")
    page.goto(admin_url(bot, "change"))
    page.fill("#id_config", broken)
    page.wait_for_function(
        "document.querySelector('.cv-json-status').textContent.startsWith('Invalid')"
    )
    live = re.search(r"line (\d+), column (\d+)", page.inner_text(".cv-json-status"))
    page.fill("#id_reason", "broken")
    page.click("input[name=_save]")
    server = re.search(r"line (\d+), column (\d+)", page.inner_text(".errorlist"))
    assert live.groups() == server.groups()


def test_folded_lines_unfold(signed_in, bot, users):
    config = json.loads(json.dumps(BASE_CONFIG))
    config["locales"].append("fr-FR")
    bot.get_version_manager(user=users["bob"]).update(config, reason="French", created_by="bob")
    page = signed_in("alice")
    page.goto(admin_url(bot, "diff"))
    folds = page.locator("tr.cv-fold a")
    first = folds.first.inner_text()
    hidden = int(re.search(r"Show (\d+) unchanged lines", first).group(1))
    rows_before = page.locator("table.cv-diff tbody tr").count()
    folds.first.click()
    page.wait_for_load_state()
    rows_after = page.locator("table.cv-diff tbody tr").count()
    assert rows_after == rows_before - 1 + hidden
    assert page.locator("#cv-L1").is_visible()


def test_dark_mode_uses_the_admin_dark_palette(signed_in, bot, users):
    config = json.loads(json.dumps(BASE_CONFIG))
    config["name"] = "HelpBot"
    bot.get_version_manager(user=users["bob"]).update(config, reason="Rename", created_by="bob")
    colours = {}
    for scheme in ("light", "dark"):
        page = signed_in("alice", color_scheme=scheme)
        page.goto(admin_url(bot, "diff"))
        colours[scheme] = page.eval_on_selector(
            "td.cv-code.cv-removed",
            "cell => [getComputedStyle(cell).backgroundColor, getComputedStyle(cell).color]",
        )
    # --message-error-bg and --body-fg of Django's light and dark themes.
    assert colours["light"] == ["rgb(255, 239, 239)", "rgb(51, 51, 51)"]
    assert colours["dark"] == ["rgb(87, 8, 8)", "rgb(238, 238, 238)"]
