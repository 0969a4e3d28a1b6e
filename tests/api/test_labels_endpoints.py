"""Reading labels: ``labels/``, ``labels/{label}/``, ``labels/{label}/history/`` and the
labels of each version in ``versions/``."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from tests.api.labels_setup import SITE, URL

pytestmark = pytest.mark.django_db

LABEL_URLS = ["labels/{}/", "labels/{}/history/"]


@pytest.fixture(autouse=True)
def _site_labels(settings):
    settings.CONFIG_VERSIONS = SITE


# The list ---------------------------------------------------------------------------


def test_the_list_has_every_declared_label_in_order(admin_api, released):
    response = admin_api.get(f"{URL}labels/")
    assert response.status_code == 200
    assert response.json() == [
        {
            "label": "staging",
            "version": 3,
            "updated_at": "2023-11-14T22:21:40Z",
            "updated_by": "priya",
            "reason": "",
            "protected": False,
            "behind": 0,
        },
        {
            "label": "production",
            "version": 1,
            "updated_at": "2023-11-14T22:20:00Z",
            "updated_by": "lead",
            "reason": "First release",
            "protected": True,
            "behind": 2,
        },
    ]


def test_labels_not_set_are_listed_with_nulls(admin_api, history_bot):
    body = admin_api.get(f"{URL}labels/").json()
    assert [entry["label"] for entry in body] == ["staging", "production"]
    for entry in body:
        assert entry == {
            "label": entry["label"],
            "version": None,
            "updated_at": None,
            "updated_by": None,
            "reason": None,
            "protected": entry["label"] == "production",
            "behind": None,
        }


@override_settings(CONFIG_VERSIONS={})
def test_no_declared_labels_is_an_empty_list(admin_api, history_bot):
    response = admin_api.get(f"{URL}labels/")
    assert (response.status_code, response.json()) == (200, [])


def test_the_list_costs_two_queries(superuser_api, released, django_assert_num_queries):
    with django_assert_num_queries(2):  # the config, then every label's last move
        assert superuser_api.get(f"{URL}labels/").status_code == 200


# One label ----------------------------------------------------------------------------


def test_one_label_with_its_tag(admin_api, released):
    response = admin_api.get(f"{URL}labels/production/")
    assert response.status_code == 200
    assert response.json() == {
        "label": "production",
        "version": 1,
        "updated_at": "2023-11-14T22:20:00Z",
        "updated_by": "lead",
        "reason": "First release",
        "protected": True,
    }
    tag = response["ETag"]
    assert tag.startswith('"v1-')
    unchanged = admin_api.get(f"{URL}labels/production/", HTTP_IF_NONE_MATCH=tag)
    assert (unchanged.status_code, unchanged["ETag"]) == (304, tag)
    stale = admin_api.get(f"{URL}labels/staging/", HTTP_IF_MATCH=tag)
    assert stale.status_code == 412
    assert admin_api.get(f"{URL}labels/production/", HTTP_IF_MATCH=tag).status_code == 200


def test_a_label_not_set(admin_api, history_bot):
    response = admin_api.get(f"{URL}labels/staging/")
    assert response.status_code == 200
    assert response.json()["version"] is None
    assert response["ETag"].startswith('"v0-')


def test_a_new_version_leaves_a_labels_tag(admin_api, released):
    tag = admin_api.get(f"{URL}labels/production/")["ETag"]
    released.version_manager.update({"n": 4})
    assert admin_api.get(f"{URL}labels/production/")["ETag"] == tag


def test_protection_is_part_of_the_tag(admin_api, released, settings):
    tag = admin_api.get(f"{URL}labels/production/")["ETag"]
    settings.CONFIG_VERSIONS = {"LABELS": {"staging": {}, "production": {}}}
    response = admin_api.get(f"{URL}labels/production/")
    assert response.json()["protected"] is False
    assert response["ETag"] != tag


# The history of a label ------------------------------------------------------------------


def test_a_labels_moves_newest_first(admin_api, released):
    released.version_manager.set_label("staging", 1, reason="Roll back", created_by="lead")
    response = admin_api.get(f"{URL}labels/staging/history/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    first, *_, last = body["results"]
    assert [entry["sequence"] for entry in body["results"]] == [4, 3, 1]
    assert set(first) == {
        "sequence",
        "label",
        "from_version",
        "to_version",
        "reason",
        "moved_by",
        "moved_at",
    }
    assert (first["from_version"], first["to_version"], first["moved_by"]) == (3, 1, "lead")
    assert first["reason"] == "Roll back"
    assert last == {
        "sequence": 1,
        "label": "staging",
        "from_version": None,
        "to_version": 2,
        "reason": "Try Claude",
        "moved_by": "priya",
        "moved_at": "2023-11-14T22:18:20Z",
    }


def test_a_labels_history_is_paginated(admin_api, released, settings):
    manager = released.version_manager
    for version in (2, 1, 2, 1):
        manager.set_label("production", version)
    settings.CONFIG_VERSIONS = {**SITE, "API_PAGE_SIZE": 2}
    first = admin_api.get(f"{URL}labels/production/history/").json()
    assert first["count"] == 5
    assert [entry["to_version"] for entry in first["results"]] == [1, 2]
    second = admin_api.get(first["next"]).json()
    assert [entry["to_version"] for entry in second["results"]] == [1, 2]
    assert admin_api.get(f"{URL}labels/production/history/?page=4").status_code == 404
    assert admin_api.get(f"{URL}labels/production/history/?page=x").status_code == 400


def test_a_label_never_set_has_no_moves(admin_api, history_bot):
    body = admin_api.get(f"{URL}labels/production/history/").json()
    assert (body["count"], body["results"]) == (0, [])


# Versions and their labels ---------------------------------------------------------


def test_each_version_lists_its_labels(admin_api, released):
    released.version_manager.set_label("production", 3)
    results = admin_api.get(f"{URL}versions/").json()["results"]
    assert {entry["version"]: entry["labels"] for entry in results} == {
        3: ["staging", "production"],
        2: [],
        1: [],
    }
    one = admin_api.get(f"{URL}versions/3/").json()
    assert "labels" not in one  # one version's answer never changes (its ETag neither)


def test_labels_of_versions_cost_one_query_for_the_page(
    superuser_api, released, django_assert_num_queries
):
    manager = released.version_manager
    for n in range(20):
        manager.update({"n": n})
    manager.set_label("production", 10)
    # The config row, the count, the page, every label's last move: 4, for any length.
    with django_assert_num_queries(4):
        response = superuser_api.get(f"{URL}versions/")
    assert response.status_code == 200
    labelled = {e["version"]: e["labels"] for e in response.json()["results"] if e["labels"]}
    assert labelled == {10: ["production"], 3: ["staging"]}


# Names in the URL -------------------------------------------------------------------


@pytest.mark.parametrize("path", LABEL_URLS)
@pytest.mark.parametrize(
    "name",
    [
        "canary",
        "Production",
        "PRODUCTION",
        "latest",
        "prod.uction",
        ".",
        "..",
        "prod uction",
        "production\n",
        " production",
        "pröduction",
        "生产",
        "x" * 51,
        "x" * 5000,
        "%00",
        "production%",
    ],
)
def test_odd_label_names_are_json_400(admin_api, released, path, name):
    response = admin_api.get(URL + path.format(quote(name, safe="")))
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    [message] = response.json()["label"]
    assert message


def test_latest_cannot_be_read_as_a_label(admin_api, released):
    response = admin_api.get(f"{URL}labels/latest/")
    assert response.json() == {
        "label": ["'latest' always points at the newest version; it cannot be moved."]
    }


@pytest.mark.parametrize("path", ["labels/", "labels/production/", "labels/production/history/"])
def test_an_unknown_config_is_404(admin_api, db, path):
    response = admin_api.get(f"/api/configs/nope/{path}")
    assert response.status_code == 404
    assert response.json() == {"detail": "No bot config with the slug 'nope'."}


# Who, and archived configs ----------------------------------------------------------


@pytest.mark.parametrize("path", ["labels/", "labels/production/", "labels/production/history/"])
def test_reading_labels_needs_view_permission(client_for, released, path):
    for perms in ((), ("change_botconfig", "promote_botconfig", "promote_protected_botconfig")):
        refused = client_for(*perms).get(URL + path)
        assert refused.status_code == 403
        assert "permission" in refused.json()["detail"]
    assert client_for("view_botconfig").get(URL + path).status_code == 200
    assert APIClient().get(URL + path).status_code in (401, 403)


@pytest.mark.parametrize("path", ["labels/", "labels/production/", "labels/production/history/"])
def test_an_archived_configs_labels_are_410(admin_api, released, path):
    released.archive(by="admin", reason="Retired")
    response = admin_api.get(URL + path)
    assert response.status_code == 410
    assert "'support-bot' is archived" in response.json()["detail"]


# The browsable API ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["labels/", "labels/production/", "labels/production/history/", "?label=production"]
)
def test_the_browsable_api_shows_labels(admin_api, released, path):
    response = admin_api.get(URL + path, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


def test_the_browsable_form_of_a_label_read_expects_the_version_shown(admin_api, released):
    # Saving the form prefilled with production's config (version 1) must not quietly
    # overwrite version 3: it expects version 1, and is a 409.
    page = admin_api.get(URL, {"label": "production"}, HTTP_ACCEPT="text/html")
    assert b"&quot;expected_version&quot;: 1" in page.content
