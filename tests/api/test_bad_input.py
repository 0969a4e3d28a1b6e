"""Every kind of bad input gets a 4xx that says what is wrong, and nothing is written.

One table; the suite runs it on SQLite, PostgreSQL and MariaDB (PostgreSQL is the one
that cannot store NUL characters, MariaDB the one with the narrowest JSON support).
"""

from __future__ import annotations

import json

import pytest
from django.test import override_settings

from config_versions.api.parsers import max_body_bytes
from config_versions.models import BotConfig, BotConfigVersion

pytestmark = pytest.mark.django_db

URL = "/api/configs/support-bot/"
ROLLBACK = f"{URL}rollback/"
CREATE = "/api/configs/"


def nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def body(**fields) -> bytes:
    return json.dumps(fields).encode()


SMALL_LIMITS = {"MAX_CONFIG_BYTES": 200, "MAX_DEPTH": 8}

# (id, method, path, raw body or None, status, a fragment of the answer)
CASES = [
    # The body is not JSON, or not JSON we accept.
    ("malformed", "put", URL, b'{"config": ', 400, "JSON parse error"),
    ("not utf-8", "put", URL, b'{"config": {"a": "\xff"}}', 400, "not text"),
    ("NaN", "put", URL, b'{"config": {"a": NaN}}', 400, "NaN is not valid JSON"),
    ("Infinity", "put", URL, b'{"config": {"a": Infinity}}', 400, "Infinity is not valid"),
    ("-Infinity", "put", URL, b'{"config": {"a": -Infinity}}', 400, "-Infinity is not valid"),
    ("overflowing float", "put", URL, b'{"config": {"a": 1e400}}', 400, "not valid JSON data"),
    ("lone surrogate", "put", URL, b'{"config": {"a": "\\ud800"}}', 400, "unpaired surrogate"),
    ("lone surrogate in a key", "put", URL, b'{"config": {"\\udc00": 1}}', 400, "surrogate"),
    ("deep beyond the parser", "put", URL, b"[" * 60_000, 400, "nested too deeply"),
    ("body not an object", "put", URL, b"[1, 2]", 400, "Expected a dictionary"),
    ("empty body", "put", URL, b"", 400, "config: This field is required"),
    # The config is not a storable JSON object.
    ("config missing", "put", URL, body(reason="x"), 400, "config: This field is required"),
    ("config an array", "put", URL, body(config=[1]), 400, "not an array"),
    ("config a string", "put", URL, body(config="{}"), 400, "not a string"),
    ("config null", "put", URL, body(config=None), 400, "may not be null"),
    ("NUL in a value", "put", URL, body(config={"a": ["x\x00"]}), 400, "/a/0: contains a NUL"),
    ("NUL in a key", "put", URL, body(config={"k\x00": 1}), 400, "contains a NUL"),
    ("NUL in the reason", "put", URL, body(config={}, reason="a\x00"), 400, "Null characters"),
    ("over the size limit", "put", URL, body(config={"a": "x" * 300}), 400, "larger than"),
    ("over the depth limit", "put", URL, body(config=nested(9)), 400, "deeper than the limit"),
    ("body far too large", "put", URL, None, 413, "larger than"),
    # JSON types the schema does not promise (DRF alone would turn 0 into "0" and back).
    ("reason a number", "put", URL, body(config={}, reason=0), 400, "reason: Must be a string"),
    ("name a number", "post", CREATE, body(name=0, slug="b", config={}), 400, "name: Must be"),
    ("slug a number", "post", CREATE, body(name="B", slug=7, config={}), 400, "slug: Must be"),
    ("to_version a string", "post", ROLLBACK, body(to_version="1"), 400, "Must be an integer"),
    # Version numbers that are not positive integers.
    ("expected_version -1", "put", URL, body(config={}, expected_version=-1), 400, "greater"),
    ("expected_version text", "put", URL, body(config={}, expected_version="3"), 400, "not a st"),
    ("expected_version bool", "put", URL, body(config={}, expected_version=True), 400, "boolean"),
    ("expected_version 1.5", "put", URL, body(config={}, expected_version=1.5), 400, "integer"),
    ("expected_version huge", "put", URL, body(config={}, expected_version=10**20), 400, "less"),
    ("to_version 0", "post", ROLLBACK, body(to_version=0), 400, "greater than or equal to 1"),
    ("to_version 1.5", "post", ROLLBACK, body(to_version=1.5), 400, "A valid integer"),
    ("to_version missing", "post", ROLLBACK, body(), 400, "to_version: This field is required"),
    ("to_version unknown", "post", ROLLBACK, body(to_version=99), 404, "Version 99 not found"),
    ("limit -1", "get", f"{URL}versions/?limit=-1", None, 400, "limit: Ensure"),
    ("limit 0", "get", f"{URL}versions/?limit=0", None, 400, "limit: Ensure"),
    ("limit text", "get", f"{URL}versions/?limit=ten", None, 400, "limit: A valid integer"),
    ("since_version -1", "get", f"{URL}versions/?since_version=-1", None, 400, "since_version"),
    ("page text", "get", f"{URL}versions/?page=abc", None, 400, "page: A valid integer"),
    ("page empty", "get", f"{URL}versions/?page=", None, 400, "page: Give a number"),
    ("page last", "get", f"{URL}versions/?page=last", None, 400, "page: A valid integer"),
    ("page 0", "get", f"{URL}versions/?page=0", None, 400, "page: Ensure"),
    ("page past the last", "get", f"{URL}versions/?page=2", None, 404, "Invalid page"),
    ("page twice", "get", "/api/configs/?page=2&page=", None, 400, "once: page repeated"),
    ("limit twice", "get", f"{URL}versions/?limit=-1&limit=2", None, 400, "once: limit"),
    ("from_version text", "get", f"{URL}diff/?from_version=abc", None, 400, "from_version: A"),
    ("to_version 0", "get", f"{URL}diff/?to_version=0", None, 400, "to_version: Ensure"),
    ("diff unknown", "get", f"{URL}diff/?from_version=1&to_version=9", None, 404, "Version 9"),
    ("version 0", "get", f"{URL}versions/0/", None, 400, "version: Ensure"),
    ("version -1", "get", f"{URL}versions/-1/", None, 400, "version: Ensure"),
    ("version text", "get", f"{URL}versions/abc/", None, 400, "version: A valid integer"),
    ("version 1.5", "get", f"{URL}versions/1.5/", None, 400, "version: A valid integer"),
    ("version huge", "get", f"{URL}versions/99999999999999999999/", None, 400, "less than"),
    ("version unknown", "get", f"{URL}versions/4/", None, 404, "Version 4 not found"),
    # Creating configs.
    ("duplicate slug", "post", CREATE, body(name="B", slug="support-bot", config={}), 400, "slug"),
    ("bad slug", "post", CREATE, body(name="B", slug="a b", config={}), 400, "slug: Enter a"),
    ("long name", "post", CREATE, body(name="n" * 201, slug="b", config={}), 400, "name: Ensure"),
    ("NUL in a name", "post", CREATE, body(name="\x00", slug="b", config={}), 400, "Null char"),
    ("create w/o config", "post", CREATE, body(name="B", slug="b"), 400, "config: This field"),
    ("create bad config", "post", CREATE, body(name="B", slug="b", config=[]), 400, "an array"),
]


