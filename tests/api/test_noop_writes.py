"""A write that changes nothing writes nothing: the API asks the manager's rule."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

URL = "/api/configs/support-bot/"


def test_put_of_the_current_config_is_200_and_writes_nothing(writer_api, history_bot):
    before = writer_api.get(URL)
    current = before.json()["config"]
    response = writer_api.put(URL, {"config": current, "reason": "again"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["version_created"] is False
    assert body["current_version"] == 3
    assert body["config"] == current
    assert response["ETag"] == before["ETag"]
    assert history_bot.versions.count() == 3
    # Key order is presentation: the same config in another order is no change either.
    reordered = dict(reversed(list(current.items())))
    again = writer_api.put(URL, {"config": reordered}, format="json", HTTP_IF_MATCH=before["ETag"])
    assert (again.status_code, again.json()["version_created"]) == (200, False)
    assert history_bot.versions.count() == 3


def test_put_of_a_change_says_a_version_was_created(writer_api, history_bot):
    response = writer_api.put(URL, {"config": {"new": True}}, format="json")
    assert (response.status_code, response.json()["version_created"]) == (200, True)
    assert response.json()["current_version"] == 4
    assert response["ETag"] == writer_api.get(URL)["ETag"]


def test_rollback_to_the_current_config_is_200_and_writes_nothing(writer_api, history_bot):
    # Version 3 is a rollback to version 1: both hold the current config.
    etag = writer_api.get(URL)["ETag"]
    for target in (1, 3):
        response = writer_api.post(f"{URL}rollback/", {"to_version": target}, format="json")
        assert response.status_code == 200
        body = response.json()
        assert (body["version"], body["version_created"]) == (3, False)
        assert "Location" not in response
        assert response["ETag"] == etag
    assert history_bot.versions.count() == 3


def test_the_schema_documents_version_created(writer_api):
    schema = writer_api.get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200
    components = schema.json()["components"]["schemas"]
    for name in ("ConfigWriteResult", "RollbackResult"):
        assert "version_created" in components[name]["properties"], name
