"""configs/ and configs/{slug}/: list, create, read, write, and conditional requests."""

from __future__ import annotations

import pytest
from django.test import override_settings

from config_versions.models import BotConfig, BotConfigVersion
from config_versions.purge import purge_history

pytestmark = pytest.mark.django_db

URL = "/api/configs/support-bot/"
GPT4O = {"name": "SupportBot", "llm": {"provider": "openai", "model": "gpt-4o"}}


# Listing and creating ------------------------------------------------------------------


def test_list_is_paginated_by_setting(admin_api):
    for n in range(5):
        BotConfig.objects.create(name=f"Bot {n}", slug=f"bot-{n}")
    with override_settings(CONFIG_VERSIONS={"API_PAGE_SIZE": 2}):
        first = admin_api.get("/api/configs/").json()
        last = admin_api.get("/api/configs/?page=3").json()
    assert first["count"] == 5
    assert [c["slug"] for c in first["results"]] == ["bot-0", "bot-1"]
    assert first["next"].endswith("/api/configs/?page=2")
    assert [c["slug"] for c in last["results"]] == ["bot-4"]
    assert last["next"] is None
    assert admin_api.get("/api/configs/?page=4").status_code == 404


def test_list_shows_versions_and_last_author(admin_api, history_bot):
    [row] = admin_api.get("/api/configs/").json()["results"]
    assert row["slug"] == "support-bot"
    assert row["current_version"] == 3
    assert row["last_changed_by"] == "admin"
    assert set(row) == {
        "slug",
        "name",
        "description",
        "current_version",
        "updated_at",
        "last_changed_by",
    }


