"""Labels in the admin: badges on the history, the change form's summary, the changelist's
columns, the label history page, and an admin without labels that looks as before.

The promote confirmation and its POST are in test_labels_promote.py.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from config_versions.models import BotConfig
from tests.admin.helpers import text, url

pytestmark = pytest.mark.django_db

LABELS = {"staging": {}, "production": {"protected": True}}
PASSWORD = "pw-for-tests"


@pytest.fixture(autouse=True)
def _labels(settings):
    settings.CONFIG_VERSIONS = {"LABELS": LABELS}


def client_with(*codenames: str, name: str = "someone") -> Client:
    """A logged-in staff client holding exactly ``codenames`` of config_versions."""
    user = get_user_model().objects.create_user(
        name, f"{name}@example.com", PASSWORD, is_staff=True
    )
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="config_versions", codename__in=codenames)
    )
    client = Client()
    client.force_login(user)
    return client


PROMOTER = ("view_botconfig", "promote_botconfig")
RELEASE_MANAGER = (*PROMOTER, "promote_protected_botconfig")


@pytest.fixture
def released(bot_with_history):
    """Support bot at v4; production at v1 (set, then moved), staging at v3."""
    manager = bot_with_history.version_manager
    manager.update({"name": "SupportBot", "v": 3}, reason="three", created_by="admin")
    manager.update({"name": "SupportBot", "v": 4}, reason="four", created_by="admin")
    manager.set_label("production", 2, reason="first release", created_by="ann")
    manager.set_label("production", 1, reason="v2 misbehaved", created_by="bob")
    manager.set_label("staging", 3, reason="try three", created_by="ann")
    bot_with_history.refresh_from_db()
    return bot_with_history


def row_html(html: str, version: int) -> str:
    match = re.search(
        rf'<tr class="cv-version-row[^"]*" data-version="{version}".*?</tr>', html, re.S
    )
    assert match is not None, version
    return match.group()


def promote_links(html: str) -> list[str]:
    return re.findall(r'<a href="([^"]+)" class="button cv-promote-button', html)


# The history: badges and promote buttons ---------------------------------------------------


def test_each_history_row_shows_the_labels_pointing_at_it(su_client, released):
    response = su_client.get(url("history", released.pk))
    html = response.content.decode()
    rows = {row.version: [badge.name for badge in row.labels] for row in response.context["rows"]}
    assert rows == {4: [], 3: ["staging"], 2: [], 1: ["production"]}
    assert 'data-label="staging"' in row_html(html, 3)
    # Protected labels carry a lock, and each badge leads to the label's history.
    badge = re.search(r'<a href="([^"]+)" class="cv-badge cv-badge-label cv-badge-protected"', html)
    assert badge is not None
    assert badge.group(1) == url("label_history", released.pk, "production")
    assert 'class="cv-lock"' in row_html(html, 1)


def test_the_history_says_where_every_label_points(su_client, released):
    page = text(su_client.get(url("history", released.pk)))
    assert "Labels: staging v3, 1 version behind latest production v1, 3 versions behind" in page
    assert "Label history" in page


def test_promote_buttons_one_per_movable_label_none_where_it_points(su_client, released):
    html = su_client.get(url("history", released.pk)).content.decode()
    assert promote_links(html) == [
        url("promote", released.pk, "staging", 4),
        url("promote", released.pk, "production", 4),
        url("promote", released.pk, "production", 3),  # staging is at 3 already
        url("promote", released.pk, "staging", 2),
        url("promote", released.pk, "production", 2),
        url("promote", released.pk, "staging", 1),  # production is at 1 already
    ]
    row = row_html(html, 2)
    assert "Promote to staging" in row
    assert "Promote to production" in row
    # Nothing on the history page moves a label: the buttons lead to confirmations.
    assert "cv-promote-form" not in html


def test_without_promote_protected_no_button_for_protected_labels(released):
    html = client_with(*PROMOTER).get(url("history", released.pk)).content.decode()
    links = promote_links(html)
    assert links == [url("promote", released.pk, "staging", n) for n in (4, 2, 1)]
    # The badges are shown all the same.
    assert 'data-label="production"' in row_html(html, 1)


def test_with_promote_protected_buttons_for_every_label(released):
    html = client_with(*RELEASE_MANAGER).get(url("history", released.pk)).content.decode()
    assert len(promote_links(html)) == 6
    assert "cv-promote-protected" in row_html(html, 4)


@pytest.mark.parametrize("codenames", [("view_botconfig",), ("change_botconfig",)])
def test_without_promote_no_buttons_but_badges(released, codenames):
    response = client_with(*codenames).get(url("history", released.pk))
    html = response.content.decode()
    assert response.status_code == 200
    assert promote_links(html) == []
    assert "Promote to" not in html
    assert 'data-label="staging"' in row_html(html, 3)


def test_archived_history_has_badges_and_no_promote_buttons(su_client, released):
    released.archive(by="admin")
    html = su_client.get(url("history", released.pk)).content.decode()
    assert promote_links(html) == []
    assert 'data-label="production"' in row_html(html, 1)


def test_history_with_labels_costs_one_query_more(su_client, released, settings):
    with CaptureQueriesContext(connection) as with_labels:
        su_client.get(url("history", released.pk))
    settings.CONFIG_VERSIONS = {}
    with CaptureQueriesContext(connection) as without:
        su_client.get(url("history", released.pk))
    assert len(with_labels) == len(without) + 1


# The change form -------------------------------------------------------------------------


def test_change_form_summarizes_every_declared_label(su_client, released):
    response = su_client.get(url("change", released.pk))
    page = text(response)
    assert "Labels staging v3, 1 version behind latest" in page
    assert "production v1, 3 versions behind latest" in page
    assert "moved" in page
    assert "by bob: v2 misbehaved" in page
    html = response.content.decode()
    assert f'href="{url("labels", released.pk)}"' in html  # the label history, in the tools


def test_change_form_says_latest_and_not_set(su_client, bot_with_history):
    bot_with_history.version_manager.set_label("staging", 2)
    page = text(su_client.get(url("change", bot_with_history.pk)))
    assert "staging v2, latest" in page
    assert "production not set yet" in page


def test_change_form_of_a_viewer_and_of_an_archived_config_show_it_too(su_client, released):
    assert "production v1, 3 versions behind latest" in text(
        client_with("view_botconfig").get(url("change", released.pk))
    )
    released.archive(by="admin")
    assert "production v1, 3 versions behind latest" in text(
        su_client.get(url("change", released.pk))
    )


def test_add_form_has_no_label_summary(su_client):
    html = su_client.get(url("add")).content.decode()
    assert "cv-labels" not in html


# The changelist ---------------------------------------------------------------------------


def test_changelist_has_a_column_per_label(su_client, released):
    response = su_client.get(url("changelist"))
    html = response.content.decode()
    headers = re.findall(r'<th scope="col" class="[^"]*column-(\w+)', html)
    assert headers[:5] == ["name", "slug", "version_link", "cv_label_0", "cv_label_1"]
    assert re.search(r'data-label="staging">v3</a> <span class="cv-behind">1 behind</span>', html)
    assert re.search(
        r'data-label="production">v1</a> <span class="cv-behind">3 behind</span>', html
    )
    assert 'class="cv-lock"' in html  # production's header


def test_changelist_label_column_for_a_label_not_set_and_at_latest(su_client, bot_with_history):
    bot_with_history.version_manager.set_label("staging", 2)
    html = su_client.get(url("changelist")).content.decode()
    assert re.search(r'data-label="staging">v2</a></td>', html)
    assert (
        '<td class="field-cv_label_1"><span class="cv-label-unset" title="not set">—</span>' in html
    )


def test_changelist_sorts_by_a_label(su_client, released):
    other = BotConfig.objects.create(name="Other bot", slug="other-bot")
    other.version_manager.create({"n": 1})
    for n in range(2, 6):
        other.version_manager.update({"n": n})
    other.version_manager.set_label("staging", 5)
    names = []
    for order in ("4", "-4"):  # staging: after the action box, name, slug and version
        html = su_client.get(url("changelist") + f"?o={order}").content.decode()
        names.append(re.findall(r'<th class="field-name"><a href="[^"]+">([^<]+)</a>', html))
    assert names == [["Support bot", "Other bot"], ["Other bot", "Support bot"]]


def test_changelist_costs_the_same_queries_for_one_config_or_many(
    su_client, released, django_assert_max_num_queries
):
    with CaptureQueriesContext(connection) as one:
        su_client.get(url("changelist"))
    for n in range(12):
        bot = BotConfig.objects.create(name=f"Bot {n}", slug=f"bot-{n}")
        bot.version_manager.create({"n": n})
        bot.version_manager.update({"n": n + 1})
        bot.version_manager.set_label("staging", 1)
        bot.version_manager.set_label("production", 2)
    with django_assert_max_num_queries(len(one)):
        response = su_client.get(url("changelist"))
    assert response.content.decode().count('class="cv-label-pointer"') == 2 + 24


# The label history page ---------------------------------------------------------------------


def test_label_history_lists_every_move_newest_first(su_client, released):
    response = su_client.get(url("labels", released.pk))
    assert response.status_code == 200
    rows = [(r.sequence, r.label, r.from_version, r.to_version) for r in response.context["rows"]]
    assert rows == [(3, "staging", None, 3), (2, "production", 2, 1), (1, "production", None, 2)]
    page = text(response)
    assert "Label history: Support bot" in page
    assert "2 production v2 → v1" in page
    assert "bob v2 misbehaved" in page
    assert "1 production not set → v2" in page
    assert "3 moves" in page
    # A move from a version to another links to their comparison.
    html = response.content.decode()
    assert f'href="{url("diff", released.pk)}?from=2&amp;to=1"' in html


def test_label_history_of_one_label(su_client, released):
    response = su_client.get(url("label_history", released.pk, "production"))
    assert [r.sequence for r in response.context["rows"]] == [2, 1]
    page = text(response)
    assert "Label history of production: Support bot" in page
    assert "Show: all labels · staging · production" in page
    assert "2 moves" in page


def test_label_history_paginates(su_client, released, settings):
    settings.CONFIG_VERSIONS = {"LABELS": LABELS, "ADMIN_HISTORY_PAGE_SIZE": 2}
    first = su_client.get(url("labels", released.pk))
    assert [r.sequence for r in first.context["rows"]] == [3, 2]
    assert 'href="?p=2"' in first.content.decode()
    second = su_client.get(url("labels", released.pk) + "?p=2")
    assert [r.sequence for r in second.context["rows"]] == [1]
    # Past the last page: the last page, as the version history does.
    assert [
        r.sequence for r in su_client.get(url("labels", released.pk) + "?p=9").context["rows"]
    ] == [1]


def test_label_history_before_any_move(su_client, bot_with_history):
    page = text(su_client.get(url("labels", bot_with_history.pk)))
    assert "No label has been moved yet." in page
    page = text(su_client.get(url("label_history", bot_with_history.pk, "staging")))
    assert "staging has not been moved yet." in page


@pytest.mark.parametrize("label", ["canary", "latest", "not a label"])
def test_label_history_of_an_undeclared_label_is_404(su_client, released, label):
    assert su_client.get(url("label_history", released.pk, label)).status_code == 404


def test_label_history_needs_permission_to_view(released):
    assert client_with("promote_botconfig").get(url("labels", released.pk)).status_code == 403
    assert (
        client_with("view_botconfig", name="v").get(url("labels", released.pk)).status_code == 200
    )


def test_label_history_of_an_archived_config_is_read_only(su_client, released):
    released.archive(by="admin")
    response = su_client.get(url("labels", released.pk))
    assert response.status_code == 200
    assert "This config is archived" in text(response)
    assert "<form" not in response.content.decode().split('id="content-main"')[1]


def test_missing_config_goes_to_the_index(su_client, db):
    response = su_client.get(url("labels", 999))
    assert response.status_code == 302


def test_a_label_no_longer_declared_is_listed_without_a_link(su_client, released, settings):
    settings.CONFIG_VERSIONS = {"LABELS": {"staging": {}}}
    html = su_client.get(url("labels", released.pk)).content.decode()
    assert '<span class="cv-badge cv-badge-label" data-label="production">' in html


# Without labels: the admin as before ------------------------------------------------------


def test_without_labels_no_label_ui_anywhere(su_client, released, settings):
    settings.CONFIG_VERSIONS = {}
    for page in (url("history", released.pk), url("change", released.pk), url("changelist")):
        html = su_client.get(page).content.decode()
        for trace in ("cv-badge-label", "cv-promote", "cv-label", "Label history", "Promote"):
            assert trace not in html, (page, trace)
    assert su_client.get(url("labels", released.pk)).status_code == 404
    assert su_client.get(url("promote", released.pk, "production", 2)).status_code == 404


def test_without_labels_the_changelist_query_is_unchanged(su_client, released, settings):
    settings.CONFIG_VERSIONS = {}
    with CaptureQueriesContext(connection) as queries:
        su_client.get(url("changelist"))
    assert not any("config_versions_botconfiglabelmove" in q["sql"] for q in queries)
