"""The OpenAPI schema is valid, warning-free, and describes the answers really given."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(admin_api) -> dict:
    response = admin_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return json.loads(response.content)


def test_schema_validates_without_warnings(tmp_path: Path):
    # The `manage.py spectacular --validate --fail-on-warn` check, as a test.
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    paths = yaml.safe_load(out.read_text())["paths"]
    # The test settings leave SERVE_INCLUDE_SCHEMA on, so the schema view lists itself.
    assert sorted(set(paths) - {"/api/schema/"}) == [
        "/api/configs/",
        "/api/configs/{slug}/",
        "/api/configs/{slug}/diff/",
        "/api/configs/{slug}/labels/",
        "/api/configs/{slug}/proposals/",
        "/api/configs/{slug}/proposals/{id}/",
        "/api/configs/{slug}/proposals/{id}/apply/",
        "/api/configs/{slug}/proposals/{id}/reviews/",
        "/api/configs/{slug}/proposals/{id}/revisions/",
        "/api/configs/{slug}/proposals/{id}/withdraw/",
        "/api/configs/{slug}/rollback/",
        "/api/configs/{slug}/versions/",
        "/api/configs/{slug}/versions/{version}/",
    ]


def test_schema_documents_conditional_requests(schema):
    detail = schema["paths"]["/api/configs/{slug}/"]
    get, put = detail["get"], detail["put"]
    assert {"If-None-Match"} <= {p["name"] for p in get["parameters"] if p["in"] == "header"}
    assert set(get["responses"]["304"]["headers"]) == {"ETag", "Config-Version"}
    assert "content" not in get["responses"]["304"]
    assert set(get["responses"]["200"]["headers"]) == {"ETag", "Config-Version"}
    assert {"If-Match"} <= {p["name"] for p in put["parameters"] if p["in"] == "header"}
    assert {"200", "400", "401", "403", "404", "409", "412", "428"} <= set(put["responses"])
    conflict = put["responses"]["409"]["content"]["application/json"]["schema"]["$ref"]
    assert schema["components"]["schemas"][conflict.rsplit("/", 1)[1]]["required"] == [
        "actual_version",
        "detail",
        "expected_version",
    ]
    rollback = schema["paths"]["/api/configs/{slug}/rollback/"]["post"]
    assert {"201", "404", "409", "412", "428"} <= set(rollback["responses"])
    assert set(rollback["responses"]["201"]["headers"]) == {"ETag", "Location"}
    # Replace-only: no PATCH, no DELETE anywhere.
    assert set(detail) == {"get", "put"}
    assert set(schema["paths"]["/api/configs/{slug}/versions/{version}/"]) == {"get"}


def test_version_numbers_are_typed_in_the_schema(schema):
    version = schema["paths"]["/api/configs/{slug}/versions/{version}/"]["get"]
    [param] = [p for p in version["parameters"] if p["name"] == "version"]
    assert param["schema"] == {"type": "integer", "minimum": 1, "maximum": 2147483647}
    assert "400" in version["responses"]


def test_real_http_round_trip(live_server, history_bot, django_user_model):
    """ETag, 304 and 412 over a real socket, as a bot sees them."""
    user = django_user_model.objects.create_superuser("httpbot", password="x")
    auth = {"Authorization": f"Token {Token.objects.create(user=user).key}"}
    url = f"{live_server.url}/api/configs/support-bot/"

    def call(method: str = "GET", body: dict | None = None, **headers: str):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method, headers=auth | headers)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    status, headers, body = call()
    assert status == 200
    etag = headers["ETag"]
    assert json.loads(body)["current_version"] == 3
    status, headers, body = call(**{"If-None-Match": etag})
    assert (status, body, headers["ETag"]) == (304, b"", etag)
    status, headers, body = call("PUT", {"config": {"v": 4}}, **{"If-Match": etag})
    assert status == 200
    status, _, body = call("PUT", {"config": {"v": 5}}, **{"If-Match": etag})
    assert status == 412
    assert "version 4" in json.loads(body)["detail"]
