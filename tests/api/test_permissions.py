"""Who may do what: one model permission per kind of request, configurable classes."""

from __future__ import annotations

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

URL = "/api/configs/support-bot/"

# (method, path, body, the one permission it needs, status when allowed)
REQUESTS = [
    ("get", "/api/configs/", None, "view_botconfig", 200),
    ("get", URL, None, "view_botconfig", 200),
    ("get", f"{URL}versions/", None, "view_botconfig", 200),
    ("get", f"{URL}versions/1/", None, "view_botconfig", 200),
    ("get", f"{URL}diff/", None, "view_botconfig", 200),
    ("post", "/api/configs/", {"name": "N", "slug": "new", "config": {}}, "add_botconfig", 201),
    ("put", URL, {"config": {"x": 1}}, "change_botconfig", 200),
    ("post", f"{URL}rollback/", {"to_version": 2}, "rollback_botconfig", 201),
]
ALL = ["view_botconfig", "add_botconfig", "change_botconfig", "rollback_botconfig"]
# A rollback answers with the config, so, as in the admin, it also needs to see configs.
ALSO = {"rollback_botconfig": ("view_botconfig",)}


def _send(client, method, path, body):
    return getattr(client, method)(path, body, format="json")


@pytest.mark.parametrize(("method", "path", "body", "needed", "allowed"), REQUESTS)
def test_each_request_needs_its_permission(
    client_for, history_bot, method, path, body, needed, allowed
):
    without = client_for(*[p for p in ALL if p != needed])
    refused = _send(without, method, path, body)
    assert refused.status_code == 403
    assert "permission" in refused.json()["detail"]
    assert history_bot.versions.count() == 3
    assert _send(client_for(needed, *ALSO.get(needed, ())), method, path, body).status_code == (
        allowed
    )


@pytest.mark.parametrize("seeing", ["view_botconfig", "change_botconfig"])
def test_rollback_also_needs_to_see_configs_as_in_the_admin(client_for, history_bot, seeing):
    body = {"to_version": 2}
    alone = _send(client_for("rollback_botconfig"), "post", f"{URL}rollback/", body)
    assert alone.status_code == 403
    assert history_bot.versions.count() == 3
    allowed = client_for("rollback_botconfig", seeing)
    assert _send(allowed, "post", f"{URL}rollback/", body).status_code == 201


@pytest.mark.parametrize(("method", "path", "body", "needed", "allowed"), REQUESTS)
def test_anonymous_is_401_with_a_token_challenge(history_bot, method, path, body, needed, allowed):
    # The first authentication class (session, in the test settings) has no challenge:
    # DRF answers 403 then; a token-only API answers 401 with WWW-Authenticate.
    assert _send(APIClient(), method, path, body).status_code == 403
    token_only = {
        "API_AUTHENTICATION_CLASSES": ["rest_framework.authentication.TokenAuthentication"]
    }
    with override_settings(CONFIG_VERSIONS=token_only):
        response = _send(APIClient(), method, path, body)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert history_bot.versions.count() == 3


def test_bad_token_is_refused(history_bot):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")
    response = client.get(URL)
    # 403 rather than 401 because session authentication comes first (DRF's rule).
    assert response.status_code == 403
    assert response.json() == {"detail": "Invalid token."}


def test_session_login_works_like_in_the_browsable_api(history_bot, django_user_model):
    django_user_model.objects.create_superuser("staff", password="pw")
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username="staff", password="pw")
    assert client.get(URL).status_code == 200
    # Session-authenticated writes need the CSRF token, as everywhere in Django.
    assert client.put(URL, {"config": {}}, format="json").status_code == 403


def test_permission_classes_come_from_settings(client_for, history_bot):
    reader = client_for("view_botconfig")
    assert reader.put(URL, {"config": {}}, format="json").status_code == 403
    allow_all = {"API_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"]}
    with override_settings(CONFIG_VERSIONS=allow_all):
        assert reader.put(URL, {"config": {}}, format="json").status_code == 200
    assert history_bot.versions.count() == 4


def test_refused_write_of_unknown_method_is_not_405_before_auth(history_bot):
    # Unauthenticated clients learn nothing, not even which methods exist.
    assert APIClient().patch(URL, {}, format="json").status_code == 403