def test_create_writes_config_and_first_version(writer_api):
    response = writer_api.post(
        "/api/configs/",
        {
            "name": "Sales bot",
            "slug": "sales",
            "description": "Answers pricing questions",
            "config": {"llm": {"model": "gpt-4o"}},
            "reason": "New bot",
            "created_by": "mallory",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["current_version"] == 1
    assert body["config"] == {"llm": {"model": "gpt-4o"}}
    assert body["description"] == "Answers pricing questions"
    assert response["Location"] == "http://testserver/api/configs/sales/"
    assert response["ETag"].startswith('"v1-')
    version = BotConfigVersion.objects.get(bot_config__slug="sales")
    assert (version.reason, version.created_by) == ("New bot", "deploybot")
    assert version.created_by_user.username == "deploybot"
    # The tag given on creation is the one a later read gives.
    assert writer_api.get(response["Location"])["ETag"] == response["ETag"]


def test_create_without_reason_uses_the_default(writer_api):
    response = writer_api.post(
        "/api/configs/", {"name": "B", "slug": "b", "config": {}}, format="json"
    )
    assert response.status_code == 201
    assert BotConfigVersion.objects.get().reason == "Initial configuration"


def test_create_with_invalid_config_leaves_nothing(writer_api):
    response = writer_api.post(
        "/api/configs/", {"name": "B", "slug": "b", "config": {"k": "a\u0000b"}}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["config"] == ["/k: contains a NUL character (\\u0000)"]
    assert not BotConfig.objects.exists()


def test_create_refuses_a_duplicate_slug(writer_api, bot):
    response = writer_api.post(
        "/api/configs/", {"name": "Again", "slug": "support-bot", "config": {}}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"slug": ["bot config with this slug already exists."]}
    assert BotConfig.objects.count() == 1


# Reading -------------------------------------------------------------------------------


def test_read_current_config(admin_api, history_bot):
    response = admin_api.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "slug",
        "name",
        "description",
        "current_version",
        "config",
        "updated_at",
        "label",
        "version",
    }
    assert body["current_version"] == 3
    assert (body["label"], body["version"]) == ("latest", 3)
    assert body["config"] == {"name": "SupportBot", "llm": {"provider": "openai", "model": "gpt-4"}}
    assert response["ETag"].startswith('"v3-')


def test_read_config_without_versions(admin_api, bot):
    response = admin_api.get(URL)
    assert response.status_code == 200
    assert response.json()["current_version"] == 0
    assert response.json()["config"] is None
    assert response["ETag"].startswith('"v0-')


def test_unknown_slug_is_404(admin_api):
    for slug in ("nope", "bad%20slug", "%00"):
        response = admin_api.get(f"/api/configs/{slug}/")
        assert response.status_code == 404
        assert "No bot config" in response.json()["detail"]


def test_if_none_match_gives_304_without_body(admin_api, history_bot):
    etag = admin_api.get(URL)["ETag"]
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = admin_api.get(URL, HTTP_IF_NONE_MATCH=header)
        assert response.status_code == 304
        assert response.content == b""
        assert response["ETag"] == etag
    assert admin_api.get(URL, HTTP_IF_NONE_MATCH='"v3-stale"').status_code == 200


def test_head_answers_like_get_without_body(admin_api, history_bot):
    response = admin_api.head(URL)
    assert response.status_code == 200
    assert response.content == b""
    assert response["ETag"] == admin_api.get(URL)["ETag"]
    assert admin_api.head(URL, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_etag_changes_with_each_version_and_each_edit(admin_api, history_bot):
    first = admin_api.get(URL)["ETag"]
    history_bot.version_manager.update({"a": 1})
    second = admin_api.get(URL)["ETag"]
    assert second.startswith('"v4-')
    assert second != first
    # The representation also carries the description: editing it moves the tag.
    BotConfig.objects.filter(pk=history_bot.pk).update(description="Now documented")
    third = admin_api.get(URL)
    assert third["ETag"] != second
    assert admin_api.get(URL, HTTP_IF_NONE_MATCH=second).status_code == 200


def test_etags_differ_across_configs_and_recreation(admin_api, bot):
    other = BotConfig.objects.create(name="Other", slug="other")
    bot.version_manager.create({"a": 1})
    other.version_manager.create({"a": 1})
    tag = admin_api.get(URL)["ETag"]
    assert admin_api.get("/api/configs/other/")["ETag"] != tag
    purge_history(bot, reason="re-created under the same slug")
    again = BotConfig.objects.create(name="Support bot", slug="support-bot")
    again.version_manager.create({"a": 1})
    assert admin_api.get(URL)["ETag"] != tag
    assert admin_api.get(URL, HTTP_IF_NONE_MATCH=tag).status_code == 200


def test_browsable_api_renders_html(admin_api, history_bot):
    response = admin_api.get(URL, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"SupportBot" in response.content
    assert "ETag" not in response
    # The PUT form starts from the config shown, pinned to its version.
    assert b"&quot;expected_version&quot;: 3" in response.content


# Writing -------------------------------------------------------------------------------


def test_put_writes_a_new_version_as_the_user(writer_api, history_bot):
    response = writer_api.put(
        URL, {"config": GPT4O, "reason": "Upgrade", "created_by": "mallory"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["current_version"] == 4
    assert body["config"] == GPT4O
    assert response["ETag"] == writer_api.get(URL)["ETag"]
    version = history_bot.versions.get(version=4)
    assert (version.reason, version.created_by, version.previous_version) == (
        "Upgrade",
        "deploybot",
        3,
    )
    assert version.created_by_user.username == "deploybot"


def test_put_without_reason_uses_the_default(writer_api, history_bot):
    assert writer_api.put(URL, {"config": {}, "reason": ""}, format="json").status_code == 200
    assert history_bot.versions.get(version=4).reason == "Configuration update"


def test_put_on_a_config_without_versions_writes_version_1(writer_api, bot):
    response = writer_api.put(URL, {"config": GPT4O, "expected_version": 0}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["current_version"] == 1
    assert bot.versions.get().reason == "Initial configuration"


def test_expected_version_mismatch_is_409(writer_api, history_bot):
    response = writer_api.put(URL, {"config": GPT4O, "expected_version": 2}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert (body["expected_version"], body["actual_version"]) == (2, 3)
    assert "expected version 2" in body["detail"]
    assert history_bot.versions.count() == 3
    ok = writer_api.put(URL, {"config": GPT4O, "expected_version": 3}, format="json")
    assert ok.status_code == 200


def test_expected_version_0_on_a_config_with_versions_is_409(writer_api, history_bot):
    response = writer_api.put(URL, {"config": GPT4O, "expected_version": 0}, format="json")
    assert response.status_code == 409
    assert response.json()["actual_version"] == 3


def test_if_match_is_compare_and_set(writer_api, history_bot):
    etag = writer_api.get(URL)["ETag"]
    first = writer_api.put(URL, {"config": GPT4O}, format="json", HTTP_IF_MATCH=etag)
    assert first.status_code == 200
    # The same tag again: the config moved on, so a second writer with it is refused.
    stale = writer_api.put(URL, {"config": {"lost": True}}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert "version 4" in stale.json()["detail"]
    assert history_bot.versions.count() == 4
    # A weak tag never matches If-Match (strong comparison).
    weak = writer_api.put(URL, {"config": {}}, format="json", HTTP_IF_MATCH=f"W/{first['ETag']}")
    assert weak.status_code == 412


def test_if_match_star_and_malformed(writer_api, history_bot):
    assert writer_api.put(URL, {"config": {}}, format="json", HTTP_IF_MATCH="*").status_code == 200
    etag = writer_api.get(URL)["ETag"]
    for header in ("v4", "", f"{etag}, v4", f"*, {etag}"):
        response = writer_api.put(URL, {"config": {}}, format="json", HTTP_IF_MATCH=header)
        assert response.status_code == 400, header
        assert "entity tag" in response.json()["detail"]
    assert history_bot.versions.count() == 4


def test_if_match_and_expected_version_must_agree(writer_api, history_bot):
    etag = writer_api.get(URL)["ETag"]
    response = writer_api.put(
        URL, {"config": {}, "expected_version": 2}, format="json", HTTP_IF_MATCH=etag
    )
    assert response.status_code == 409
    assert history_bot.versions.count() == 3


@override_settings(CONFIG_VERSIONS={"REQUIRE_PRECONDITION": True})
def test_required_precondition_is_428_without_one(writer_api, history_bot):
    response = writer_api.put(URL, {"config": {}}, format="json")
    assert response.status_code == 428
    assert "If-Match" in response.json()["detail"]
    star = writer_api.put(URL, {"config": {}}, format="json", HTTP_IF_MATCH="*")
    assert star.status_code == 428
    etag = writer_api.get(URL)["ETag"]
    assert writer_api.put(URL, {"config": {}}, format="json", HTTP_IF_MATCH=etag).status_code == 200
    with_body = writer_api.put(URL, {"config": {"n": 1}, "expected_version": 4}, format="json")
    assert with_body.status_code == 200
    assert history_bot.versions.count() == 5


def test_schema_failure_names_paths(writer_api, history_bot):
    history_bot.schema = {
        "type": "object",
        "properties": {"llm": {"properties": {"temperature": {"maximum": 2}}}},
    }
    history_bot.save()
    response = writer_api.put(URL, {"config": {"llm": {"temperature": 3}}}, format="json")
    assert response.status_code == 400
    [message] = response.json()["config"]
    assert message.startswith("/llm/temperature: 3 is greater than the maximum of 2")
    assert history_bot.versions.count() == 3


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_replace_only(admin_api, history_bot, method):
    for url in (URL, f"{URL}versions/1/", f"{URL}versions/"):
        response = getattr(admin_api, method)(url, {"config": {}}, format="json")
        assert response.status_code == 405, url
    assert history_bot.versions.count() == 3
    assert BotConfig.objects.filter(pk=history_bot.pk).exists()


def test_options_describes_the_endpoint(admin_api, history_bot):
    # DRF's OPTIONS answer checks whether a PUT would be allowed on the config.
    response = admin_api.options(URL)
    assert response.status_code == 200
    assert set(response.json()["actions"]["PUT"]) == {"config", "reason", "expected_version"}
    assert admin_api.options("/api/configs/nope/").status_code == 200


def test_the_fast_body_is_what_the_documented_serializer_gives(history_bot):
    from config_versions.api.base import detail_body
    from config_versions.api.serializers import BotConfigDetailSerializer

    bot = BotConfig.objects.get(pk=history_bot.pk)
    config = bot.version_manager.current_config
    documented = {
        "slug": bot.slug,
        "name": bot.name,
        "description": bot.description,
        "current_version": bot.current_version,
        "config": config,
        "updated_at": bot.updated_at,
        "label": "latest",
        "version": bot.current_version,
    }
    assert detail_body(bot, bot.current_version, config) == dict(
        BotConfigDetailSerializer(documented).data
    )
