"""The OpenAPI schema declares what the server enforces on text, and the 400s it gives.

Before: ``name`` had no ``minLength`` (a blank name was schema-valid and refused), no
pattern kept NUL out, and ``maxLength`` was measured after trimming (" " + 200 letters
passed a 200-character limit); a slug with a leading space was trimmed into a valid one.
Property tests tie the declared schema to the server's answers.
"""

from __future__ import annotations

import itertools
import re

import jsonschema
import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config_versions.api.schema import NO_NUL, NOT_BLANK_NO_NUL, WHITESPACE
from config_versions.models import BotConfig

pytestmark = pytest.mark.django_db

URL = "/api/configs/support-bot/"
LIMITS = {"MAX_REASON_LENGTH": 30, "MAX_DESCRIPTION_LENGTH": 30}
_SETTINGS = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# The characters where the server and a careless schema would disagree: NUL, whitespace
# that str.strip() removes (ASCII and not), and some it keeps (U+FEFF, U+200B).
_EDGES = "\x00 \t\n\x0b\x1c\x85\xa0\u2003\u3000\ufeff\u200bab"
_TEXT = st.text(st.sampled_from(_EDGES) | st.characters(codec="utf-8"), max_size=34)
_slugs = (f"s{n}" for n in itertools.count())


def _schema(api) -> dict:
    return api.get("/api/schema/?format=json").json()


def _property(schema: dict, component: str, name: str) -> jsonschema.Validator:
    return jsonschema.Draft202012Validator(
        schema["components"]["schemas"][component]["properties"][name]
    )


def test_the_whitespace_class_is_what_strip_removes():
    spelled = re.compile(f"[{WHITESPACE}]")
    everything = (chr(code) for code in range(0x110000) if not 0xD800 <= code <= 0xDFFF)
    assert {c for c in everything if spelled.fullmatch(c)} == {
        chr(code) for code in range(0x110000) if chr(code).isspace()
    }


@override_settings(CONFIG_VERSIONS=LIMITS)
def test_text_fields_declare_their_rules(admin_api):
    schemas = _schema(admin_api)["components"]["schemas"]
    name = schemas["BotConfigCreate"]["properties"]["name"]
    assert (name["minLength"], name["maxLength"], name["pattern"]) == (1, 200, NOT_BLANK_NO_NUL)
    slug = schemas["BotConfigCreate"]["properties"]["slug"]
    assert (slug["maxLength"], slug["pattern"]) == (100, "^[-a-zA-Z0-9_]+$")
    for component, field, limit in [
        ("BotConfigCreate", "description", 30),
        ("BotConfigCreate", "reason", 30),
        ("VersionWrite", "reason", 30),
        ("Rollback", "reason", 30),
    ]:
        text, blank = schemas[component]["properties"][field]["oneOf"]
        assert text == {"type": "string", "maxLength": limit, "pattern": NO_NUL}
        assert blank == {"type": "string", "maxLength": 0}


def test_length_limits_apply_to_the_text_as_sent(admin_api, history_bot):
    padded = " " + "n" * 200  # 200 once trimmed
    response = admin_api.post(
        "/api/configs/", {"name": padded, "slug": "b", "config": {}}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"name": ["Ensure this field has no more than 200 characters."]}
    with override_settings(CONFIG_VERSIONS=LIMITS):
        response = admin_api.put(URL, {"config": {"n": 1}, "reason": f" {'r' * 30}"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"reason": ["Ensure this field has no more than 30 characters."]}


def test_a_slug_is_not_trimmed_into_one(admin_api, db):
    for slug in (" bot", "bot\n", "bot "):
        response = admin_api.post(
            "/api/configs/", {"name": "B", "slug": slug, "config": {}}, format="json"
        )
        assert response.status_code == 400, slug
        assert "slug" in response.json()


@_SETTINGS
@given(name=_TEXT)
def test_a_name_is_accepted_exactly_when_the_schema_says(admin_api, name):
    valid = _property(_schema_cache(admin_api), "BotConfigCreate", "name").is_valid(name)
    body = {"name": name, "slug": next(_slugs), "config": {}}
    response = admin_api.post("/api/configs/", body, format="json")
    assert response.status_code == (201 if valid else 400), (name, response.content)


@_SETTINGS
@given(reason=_TEXT, description=_TEXT)
def test_reasons_and_descriptions_are_accepted_exactly_when_the_schema_says(
    admin_api, reason, description
):
    with override_settings(CONFIG_VERSIONS=LIMITS):
        schema = _schema_cache(admin_api, limited=True)
        valid = _property(schema, "BotConfigCreate", "reason").is_valid(reason) and _property(
            schema, "BotConfigCreate", "description"
        ).is_valid(description)
        body = {
            "name": "N",
            "slug": next(_slugs),
            "config": {},
            "reason": reason,
            "description": description,
        }
        response = admin_api.post("/api/configs/", body, format="json")
    assert response.status_code == (201 if valid else 400), (reason, description, response.content)


_CACHE: dict[bool, dict] = {}


def _schema_cache(api, *, limited: bool = False) -> dict:
    # One schema per limit setting: generating it for every example would be slow.
    if limited not in _CACHE:
        _CACHE[limited] = _schema(api)
    return _CACHE[limited]


def test_every_operation_declares_the_400_of_a_repeated_parameter(admin_api, history_bot):
    schema = _schema(admin_api)
    for path, operations in schema["paths"].items():
        if path == "/api/schema/":  # drf-spectacular's own view, listed by the test settings
            continue
        for method, operation in operations.items():
            assert "400" in operation["responses"], (method, path)
            if method != "get":
                continue
            concrete = path.replace("{slug}", "support-bot").replace("{version}", "1")
            response = admin_api.get(f"{concrete}?x=1&x=2")
            assert response.status_code == 400, path
            assert response.json() == {"detail": "Give each query parameter once: x repeated."}


def test_the_description_rule_is_the_models(writer_api):
    """The API refuses what the admin refuses, through the same check."""
    # (An unpaired surrogate escape never gets this far: the JSON parser refuses it.)
    for escaped in ("a\\u0000b", "x" * 10_001):
        body = '{"name": "Bot", "slug": "described", "config": {}, "description": "%s"}'
        response = writer_api.post("/api/configs/", body % escaped, content_type="application/json")
        assert response.status_code == 400, escaped
        assert list(response.json()) == ["description"], response.json()
    assert not BotConfig.objects.filter(slug="described").exists()
