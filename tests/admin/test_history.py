"""The history view: newest first, paginated by number, constant queries, markers, buttons."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings

from tests.admin.helpers import text, url

pytestmark = pytest.mark.django_db


def grow(bot, count: int) -> None:
    manager = bot.version_manager
    if manager.current_version == 0:
        manager.create({"n": 0}, created_by="seed")
    for n in range(manager.current_version, count):
        manager.update({"n": n, "big": "x" * 1000}, reason=f"edit {n + 1}", created_by="bot")
    bot.refresh_from_db()


def shown_versions(response) -> list[int]:
    return [row.version for row in response.context["rows"]]


def test_newest_first_with_number_time_author_reason_and_marker(su_client, bot_with_history):
    bot_with_history.version_manager.rollback(1, reason="Back to GPT-4", created_by="carol")
    response = su_client.get(url("history", bot_with_history.pk))
    assert response.status_code == 200
    assert shown_versions(response) == [3, 2, 1]
    rows = response.context["rows"]
    assert (rows[0].author, rows[0].reason, rows[0].rollback_to) == ("carol", "Back to GPT-4", 1)
    assert rows[1].author == "admin"
    assert rows[1].reason == "Switch to Claude"
    page = text(response)
    assert "v3 current rolled back to v1" in page
    assert "Roll back to this version" in page


def test_each_row_but_the_current_one_has_a_rollback_button(su_client, bot_with_history):
    html = su_client.get(url("history", bot_with_history.pk)).content.decode()
    # Each leads to the rollback's confirmation page; nothing here posts a rollback.
    targets = re.findall(r'<a href="([^"]+)" class="button cv-rollback-button">', html)
    assert targets == [url("rollback", bot_with_history.pk, 1)]
    assert "cv-rollback-form" not in html
    assert not re.search(r'formaction="[^"]*/rollback/', html)


def test_users_without_rollback_permission_get_no_buttons(client_as, bot_with_history):
    html = client_as("editor").get(url("history", bot_with_history.pk)).content.decode()
    assert "Roll back to this version" not in html
    assert "cv-rollback-form" not in html


def test_compare_form_picks_previous_and_current_by_default(su_client, bot_with_history):
    html = su_client.get(url("history", bot_with_history.pk)).content.decode()
    assert re.search(r'name="from" value="1"[^>]*checked', html)
    assert re.search(r'name="to" value="2"[^>]*checked', html)
    assert f'action="{url("diff", bot_with_history.pk)}"' in html


@override_settings(CONFIG_VERSIONS={"ADMIN_HISTORY_PAGE_SIZE": 10})
def test_pages(su_client, bot):
    grow(bot, 25)
    history = url("history", bot.pk)
    assert shown_versions(su_client.get(history)) == list(range(25, 15, -1))
    assert shown_versions(su_client.get(history + "?p=3")) == [5, 4, 3, 2, 1]
    # Nonsense page numbers fall back to a real page instead of failing.
    assert shown_versions(su_client.get(history + "?p=abc")) == list(range(25, 15, -1))
    assert shown_versions(su_client.get(history + "?p=99")) == [5, 4, 3, 2, 1]
    assert "25 versions" in text(su_client.get(history))


def test_default_page_size_is_fifty(su_client, bot):
    grow(bot, 60)
    assert len(shown_versions(su_client.get(url("history", bot.pk)))) == 50


@pytest.mark.parametrize("length", [10, 210])
def test_query_count_does_not_grow_with_the_history(
    client_as, bot, length, django_assert_max_num_queries
):
    grow(bot, length)
    client = client_as("viewer")  # permission checks cost queries a superuser skips
    client.get(url("history", bot.pk))  # warm caches shared by every admin page
    # Session, user, permissions, the config, its page of versions, the admin log.
    with django_assert_max_num_queries(7):
        response = client.get(url("history", bot.pk) + ("?p=2" if length > 50 else ""))
    assert response.status_code == 200


def test_history_never_loads_configs(su_client, bot, django_assert_max_num_queries):
    grow(bot, 3)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        su_client.get(url("history", bot.pk))
    version_queries = [q["sql"] for q in queries if "botconfigversion" in q["sql"]]
    assert version_queries
    assert all('."config"' not in sql and "`config`" not in sql for sql in version_queries)


def test_values_are_escaped(su_client, bot):
    bot.version_manager.create({}, reason="<script>alert(1)</script>", created_by="<b>eve</b>")
    html = su_client.get(url("history", bot.pk)).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "<b>eve</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_config_without_versions(su_client, bot):
    response = su_client.get(url("history", bot.pk))
    assert response.status_code == 200
    assert "This config has no versions yet." in text(response)


def test_missing_config_redirects_with_a_message(su_client):
    response = su_client.get(url("history", 999), follow=True)
    assert "doesn\u2019t exist" in text(response)


def test_edits_of_the_configs_own_fields_show_as_other_changes(su_client, bot_with_history):
    import json

    from tests.admin.helpers import change_data

    bot = bot_with_history
    config = json.dumps(bot.version_manager.current_config)
    # A config-only save is a version; a schema and name edit is an "other change".
    su_client.post(
        url("change", bot.pk), change_data(bot, config.replace("sonnet", "opus"), "tweak")
    )
    bot.refresh_from_db()
    su_client.post(
        url("change", bot.pk),
        change_data(
            bot,
            config.replace("sonnet", "opus"),
            "Clearer name; configs must be objects",
            name="Help desk bot",
            schema='{"type": "object"}',
        ),
    )
    response = su_client.get(url("history", bot.pk))
    rows = response.context["other_changes"].rows
    # Newest save first; the fields of one save in the form's order.
    assert [(r.field, r.before, r.after) for r in rows] == [
        ("name", "Support bot", "Help desk bot"),
        ("JSON Schema", "(none)", '{"type": "object"}'),
    ]
    assert {r.author for r in rows} == {"superuser"}
    assert {r.reason for r in rows} == {"Clearer name; configs must be objects"}
    page = text(response)
    assert "Other changes" in page
    assert "Support bot Help desk bot Clearer name; configs must be objects" in page
    # The config-only save is a version, and stays out of "Other changes".
    assert shown_versions(response) == [3, 2, 1]


def test_no_other_changes_no_section(su_client, bot_with_history):
    response = su_client.get(url("history", bot_with_history.pk))
    assert not response.context["other_changes"]
    assert "Other changes" not in text(response)
