"""The version admin shows history and never changes it, even for a superuser."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.admin.helpers import text, version_numbers

pytestmark = pytest.mark.django_db


def version_url(name, *args):
    return reverse(f"admin:config_versions_botconfigversion_{name}", args=args)


def test_list_shows_versions_without_loading_configs(su_client, bot_with_history):
    with CaptureQueriesContext(connection) as queries:
        response = su_client.get(version_url("changelist"))
    assert response.status_code == 200
    assert "Switch to Claude" in text(response)
    selects = [q["sql"] for q in queries if "botconfigversion" in q["sql"] and "SELECT" in q["sql"]]
    assert selects
    assert all('"config"' not in sql and "`config`" not in sql for sql in selects)


def test_detail_is_read_only_and_escaped(su_client, bot):
    bot.version_manager.create({"html": "<script>alert(1)</script>"}, reason="<i>why</i>")
    version = bot.versions.get()
    response = su_client.get(version_url("change", version.pk))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in html
    assert "<i>why</i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'name="_save"' not in html
    assert version.content_hash in html


def test_detail_links_history_and_changes(su_client, bot_with_history):
    second = bot_with_history.versions.get(version=2)
    html = su_client.get(version_url("change", second.pk)).content.decode()
    history = reverse("admin:config_versions_botconfig_history", args=[bot_with_history.pk])
    diff = reverse("admin:config_versions_botconfig_diff", args=[bot_with_history.pk])
    assert f'href="{history}"' in html
    assert f'href="{diff}?from=1&amp;to=2"' in html


@pytest.mark.parametrize("method", ["add", "change", "delete"])
def test_no_writes_even_for_superusers(su_client, bot_with_history, method):
    first = bot_with_history.versions.get(version=1)
    if method == "add":
        response = su_client.post(version_url("add"), {"version": 3})
    elif method == "change":
        response = su_client.post(version_url("change", first.pk), {"reason": "rewritten"})
    else:
        response = su_client.post(version_url("delete", first.pk), {"post": "yes"})
    assert response.status_code == 403
    assert version_numbers(bot_with_history) == [1, 2]
    first.refresh_from_db()
    assert first.reason == "Initial configuration"


def test_deleting_a_config_archives_it_and_keeps_its_history(su_client, bot_with_history):
    from config_versions.models import BotConfig

    delete_url = reverse("admin:config_versions_botconfig_delete", args=[bot_with_history.pk])
    page = su_client.get(delete_url)
    assert "2 versions, is kept" in text(page)
    response = su_client.post(delete_url, {"post": "yes"})
    assert response.status_code == 302
    assert BotConfig.objects.archived().get() == bot_with_history
    assert version_numbers(bot_with_history) == [1, 2]
