"""The label endpoints in the OpenAPI schema, on a failing database, and property tests:
the API serves what the version manager resolves, and no name or time gets a 500."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from django.core.management import call_command
from django.db import OperationalError, connection
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config_versions.models import BotConfigLabelMove
from tests.api.labels_setup import SITE, T0, URL

pytestmark = pytest.mark.django_db

_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
LABEL_PATHS = {
    "/api/configs/{slug}/labels/": {"get"},
    "/api/configs/{slug}/labels/{label}/": {"get", "put"},
    "/api/configs/{slug}/labels/{label}/history/": {"get"},
}


@pytest.fixture(autouse=True)
def _site_labels(settings):
    settings.CONFIG_VERSIONS = SITE


def _schema(api) -> dict:
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return json.loads(response.content)


def _parameter(operation: dict, name: str) -> dict:
    [found] = [p for p in operation["parameters"] if p["name"] == name]
    return found


# The schema ------------------------------------------------------------------------


def test_the_schema_validates_with_labels_declared(tmp_path: Path, settings):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    paths = yaml.safe_load(out.read_text())["paths"]
    for path, methods in LABEL_PATHS.items():
        assert set(paths[path]) == methods, path


def test_label_parameters_are_the_sites_labels(admin_api):
    paths = _schema(admin_api)["paths"]
    read = paths["/api/configs/{slug}/"]["get"]
    assert _parameter(read, "label")["schema"] == {
        "type": "string",
        "enum": ["latest", "production", "staging"],  # sorted by drf-spectacular
    }
    assert _parameter(read, "label")["in"] == "query"
    assert _parameter(read, "as_of")["schema"] == {"type": "string", "format": "date-time"}
    assert {"200", "304", "400", "403", "404", "410", "412", "503"} <= set(read["responses"])
    for path in (
        "/api/configs/{slug}/labels/{label}/",
        "/api/configs/{slug}/labels/{label}/history/",
    ):
        for operation in paths[path].values():
            label = _parameter(operation, "label")
            assert (label["in"], label["required"]) == ("path", True)
            assert label["schema"] == {"type": "string", "enum": ["production", "staging"]}


def test_the_schema_documents_every_answer_of_a_move(admin_api):
    schema = _schema(admin_api)
    put = schema["paths"]["/api/configs/{slug}/labels/{label}/"]["put"]
    assert {"200", "400", "401", "403", "404", "409", "410", "412", "428", "503"} <= set(
        put["responses"]
    )
    assert set(put["responses"]["200"]["headers"]) == {"ETag"}
    body = put["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    move = schema["components"]["schemas"][body]
    assert move["required"] == ["version"]
    assert move["properties"]["version"] == {
        "type": "integer",
        "maximum": 2147483647,
        "minimum": 1,
        "description": "The version the label is to point at.",
    }
    assert move["properties"]["expected_version"]["minimum"] == 0
    result = put["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert "moved" in schema["components"]["schemas"][result.rsplit("/", 1)[1]]["properties"]
    assert "Version 4 not found" not in json.dumps(put)  # described, not an example


def test_the_config_read_documents_label_and_version(admin_api):
    schema = _schema(admin_api)
    read = schema["paths"]["/api/configs/{slug}/"]["get"]
    ref = read["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    properties = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]
    assert {"label", "version", "current_version"} <= set(properties)
    assert set(read["responses"]["200"]["headers"]) == {"ETag", "Config-Version"}
    put = schema["paths"]["/api/configs/{slug}/"]["put"]
    assert "Config-Version" in put["responses"]["200"]["headers"]
    assert "newest version" in put["description"]
    history = schema["paths"]["/api/configs/{slug}/versions/"]["get"]
    ref = history["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    page = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    entry = page["properties"]["results"]["items"]["$ref"].rsplit("/", 1)[1]
    assert "labels" in schema["components"]["schemas"][entry]["properties"]


@override_settings(CONFIG_VERSIONS={})
def test_without_labels_their_endpoints_leave_the_schema(admin_api):
    paths = _schema(admin_api)["paths"]
    assert "/api/configs/{slug}/labels/" in paths
    assert "/api/configs/{slug}/labels/{label}/" not in paths
    assert "/api/configs/{slug}/labels/{label}/history/" not in paths
    read = paths["/api/configs/{slug}/"]["get"]
    assert _parameter(read, "label")["schema"]["enum"] == ["latest"]


def test_the_labels_list_is_not_paginated_in_the_schema(admin_api):
    schema = _schema(admin_api)
    answer = schema["paths"]["/api/configs/{slug}/labels/"]["get"]["responses"]["200"]
    assert answer["content"]["application/json"]["schema"]["type"] == "array"


# A failing database -------------------------------------------------------------------

LABEL_OPERATIONS = [
    ("get", f"{URL}?label=production", None),
    ("get", f"{URL}?label=staging&as_of=2030-01-01T00:00:00Z", None),
    ("get", f"{URL}labels/", None),
    ("get", f"{URL}labels/production/", None),
    ("put", f"{URL}labels/production/", {"version": 2}),
    ("get", f"{URL}labels/production/history/", None),
    ("get", f"{URL}versions/", None),
]


@pytest.mark.parametrize(("method", "url", "body"), LABEL_OPERATIONS)
def test_every_label_operation_answers_503_in_json(admin_api, released, method, url, body):
    moves = BotConfigLabelMove.objects.count()

    def fail(execute, sql, params, many, context):
        if "config_versions_" in sql:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(fail):
        response = getattr(admin_api, method)(url, body, format="json")
    assert response.status_code == 503, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "3"
    assert BotConfigLabelMove.objects.count() == moves
    assert getattr(admin_api, method)(url, body, format="json").status_code == 200


def test_a_move_whose_insert_fails_writes_nothing(admin_api, released):
    moves = BotConfigLabelMove.objects.count()
    table = BotConfigLabelMove._meta.db_table

    def fail(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("INSERT") and table in sql:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(fail):
        response = admin_api.put(f"{URL}labels/production/", {"version": 2}, format="json")
    assert response.status_code == 503
    assert BotConfigLabelMove.objects.count() == moves


# Properties -------------------------------------------------------------------------

_NAMES = st.sampled_from(["latest", "staging", "production", "Staging", "canary", ""]) | st.text(
    st.sampled_from("ablnpst-_.: \n\t%+/?#é生\x00") | st.characters(codec="utf-8"), max_size=60
)


@_SETTINGS
@given(name=_NAMES)
def test_any_label_in_the_query_is_served_or_400(admin_api, released, name):
    response = admin_api.get(URL, {"label": name})
    if name in ("latest", "staging", "production"):
        assert response.status_code == 200
        assert response.json()["label"] == name
    else:
        assert response.status_code == 400, (name, response.content)
        assert list(response.json()) == ["label"]


@_SETTINGS
@given(name=_NAMES.filter(lambda name: name not in ("", ".", "..")))
def test_any_label_in_the_path_is_answered_in_json(admin_api, released, name):
    for path in ("labels/{}/", "labels/{}/history/"):
        response = admin_api.get(URL + path.format(quote(name, safe="")))
        if "/" in name:
            continue  # another URL: the site's own 404
        expected = 200 if name in ("staging", "production") else 400
        assert response.status_code == expected, (name, response.content)
        assert response["Content-Type"] == "application/json"


_ZONES = st.builds(
    dt.timezone,
    st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
        lambda minutes: dt.timedelta(minutes=minutes)
    ),
)
_TIMES = st.floats(min_value=T0 - 100, max_value=T0 + 700, allow_nan=False)


@_SETTINGS
@given(
    label=st.sampled_from(["latest", "staging", "production"]),
    when=_TIMES,
    zone=_ZONES,
    zulu=st.booleans(),
)
def test_as_of_serves_what_the_manager_resolves(admin_api, released, label, when, zone, zulu):
    moment = dt.datetime.fromtimestamp(when, tz=zone).replace(microsecond=0)
    text = moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if zulu else None
    response = admin_api.get(URL, {"label": label, "as_of": text or moment.isoformat()})
    expected = released.version_manager.resolve(label, as_of=moment)
    if expected is None:
        assert response.status_code == 404
    else:
        assert response.status_code == 200, response.content
        assert response.json()["version"] == expected.version
        assert response.json()["config"] == expected.config


@_SETTINGS
@given(
    text=st.text(st.sampled_from("0123456789-:T tZz+.") | st.characters(codec="utf-8"), max_size=40)
)
def test_any_as_of_is_answered_never_500(admin_api, released, text):
    response = admin_api.get(URL, {"label": "staging", "as_of": text})
    assert response.status_code in (200, 400, 404), (text, response.content)
    if response.status_code == 400:
        assert list(response.json()) == ["as_of"]
