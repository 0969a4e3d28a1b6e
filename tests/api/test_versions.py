"""History, single versions, diff and rollback."""

from __future__ import annotations

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db

URL = "/api/configs/support-bot/"


def _numbers(response):
    return [v["version"] for v in response.json()["results"]]


# History -------------------------------------------------------------------------------


def test_history_newest_first_with_all_fields(admin_api, history_bot):
    response = admin_api.get(f"{URL}versions/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert _numbers(response) == [3, 2, 1]
    newest = body["results"][0]
    assert set(newest) == {
        "version",
        "config",
        "timestamp",
        "reason",
        "previous_version",
        "created_by",
        "metadata",
        "labels",
    }
    assert newest["labels"] == []
    assert newest["metadata"] == {"rollback_from": 2, "rollback_to": 1}
    assert newest["previous_version"] == 2
    assert newest["reason"] == "Back to OpenAI"
    # The exact float recorded (and hashed) survives the trip through JSON.
    assert newest["timestamp"] == history_bot.versions.get(version=3).timestamp


def test_history_limit_and_since_version(admin_api, history_bot):
    assert _numbers(admin_api.get(f"{URL}versions/?limit=2")) == [3, 2]
    assert _numbers(admin_api.get(f"{URL}versions/?since_version=1")) == [3, 2]
    assert _numbers(admin_api.get(f"{URL}versions/?since_version=1&limit=1")) == [3]
    assert _numbers(admin_api.get(f"{URL}versions/?since_version=3")) == []
    assert admin_api.get(f"{URL}versions/?limit=2").json()["count"] == 2


def test_history_pages_keep_the_query(admin_api, history_bot):
    for n in range(4):
        history_bot.version_manager.update({"n": n})
    with override_settings(CONFIG_VERSIONS={"API_PAGE_SIZE": 2}):
        first = admin_api.get(f"{URL}versions/?since_version=1&limit=5")
        assert _numbers(first) == [7, 6]
        assert first.json()["count"] == 5
        second = admin_api.get(first.json()["next"])
        assert _numbers(second) == [5, 4]
        third = admin_api.get(second.json()["next"])
        assert _numbers(third) == [3]
        assert third.json()["next"] is None


# One version ---------------------------------------------------------------------------


def test_one_version(admin_api, history_bot):
    response = admin_api.get(f"{URL}versions/2/")
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == 2
    assert body["config"]["llm"]["model"] == "claude-3-sonnet"
    assert body["created_by"] == "admin"
    assert response["ETag"].startswith('"v2-')
    again = admin_api.get(f"{URL}versions/2/", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    assert again.content == b""
    # A version's tag is its own: not the tag of another version or of the config.
    assert admin_api.get(f"{URL}versions/1/")["ETag"] != response["ETag"]
    assert admin_api.get(URL)["ETag"] not in (response["ETag"],)


def test_unknown_version_is_404(admin_api, history_bot):
    response = admin_api.get(f"{URL}versions/4/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Version 4 not found."}


# Diff ----------------------------------------------------------------------------------


def test_diff(admin_api, history_bot):
    response = admin_api.get(f"{URL}diff/?from_version=1&to_version=2")
    assert response.status_code == 200
    body = response.json()
    assert (body["from_version"], body["to_version"]) == (1, 2)
    assert body["added"] == {}
    assert body["removed"] == {}
    assert body["changed"]["llm"]["to"]["model"] == "claude-3-sonnet"
    assert {"op": "replace", "path": "/llm/model", "from": "gpt-4", "to": "claude-3-sonnet"} in (
        body["changes"]
    )


def test_diff_defaults_to_the_latest_change(admin_api, history_bot):
    body = admin_api.get(f"{URL}diff/").json()
    assert (body["from_version"], body["to_version"]) == (2, 3)
    body = admin_api.get(f"{URL}diff/?to_version=2").json()
    assert (body["from_version"], body["to_version"]) == (1, 2)


def test_diff_of_unknown_versions_is_404(admin_api, history_bot, bot):
    response = admin_api.get(f"{URL}diff/?from_version=1&to_version=9")
    assert response.status_code == 404
    assert response.json() == {"detail": "Version 9 not found."}


def test_diff_without_versions_is_404(admin_api, bot):
    response = admin_api.get(f"{URL}diff/")
    assert response.status_code == 404
    assert response.json() == {"detail": "The config has no versions yet."}


# Rollback ------------------------------------------------------------------------------


def test_rollback_creates_a_version(writer_api, history_bot):
    response = writer_api.post(
        f"{URL}rollback/",
        {"to_version": 2, "reason": "Claude again", "created_by": "mallory"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["version"] == 4
    assert body["metadata"] == {"rollback_from": 3, "rollback_to": 2}
    assert body["created_by"] == "deploybot"
    assert body["config"]["llm"]["model"] == "claude-3-sonnet"
    assert response["Location"] == f"http://testserver{URL}versions/4/"
    assert body.pop("version_created") is True
    assert writer_api.get(response["Location"]).json() == body
    # The config's tag, usable as If-Match for the next write.
    assert response["ETag"] == writer_api.get(URL)["ETag"]
    follow_up = writer_api.put(
        URL, {"config": {"n": 1}}, format="json", HTTP_IF_MATCH=response["ETag"]
    )
    assert follow_up.status_code == 200, follow_up.content
    version = history_bot.versions.get(version=4)
    assert (version.reason, version.created_by_user.username) == ("Claude again", "deploybot")


def test_rollback_default_reason(writer_api, history_bot):
    response = writer_api.post(f"{URL}rollback/", {"to_version": 2}, format="json")
    assert response.json()["reason"] == "Rollback to version 2"


def test_rollback_to_unknown_version_is_404(writer_api, history_bot):
    response = writer_api.post(f"{URL}rollback/", {"to_version": 7}, format="json")
    assert response.status_code == 404
    assert response.json() == {"detail": "Version 7 not found."}
    assert history_bot.versions.count() == 3


def test_rollback_preconditions(writer_api, history_bot):
    conflict = writer_api.post(
        f"{URL}rollback/", {"to_version": 1, "expected_version": 2}, format="json"
    )
    assert conflict.status_code == 409
    assert (conflict.json()["expected_version"], conflict.json()["actual_version"]) == (2, 3)
    stale = writer_api.post(
        f"{URL}rollback/", {"to_version": 1}, format="json", HTTP_IF_MATCH='"v2-nope"'
    )
    assert stale.status_code == 412
    etag = writer_api.get(URL)["ETag"]
    ok = writer_api.post(f"{URL}rollback/", {"to_version": 2}, format="json", HTTP_IF_MATCH=etag)
    assert ok.status_code == 201
    with override_settings(CONFIG_VERSIONS={"REQUIRE_PRECONDITION": True}):
        required = writer_api.post(f"{URL}rollback/", {"to_version": 1}, format="json")
    assert required.status_code == 428
    assert history_bot.versions.count() == 4


def test_rollback_refused_by_todays_schema(writer_api, history_bot):
    history_bot.schema = {"type": "object", "properties": {"name": {"type": "integer"}}}
    history_bot.save()
    response = writer_api.post(f"{URL}rollback/", {"to_version": 2}, format="json")
    assert response.status_code == 400
    [message] = response.json()["to_version"]
    assert message.startswith("Version 2 fails today's validation: /name: 'SupportBot'")
    # Version 1's config is the current one: nothing to write, so nothing to refuse.
    same = writer_api.post(f"{URL}rollback/", {"to_version": 1}, format="json")
    assert (same.status_code, same.json()["version_created"]) == (200, False)
    assert history_bot.versions.count() == 3
