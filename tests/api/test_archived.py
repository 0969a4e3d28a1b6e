"""An archived config has left the API: 410 under its URL, out of lists, its slug taken."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.utils import timezone

from config_versions.models import BotConfig, BotConfigVersion

pytestmark = pytest.mark.django_db

URL = "/api/configs/support-bot/"

# Every operation under configs/{slug}/, each with a request that would succeed on the
# config before it was archived.
OPERATIONS = [
    ("get", "", None),
    ("put", "", {"config": {"name": "SupportBot", "n": 4}}),
    ("get", "versions/", None),
    ("get", "versions/1/", None),
    ("get", "diff/", None),
    ("post", "rollback/", {"to_version": 2}),
]


@pytest.fixture
def archived_bot(history_bot: BotConfig) -> BotConfig:
    history_bot.archive(by="admin", reason="Retired")
    return history_bot


def _assert_gone(response, slug="support-bot"):
    assert response.status_code == 410, response.content
    assert response["Content-Type"] == "application/json"
    detail = response.json()["detail"]
    assert repr(slug) in detail
    assert "archived" in detail


@pytest.mark.parametrize(("method", "path", "body"), OPERATIONS)
def test_every_endpoint_of_an_archived_config_answers_410(
    admin_api, archived_bot, method, path, body
):
    response = getattr(admin_api, method)(f"{URL}{path}", body, format="json")

    _assert_gone(response)
    assert archived_bot.versions.count() == 3  # nothing written


@pytest.mark.parametrize(("method", "path", "body"), OPERATIONS)
def test_the_same_requests_succeed_once_restored(admin_api, archived_bot, method, path, body):
    archived_bot.restore()

    response = getattr(admin_api, method)(f"{URL}{path}", body, format="json")

    assert response.status_code in (200, 201), response.content


def test_a_poll_with_a_current_etag_is_410_not_304(admin_api, history_bot):
    etag = admin_api.get(URL)["ETag"]
    history_bot.archive()

    _assert_gone(admin_api.get(URL, HTTP_IF_NONE_MATCH=etag))
    _assert_gone(admin_api.get(f"{URL}versions/1/", HTTP_IF_NONE_MATCH='"v1-x"'))


def test_a_precondition_does_not_hide_the_410(admin_api, history_bot):
    etag = admin_api.get(URL)["ETag"]
    history_bot.archive()

    response = admin_api.put(URL, {"config": {"a": 1}}, format="json", HTTP_IF_MATCH=etag)
    _assert_gone(response)
    _assert_gone(admin_api.put(URL, {"config": {"a": 1}, "expected_version": 1}, format="json"))


def test_unknown_slugs_stay_404(admin_api, archived_bot):
    assert admin_api.get("/api/configs/no-such-bot/").status_code == 404


def test_without_permission_it_stays_403(client_for, archived_bot):
    reader = client_for("view_botconfig")
    assert reader.put(URL, {"config": {"a": 1}}, format="json").status_code == 403


def test_archived_configs_are_left_out_of_the_list(admin_api, archived_bot):
    for n in range(3):
        BotConfig.objects.create(name=f"Bot {n}", slug=f"bot-{n}")
    BotConfig.objects.get(slug="bot-1").archive()

    body = admin_api.get("/api/configs/").json()

    assert body["count"] == 2
    assert [row["slug"] for row in body["results"]] == ["bot-0", "bot-2"]


def test_creating_with_an_archived_configs_slug_is_409(writer_api, archived_bot):
    sent = {"name": "New bot", "slug": "support-bot", "config": {"a": 1}}

    response = writer_api.post("/api/configs/", sent, format="json")

    assert response.status_code == 409, response.content
    detail = response.json()["detail"]
    assert "'support-bot'" in detail
    assert "archived" in detail
    assert BotConfig.objects.filter(slug="support-bot").count() == 1
    assert archived_bot.versions.count() == 3


def test_an_active_configs_slug_is_still_400(writer_api, history_bot):
    sent = {"name": "New bot", "slug": "support-bot", "config": {"a": 1}}

    response = writer_api.post("/api/configs/", sent, format="json")

    assert response.status_code == 400
    assert response.json() == {"slug": ["bot config with this slug already exists."]}


def test_a_config_archived_during_a_write_answers_410(admin_api, history_bot):
    """The store refuses a write to a config archived after the view loaded it."""
    table = BotConfigVersion._meta.db_table

    def archive_first(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("INSERT") and table in sql and not archived:
            archived.append(True)
            BotConfig.objects.filter(pk=history_bot.pk).update(archived_at=timezone.now())
        return execute(sql, params, many, context)

    for method, path, body in [
        ("put", "", {"config": {"name": "Raced"}}),
        ("post", "rollback/", {"to_version": 2}),
    ]:
        archived: list[bool] = []
        BotConfig.objects.filter(pk=history_bot.pk).update(archived_at=None)
        with connection.execute_wrapper(archive_first):
            response = getattr(admin_api, method)(f"{URL}{path}", body, format="json")
        assert archived, "the write reached no INSERT"
        _assert_gone(response)
        assert history_bot.versions.count() == 3


def test_the_schema_documents_410_and_409(admin_api):
    response = admin_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    paths = json.loads(response.content)["paths"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            if "{slug}" in path:
                assert "410" in operation["responses"], (method, path)
            else:
                assert "410" not in operation["responses"], (method, path)
    create = paths["/api/configs/"]["post"]["responses"]
    assert "archived" in create["409"]["description"]
