"""Moving a label: ``PUT configs/{slug}/labels/{label}/``.

Staging is at 3, production (protected) at 1; see labels_setup.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from config_versions.models import BotConfigLabelMove
from tests.api.labels_setup import SITE, URL

pytestmark = pytest.mark.django_db

STAGING = f"{URL}labels/staging/"
PRODUCTION = f"{URL}labels/production/"


@pytest.fixture(autouse=True)
def _site_labels(settings):
    settings.CONFIG_VERSIONS = SITE


def _moves() -> int:
    return BotConfigLabelMove.objects.count()


def _put(api: APIClient, url: str, body: Any, **headers: Any):
    return api.put(url, body, format="json", **headers)


def test_a_move_answers_the_label_and_its_tag(admin_api, released):
    response = _put(admin_api, STAGING, {"version": 1, "reason": "Back to OpenAI"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert {k: body[k] for k in ("label", "version", "updated_by", "reason", "moved")} == {
        "label": "staging",
        "version": 1,
        "updated_by": "root",
        "reason": "Back to OpenAI",
        "moved": True,
    }
    assert body["protected"] is False
    read = admin_api.get(STAGING)
    assert response["ETag"] == read["ETag"]
    assert {k: v for k, v in body.items() if k != "moved"} == read.json()
    move = BotConfigLabelMove.objects.order_by("-sequence").first()
    assert move is not None
    assert (move.label, move.from_version, move.to_version, move.sequence) == ("staging", 3, 1, 4)
    assert (move.created_by, move.created_by_user.get_username()) == ("root", "root")
    assert admin_api.get(URL, {"label": "staging"}).json()["version"] == 1


def test_a_move_to_where_it_points_writes_nothing(admin_api, released):
    tag = admin_api.get(STAGING)["ETag"]
    before = _moves()
    response = _put(admin_api, STAGING, {"version": 3, "reason": "again"})
    assert response.status_code == 200
    assert response.json()["moved"] is False
    assert response.json()["reason"] == ""  # the last move's, not this request's
    assert response["ETag"] == tag
    assert _moves() == before


def test_the_first_move_of_a_label(admin_api, history_bot):
    response = _put(admin_api, PRODUCTION, {"version": 2, "expected_version": 0})
    assert response.status_code == 200
    assert response.json()["version"] == 2
    assert BotConfigLabelMove.objects.get().from_version is None


def test_a_reason_is_optional(admin_api, released):
    response = _put(admin_api, STAGING, {"version": 2})
    assert (response.status_code, response.json()["reason"]) == (200, "")


# Preconditions -----------------------------------------------------------------------


def test_expected_version_mismatch_is_409(admin_api, released):
    before = _moves()
    response = _put(admin_api, STAGING, {"version": 1, "expected_version": 2})
    assert response.status_code == 409
    assert response.json() == {
        "detail": "Label conflict: you expected 'staging' at version 2, but it is at version 3.",
        "expected_version": 2,
        "actual_version": 3,
    }
    unset = _put(admin_api, STAGING, {"version": 1, "expected_version": 0})
    assert unset.status_code == 409
    assert unset.json()["detail"].startswith("Label conflict: you expected 'staging' at not set")
    assert _moves() == before
    assert _put(admin_api, STAGING, {"version": 1, "expected_version": 3}).status_code == 200


def test_expected_version_on_a_label_not_set(admin_api, history_bot):
    response = _put(admin_api, STAGING, {"version": 1, "expected_version": 2})
    assert response.status_code == 409
    assert (response.json()["expected_version"], response.json()["actual_version"]) == (2, 0)
    assert "but it is at not set" in response.json()["detail"]


def test_if_match_with_the_labels_tag(admin_api, released):
    tag = admin_api.get(STAGING)["ETag"]
    moved = _put(admin_api, STAGING, {"version": 2}, HTTP_IF_MATCH=tag)
    assert moved.status_code == 200
    before = _moves()
    stale = _put(admin_api, STAGING, {"version": 1}, HTTP_IF_MATCH=tag)
    assert stale.status_code == 412
    assert "The label 'staging' moved since you read it" in stale.json()["detail"]
    assert _moves() == before
    # Back to 3: the same version as when the tag was read, yet another move: still 412.
    assert _put(admin_api, STAGING, {"version": 3}, HTTP_IF_MATCH=moved["ETag"]).status_code == 200
    assert _put(admin_api, STAGING, {"version": 1}, HTTP_IF_MATCH=tag).status_code == 412


def test_if_match_star_and_a_new_version_meanwhile(admin_api, released):
    tag = admin_api.get(STAGING)["ETag"]
    released.version_manager.update({"n": 4})  # a new config version does not stale it
    assert _put(admin_api, STAGING, {"version": 4}, HTTP_IF_MATCH=tag).status_code == 200
    assert _put(admin_api, STAGING, {"version": 2}, HTTP_IF_MATCH="*").status_code == 200


def test_the_configs_tag_is_not_the_labels(admin_api, released):
    config_tag = admin_api.get(URL)["ETag"]
    response = _put(admin_api, STAGING, {"version": 1}, HTTP_IF_MATCH=config_tag)
    assert response.status_code == 412


def test_if_match_on_a_label_not_set(admin_api, history_bot):
    tag = admin_api.get(STAGING)["ETag"]
    assert _put(admin_api, STAGING, {"version": 1}, HTTP_IF_MATCH=tag).status_code == 200
    assert _put(admin_api, STAGING, {"version": 2}, HTTP_IF_MATCH=tag).status_code == 412


def test_expected_version_wins_over_if_match_for_the_status(admin_api, released):
    tag = admin_api.get(STAGING)["ETag"]
    response = _put(admin_api, STAGING, {"version": 1, "expected_version": 2}, HTTP_IF_MATCH=tag)
    assert response.status_code == 409


@pytest.mark.parametrize("header", ["nope", '"unterminated', "W/"])
def test_a_malformed_if_match_is_400(admin_api, released, header):
    before = _moves()
    assert _put(admin_api, STAGING, {"version": 1}, HTTP_IF_MATCH=header).status_code == 400
    assert _moves() == before


def test_require_precondition_applies_to_moves(admin_api, released, settings):
    settings.CONFIG_VERSIONS = {**SITE, "REQUIRE_PRECONDITION": True}
    assert _put(admin_api, STAGING, {"version": 1}).status_code == 428
    assert _put(admin_api, STAGING, {"version": 1}, HTTP_IF_MATCH="*").status_code == 428
    assert _put(admin_api, STAGING, {"version": 1, "expected_version": 3}).status_code == 200


# Bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "version",
    ["1", 1.5, True, False, None, -1, 0, 2**31, 10**30, 1e300, [], {}, "one"],
)
def test_a_version_that_is_not_a_version_number_is_400(admin_api, released, version):
    before = _moves()
    response = _put(admin_api, STAGING, {"version": version})
    assert response.status_code == 400
    assert list(response.json()) == ["version"]
    assert _moves() == before


@pytest.mark.parametrize("expected", ["3", -1, True, None, 2**31, 2.5])
def test_an_expected_version_that_is_not_a_number_is_400(admin_api, released, expected):
    response = _put(admin_api, STAGING, {"version": 1, "expected_version": expected})
    assert response.status_code == 400
    assert list(response.json()) == ["expected_version"]


@pytest.mark.parametrize("body", [{}, {"reason": "x"}, [], "x", None])
def test_a_body_without_a_version_is_400(admin_api, released, body):
    response = _put(admin_api, STAGING, body)
    assert response.status_code == 400


def test_a_body_that_is_not_json(admin_api, released):
    response = admin_api.put(STAGING, "{", content_type="application/json")
    assert response.status_code == 400
    response = admin_api.put(STAGING, "version=1", content_type="text/plain")
    assert response.status_code == 415


def test_a_reason_over_the_limit_is_400(admin_api, released, settings):
    settings.CONFIG_VERSIONS = {**SITE, "MAX_REASON_LENGTH": 5}
    response = _put(admin_api, STAGING, {"version": 1, "reason": "far too long"})
    assert response.status_code == 400
    assert list(response.json()) == ["reason"]
    assert _put(admin_api, STAGING, {"version": 1, "reason": 5}).status_code == 400


def test_a_missing_version_is_404_as_for_a_rollback(admin_api, released):
    before = _moves()
    response = _put(admin_api, STAGING, {"version": 4})
    assert response.status_code == 404
    assert response.json() == {"detail": "Version 4 not found."}
    rollback = admin_api.post(f"{URL}rollback/", {"to_version": 4}, format="json")
    assert rollback.status_code == 404
    assert _moves() == before


def test_a_config_without_versions(admin_api, bot):
    response = _put(admin_api, STAGING, {"version": 1})
    assert response.status_code == 404


def test_latest_cannot_be_moved(admin_api, released):
    response = _put(admin_api, f"{URL}labels/latest/", {"version": 1})
    assert response.status_code == 400
    assert response.json() == {
        "label": ["'latest' always points at the newest version; it cannot be moved."]
    }


@pytest.mark.parametrize(
    "name", ["canary", "Staging", "sta ging", "staging\n", "stäging", "x" * 60]
)
def test_a_label_the_site_does_not_declare_cannot_be_moved(admin_api, released, name):
    before = _moves()
    response = _put(admin_api, f"{URL}labels/{quote(name, safe='')}/", {"version": 1})
    assert response.status_code == 400
    assert list(response.json()) == ["label"]
    assert _moves() == before


def test_an_unknown_config(admin_api, db):
    response = _put(admin_api, "/api/configs/nope/labels/staging/", {"version": 1})
    assert response.status_code == 404


def test_an_archived_config_is_410_and_nothing_is_written(admin_api, released):
    released.archive(by="admin", reason="Retired")
    before = _moves()
    response = _put(admin_api, STAGING, {"version": 1})
    assert response.status_code == 410
    assert _moves() == before


def test_no_patch_no_delete_no_post(admin_api, released):
    for method in ("patch", "delete", "post"):
        assert getattr(admin_api, method)(STAGING, {"version": 1}, format="json").status_code == 405
    assert admin_api.put(f"{URL}labels/", {"version": 1}, format="json").status_code == 405


# Permissions: releases.move_refusal ----------------------------------------------------


@pytest.mark.parametrize(
    ("perms", "message"),
    [
        ((), "You may not move labels (permission promote_botconfig)."),
        (
            ("view_botconfig", "change_botconfig", "promote_protected_botconfig"),
            "You may not move labels (permission promote_botconfig).",
        ),
        (("promote_botconfig",), "Moving a label needs permission to view bot configs as well."),
    ],
)
def test_moving_needs_promote_and_seeing_configs(client_for, released, perms, message):
    before = _moves()
    for url in (STAGING, PRODUCTION):
        response = _put(client_for(*perms), url, {"version": 2})
        assert response.status_code == 403
        assert response.json() == {"detail": message}
    assert _moves() == before


@pytest.mark.parametrize("seeing", ["view_botconfig", "change_botconfig"])
def test_a_protected_label_needs_promote_protected(client_for, released, seeing):
    editor = client_for("promote_botconfig", seeing)
    before = _moves()
    refused = _put(editor, PRODUCTION, {"version": 2})
    assert refused.status_code == 403
    assert refused.json() == {
        "detail": "'production' is a protected label: moving it needs the permission "
        "promote_protected_botconfig."
    }
    assert _moves() == before
    assert _put(editor, STAGING, {"version": 2}).status_code == 200
    lead = client_for("promote_botconfig", "promote_protected_botconfig", seeing)
    assert _put(lead, PRODUCTION, {"version": 2}).status_code == 200
    assert _moves() == before + 2


def test_refusal_comes_before_the_lookup(client_for, db):
    # No config named "nope": someone who may not move labels learns nothing of it.
    response = _put(client_for("view_botconfig"), "/api/configs/nope/labels/staging/", {})
    assert response.status_code == 403


def test_anonymous_cannot_move(released):
    before = _moves()
    assert _put(APIClient(), STAGING, {"version": 1}).status_code in (401, 403)
    assert _moves() == before


@override_settings(CONFIG_VERSIONS={**SITE, "API_PERMISSION_CLASSES": []})
def test_the_rule_holds_whatever_the_sites_permission_classes(client_for, released):
    before = _moves()
    response = _put(client_for("view_botconfig"), STAGING, {"version": 1})
    assert response.status_code == 403
    assert _moves() == before
