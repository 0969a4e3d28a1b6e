"""A version's admin page leads somewhere; the versions list filters by bot."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from config_versions.models import BotConfig
from tests.admin.helpers import text, url

pytestmark = pytest.mark.django_db


def version_url(name, *args):
    return reverse(f"admin:config_versions_botconfigversion_{name}", args=args)


def test_the_history_button_of_a_version_opens_its_config_history(su_client, bot_with_history):
    first = bot_with_history.versions.get(version=1)
    html = su_client.get(version_url("change", first.pk)).content.decode()
    history = re.search(r'<a href="([^"]+)" class="historylink"', html)
    assert history, "the version page has a History button"

    response = su_client.get(history.group(1), follow=True)

    # Not Django's empty log of a version nobody edits: the versions of its config,
    # with this one picked for comparison.
    assert response.status_code == 200
    assert response.redirect_chain[-1][0].startswith(url("history", bot_with_history.pk))
    assert "This object doesn’t have a change history" not in text(response)  # noqa: RUF001
    assert [row.version for row in response.context["rows"]] == [2, 1]
    assert response.context["default_to"] == 1


def test_the_history_button_finds_the_page_of_an_old_version(su_client, bot, settings):
    settings.CONFIG_VERSIONS = {"ADMIN_HISTORY_PAGE_SIZE": 3}
    manager = bot.version_manager
    manager.create({"n": 1})
    for n in range(2, 9):
        manager.update({"n": n})
    second = bot.versions.get(version=2)
    response = su_client.get(version_url("history", second.pk))
    assert response.status_code == 302
    assert response["Location"] == url("history", bot.pk) + "?from=1&to=2&p=3#cv-v2"
    page = su_client.get(response["Location"])
    assert [row.version for row in page.context["rows"]] == [2, 1]
    assert 'id="cv-v2"' in page.content.decode()


def test_the_history_of_a_missing_version_is_djangos_answer(su_client, db):
    response = su_client.get(version_url("history", 999))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")


def test_the_history_button_needs_view_permission(client_as, bot_with_history):
    first = bot_with_history.versions.get(version=1)
    assert client_as("staff").get(version_url("history", first.pk)).status_code == 403


def test_the_versions_list_filters_by_bot(su_client, bot_with_history):
    other = BotConfig.objects.create(name="Sales bot", slug="sales-bot")
    other.version_manager.create({"name": "SalesBot"}, reason="Sales launch")

    everything = su_client.get(version_url("changelist"))
    assert "Sales launch" in text(everything)
    assert "Switch to Claude" in text(everything)
    # The sidebar offers each bot.
    assert "By bot config" in text(everything)
    assert f"?bot_config__id__exact={other.pk}" in everything.content.decode()

    only_sales = su_client.get(version_url("changelist") + f"?bot_config__id__exact={other.pk}")
    assert only_sales.status_code == 200
    page = text(only_sales)
    assert "Sales launch" in page
    assert "Switch to Claude" not in page
    assert only_sales.context["cl"].result_count == 1