def _flatten(answer: dict) -> str:
    # "field: message" for every message, so one substring test fits both shapes.
    parts = []
    for key, value in answer.items():
        messages = value if isinstance(value, list) else [value]
        parts += [str(m) if key == "detail" else f"{key}: {m}" for m in messages]
    return " | ".join(parts)


@override_settings(CONFIG_VERSIONS=SMALL_LIMITS)
@pytest.mark.parametrize(
    ("method", "path", "raw", "status", "fragment"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_input(admin_api, history_bot, method, path, raw, status, fragment):
    if raw is None and status == 413:
        raw = b" " * (max_body_bytes() + 1)
    before = list(BotConfigVersion.objects.values_list("pk", flat=True))
    if raw is None:
        response = getattr(admin_api, method)(path)
    else:
        response = admin_api.generic(method.upper(), path, raw, content_type="application/json")
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    assert fragment in _flatten(response.json())
    assert list(BotConfigVersion.objects.values_list("pk", flat=True)) == before
    assert list(BotConfig.objects.values_list("slug", flat=True)) == ["support-bot"]


def test_other_media_types_are_415(admin_api, history_bot):
    response = admin_api.generic("PUT", URL, b"config=1", content_type="text/plain")
    assert response.status_code == 415
    assert "Unsupported media type" in response.json()["detail"]
    assert history_bot.versions.count() == 3
