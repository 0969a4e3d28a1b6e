"""Serving a label: ``GET configs/{slug}/?label=&as_of=``, its ETags and its cost.

The history (see labels_setup): versions 1, 2, 3; staging at 3 (moved from 2),
production at 1. The site declares staging and production (protected).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from config_versions.models import BotConfig, BotConfigLabelMove
from tests.api.labels_setup import SITE, URL, V1, V2, at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _site_labels(settings):
    settings.CONFIG_VERSIONS = SITE


def _get(api: APIClient, **query: str):
    return api.get(URL, query)


# What a label serves -------------------------------------------------------------------


def test_a_label_serves_the_version_it_points_at(admin_api, released):
    response = _get(admin_api, label="production")
    assert response.status_code == 200
    body = response.json()
    assert (body["label"], body["version"], body["config"]) == ("production", 1, V1)
    # Every key of the plain read stays; current_version is the version served, and
    # updated_at when the label was moved there.
    assert body["current_version"] == 1
    move = released.version_manager.label_heads()["production"]
    moved_at = dt.datetime.fromisoformat(body["updated_at"])
    assert moved_at == dt.datetime.fromtimestamp(move.timestamp, tz=dt.UTC)
    assert list(body) == [
        "slug",
        "name",
        "description",
        "current_version",
        "config",
        "updated_at",
        "label",
        "version",
    ]
    assert response["Config-Version"] == "1"
    assert response["ETag"].startswith('"v1-')
    staging = _get(admin_api, label="staging")
    assert (staging.json()["version"], staging["Config-Version"]) == (3, "3")


def test_the_default_read_is_latest_and_unchanged(admin_api, released):
    plain = admin_api.get(URL)
    assert plain.status_code == 200
    assert (plain.json()["label"], plain.json()["version"]) == ("latest", 3)
    assert plain["Config-Version"] == "3"
    latest = _get(admin_api, label="latest")
    # The same representation: the same body and the same tag.
    assert latest.json() == plain.json()
    assert latest["ETag"] == plain["ETag"]
    assert plain["ETag"].startswith('"v3-')


def test_each_label_and_version_has_its_own_tag(admin_api, released):
    tags = {
        _get(admin_api, label="latest")["ETag"],
        _get(admin_api, label="staging")["ETag"],  # at 3, as latest is
        _get(admin_api, label="production")["ETag"],
        _get(admin_api, label="latest", as_of=at(150))["ETag"],
        _get(admin_api, label="staging", as_of=at(350))["ETag"],
    }
    assert len(tags) == 5


def test_the_tag_changes_when_the_label_moves_even_back(admin_api, released):
    url = f"{URL}labels/production/"
    first = _get(admin_api, label="production")
    assert admin_api.put(url, {"version": 2}, format="json").status_code == 200
    moved = _get(admin_api, label="production")
    assert moved.json()["config"] == V2
    assert admin_api.put(url, {"version": 1}, format="json").status_code == 200
    back = _get(admin_api, label="production")
    # The same config as before the moves, moved back now; another move, another tag.
    assert back.json() == {**first.json(), "updated_at": back.json()["updated_at"]}
    assert back.json()["updated_at"] > first.json()["updated_at"]
    assert len({first["ETag"], moved["ETag"], back["ETag"]}) == 3
    again = admin_api.get(URL, {"label": "production"}, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200


def test_a_new_version_leaves_a_labels_answer_and_tag_alone(admin_api, released):
    # A bot following production keeps getting 304 while versions production does not
    # serve are written.
    before = _get(admin_api, label="production")
    released.version_manager.update({"n": 4})
    after = _get(admin_api, label="production")
    assert after.json() == before.json()
    assert after.json()["current_version"] == 1
    assert after["ETag"] == before["ETag"]
    again = admin_api.get(URL, {"label": "production"}, HTTP_IF_NONE_MATCH=before["ETag"])
    assert again.status_code == 304
    # The config's own fields are part of the answer: renaming it changes the tag.
    BotConfig.objects.filter(pk=released.pk).update(name="Renamed")
    renamed = _get(admin_api, label="production")
    assert renamed.json()["name"] == "Renamed"
    assert renamed["ETag"] != before["ETag"]


def test_an_unset_label_is_404_naming_it(admin_api, history_bot):
    response = _get(admin_api, label="production")
    assert response.status_code == 404
    assert response.json() == {
        "detail": "The label 'production' is not set for the config 'support-bot'."
    }
    assert "Config-Version" not in response


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("canary", "Label 'canary' is not declared (labels: latest, production, staging)."),
        ("Production", "Label 'Production' is not declared (labels: latest, production, staging)."),
        ("", "'' is not a label name: use letters, digits, '-' and '_' (at most 50)."),
        ("prod.uction", "not a label name"),
        ("prod uction", "not a label name"),
        ("production\n", "not a label name"),
        (" production", "not a label name"),
        ("pröduction", "not a label name"),
        ("x" * 51, "at most 50 characters"),
    ],
)
def test_a_label_the_site_does_not_declare_is_400(admin_api, released, label, message):
    response = _get(admin_api, label=label)
    assert response.status_code == 400
    [text] = response.json()["label"]
    assert message in text
    assert list(response.json()) == ["label"]


def test_an_unknown_config_is_404_and_a_bad_label_first_400(admin_api, db):
    assert _get(admin_api, label="production").status_code == 404
    assert _get(admin_api, label="canary").status_code == 400


# As of a time ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "offset", "version"),
    [
        ("latest", 0, 1),
        ("latest", 99.5, 1),
        ("latest", 100, 2),  # a version written at that very time counts
        ("latest", 150, 2),
        ("latest", 10_000, 3),
        ("staging", 300, 2),
        ("staging", 499, 2),
        ("staging", 500, 3),
        ("production", 400, 1),
        ("production", 10_000, 1),
    ],
)
def test_as_of_serves_what_the_label_served_then(admin_api, released, label, offset, version):
    response = _get(admin_api, label=label, as_of=at(offset))
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["label"], body["version"], body["current_version"]) == (label, version, version)
    assert body["config"] == released.version_manager.get_version(version).config
    assert response["Config-Version"] == str(version)


def test_as_of_after_a_move_back_serves_the_move_then(admin_api, released):
    manager = released.version_manager
    manager.clock = lambda: 1_700_001_000.0
    manager.set_label("production", 2)
    manager.clock = lambda: 1_700_002_000.0
    manager.set_label("production", 1)
    assert _get(admin_api, label="production", as_of=at(1500)).json()["version"] == 2
    assert _get(admin_api, label="production", as_of=at(2500)).json()["version"] == 1


def test_as_of_takes_any_offset(admin_api, released):
    # T0 + 150 written in three zones: one instant.
    for text in (at(150), "2023-11-15T00:15:50+02:00", "2023-11-14T12:15:50.000-10:00"):
        response = _get(admin_api, as_of=text)
        assert response.json()["version"] == 2, text
    lower = _get(admin_api, as_of=at(150).replace("T", "t").replace("Z", "z"))
    assert lower.json()["version"] == 2


@pytest.mark.parametrize(
    ("label", "offset", "detail"),
    [
        ("latest", -1, "The config 'support-bot' had no version yet at 2023-11-14T22:13:19+00:00."),
        (
            "production",
            399,
            "The label 'production' was not set yet for the config 'support-bot' at "
            "2023-11-14T22:19:59+00:00.",
        ),
        ("staging", 299.5, "The label 'staging' was not set yet"),
    ],
)
def test_before_the_label_was_set_is_404(admin_api, released, label, offset, detail):
    response = _get(admin_api, label=label, as_of=at(offset))
    assert response.status_code == 404
    assert response.json()["detail"].startswith(detail)


@pytest.mark.parametrize(
    "as_of",
    [
        "2024-01-01T00:00:00",  # no time zone
        "2024-01-01",
        "2024-01-01T00:00Z",
        "2024-01-01 00:00:00Z",
        "2024-01-01T00:00:00 01:00",  # the + of an offset, sent unencoded, is a space
        "20240101T000000Z",
        "1700000000",
        "yesterday",
        "",
        "2024-01-01T00:00:00+0100",
        "2024-01-01T00:00:00+01",
        "2024-01-01T00:00:00.Z",
        "\uff12\uff10\uff12\uff14-01-01T00:00:00Z",  # fullwidth digits
        "2024-01-01T00:00:00Z\n",
    ],
)
def test_a_malformed_as_of_is_400_asking_for_a_time_zone(admin_api, released, as_of):
    response = _get(admin_api, as_of=as_of)
    assert response.status_code == 400
    [message] = response.json()["as_of"]
    assert "time zone offset or Z" in message
    assert "%2B" in message


@pytest.mark.parametrize(
    "as_of",
    [
        "2024-02-30T00:00:00Z",
        "2024-13-01T00:00:00Z",
        "2024-01-01T24:00:00Z",
        "2024-01-01T00:00:60Z",  # a leap second: Python has none
        "0000-01-01T00:00:00Z",
    ],
)
def test_an_impossible_date_is_400(admin_api, released, as_of):
    response = _get(admin_api, as_of=as_of)
    assert response.status_code == 400
    assert response.json()["as_of"][0].startswith("as_of names no real date and time")


def test_an_offset_of_a_day_is_400(admin_api, released):
    response = _get(admin_api, as_of="2024-01-01T00:00:00+24:00")
    assert response.status_code == 400
    assert "as_of" in response.json()


def test_an_unencoded_plus_is_explained(admin_api, released):
    response = admin_api.get(f"{URL}?as_of=2024-01-01T00:00:00+01:00")
    assert response.status_code == 400
    assert "write the + as %2B" in response.json()["as_of"][0]


def test_far_times_are_fine(admin_api, released):
    assert _get(admin_api, as_of="0001-01-01T00:00:00+23:59").status_code == 404
    assert _get(admin_api, as_of="9999-12-31T23:59:59.999999999-23:59").json()["version"] == 3


# Conditional requests -------------------------------------------------------------------


def test_if_none_match_gives_304_with_the_version(admin_api, released):
    first = _get(admin_api, label="production")
    response = admin_api.get(URL, {"label": "production"}, HTTP_IF_NONE_MATCH=first["ETag"])
    assert response.status_code == 304
    assert response.content == b""
    assert (response["ETag"], response["Config-Version"]) == (first["ETag"], "1")
    plain = admin_api.get(URL)
    unchanged = admin_api.get(URL, HTTP_IF_NONE_MATCH=plain["ETag"])
    assert (unchanged.status_code, unchanged["Config-Version"]) == (304, "3")
    # Another label's tag does not match.
    other = admin_api.get(URL, {"label": "staging"}, HTTP_IF_NONE_MATCH=first["ETag"])
    assert other.status_code == 200


def test_if_match_on_a_label_read(admin_api, released):
    tag = _get(admin_api, label="production")["ETag"]
    assert admin_api.get(URL, {"label": "production"}, HTTP_IF_MATCH=tag).status_code == 200
    assert admin_api.get(URL, {"label": "production"}, HTTP_IF_MATCH="*").status_code == 200
    stale = admin_api.get(URL, {"label": "staging"}, HTTP_IF_MATCH=tag)
    assert stale.status_code == 412
    assert "the config as label 'staging' serves it" in stale.json()["detail"]
    bad = admin_api.get(URL, {"label": "production"}, HTTP_IF_MATCH="nope")
    assert bad.status_code == 400


def test_writes_take_the_newest_versions_tag_not_a_labels(admin_api, released):
    production = _get(admin_api, label="production")["ETag"]
    refused = admin_api.put(URL, {"config": {"n": 4}}, format="json", HTTP_IF_MATCH=production)
    assert refused.status_code == 412
    latest = _get(admin_api, label="latest")["ETag"]
    written = admin_api.put(URL, {"config": {"n": 4}}, format="json", HTTP_IF_MATCH=latest)
    assert written.status_code == 200
    assert (written.json()["label"], written.json()["version"]) == ("latest", 4)
    assert written["Config-Version"] == "4"


# The default label ---------------------------------------------------------------------


def test_default_label_production(admin_api, released, settings):
    settings.CONFIG_VERSIONS = {**SITE, "DEFAULT_LABEL": "production"}
    response = admin_api.get(URL)
    assert (response.json()["label"], response.json()["version"]) == ("production", 1)
    assert response.json()["config"] == V1
    assert response["Config-Version"] == "1"
    assert response["ETag"] == _get(admin_api, label="production")["ETag"]
    latest = _get(admin_api, label="latest")
    assert (latest.json()["version"], latest["Config-Version"]) == (3, "3")
    unchanged = admin_api.get(URL, HTTP_IF_NONE_MATCH=response["ETag"])
    assert unchanged.status_code == 304
    # Writes still go against the newest version's tag.
    assert (
        admin_api.put(
            URL, {"config": {"n": 4}}, format="json", HTTP_IF_MATCH=response["ETag"]
        ).status_code
        == 412
    )
    assert (
        admin_api.put(
            URL, {"config": {"n": 4}}, format="json", HTTP_IF_MATCH=latest["ETag"]
        ).status_code
        == 200
    )
    assert admin_api.get(URL).json()["version"] == 1
    assert _get(admin_api, as_of=at(350)).status_code == 404  # production was not set yet


def test_default_label_not_set_is_404(admin_api, history_bot, settings):
    settings.CONFIG_VERSIONS = {**SITE, "DEFAULT_LABEL": "production"}
    response = admin_api.get(URL)
    assert response.status_code == 404
    assert "'production' is not set" in response.json()["detail"]


def test_a_default_label_the_site_does_not_declare_is_404_not_500(admin_api, released, settings):
    settings.CONFIG_VERSIONS = {**SITE, "DEFAULT_LABEL": "canary"}
    response = admin_api.get(URL)
    assert response.status_code == 404
    assert "DEFAULT_LABEL" in response.json()["detail"]
    assert _get(admin_api, label="production").status_code == 200


# Cost ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {"label": "production"},
        {"label": "staging", "as_of": at(350)},
        {"label": "latest", "as_of": at(150)},
        {"as_of": at(150)},
        {"label": "production", "as_of": at(1)},  # not set then: 404, one query too
    ],
)
def test_a_label_read_and_its_304_cost_one_query(
    superuser_api, released, django_assert_num_queries, query
):
    with django_assert_num_queries(1):
        response = superuser_api.get(URL, query)
    if response.status_code == 404:
        return
    assert response.status_code == 200
    with django_assert_num_queries(1):
        unchanged = superuser_api.get(URL, query, HTTP_IF_NONE_MATCH=response["ETag"])
    assert unchanged.status_code == 304
    with django_assert_num_queries(1):  # a stale tag: still the one query
        assert superuser_api.get(URL, query, HTTP_IF_NONE_MATCH='"v1-x"').status_code == 200


def test_the_default_label_costs_one_query(
    superuser_api, released, settings, django_assert_num_queries
):
    settings.CONFIG_VERSIONS = {**SITE, "DEFAULT_LABEL": "production"}
    with django_assert_num_queries(1):
        response = superuser_api.get(URL)
    with django_assert_num_queries(1):
        assert superuser_api.get(URL, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_a_bad_label_costs_no_query(superuser_api, released, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert _get(superuser_api, label="canary").status_code == 400
        assert _get(superuser_api, as_of="soon").status_code == 400


# Who, and which configs --------------------------------------------------------------


def test_reading_a_label_needs_view_permission(client_for, released):
    assert _get(client_for("change_botconfig"), label="production").status_code == 403
    assert _get(client_for("view_botconfig"), label="production").status_code == 200


def test_an_archived_config_is_410_for_a_label_too(admin_api, released):
    released.archive(by="admin", reason="Retired")
    for query in ({"label": "production"}, {"as_of": at(150)}):
        response = _get(admin_api, **query)
        assert response.status_code == 410
        assert "archived" in response.json()["detail"]


def test_the_browsable_api_shows_a_label(admin_api, released):
    response = admin_api.get(URL, {"label": "production"}, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"First release" not in response.content  # the config, not the move
    assert b"production" in response.content
    assert "ETag" not in response


def test_labels_leave_versions_and_moves_alone(admin_api, released):
    before = (released.versions.count(), BotConfigLabelMove.objects.count())
    for query in ({"label": "production"}, {"label": "staging", "as_of": at(400)}):
        _get(admin_api, **query)
    assert (released.versions.count(), BotConfigLabelMove.objects.count()) == before


@override_settings(CONFIG_VERSIONS={})
def test_without_declared_labels_only_latest_is_served(admin_api, history_bot):
    assert _get(admin_api, label="latest").status_code == 200
    response = _get(admin_api, label="production")
    assert response.status_code == 400
    assert response.json() == {"label": ["Label 'production' is not declared (labels: latest)."]}
