"""If-Match on reads, per RFC 9110 13.1.1: 412 unless ``*`` or the current strong tag.

It used to be ignored on ``GET``: a client checking that the config is still the one it
holds got a 200 with a newer config.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

URL = "/api/configs/support-bot/"
VERSION = f"{URL}versions/2/"


def _tag(api, path: str) -> str:
    return api.get(path)["ETag"]


@pytest.mark.parametrize("path", [URL, VERSION])
def test_the_current_tag_or_a_star_matches(admin_api, history_bot, path):
    tag = _tag(admin_api, path)
    for header in (tag, "*", f'"other", {tag}', f'W/"x" , {tag}'):
        response = admin_api.get(path, HTTP_IF_MATCH=header)
        assert response.status_code == 200, header
        assert response["ETag"] == tag


@pytest.mark.parametrize("path", [URL, VERSION])
def test_any_other_tag_is_412(admin_api, history_bot, path):
    tag = _tag(admin_api, path)
    for header in ('"v1-0000"', f"W/{tag}", '"a", "b"', tag.replace('"v', '"V')):
        response = admin_api.get(path, HTTP_IF_MATCH=header)
        assert response.status_code == 412, header
        assert tag in response.json()["detail"]


def test_a_stale_config_tag_is_412(admin_api, history_bot):
    before = _tag(admin_api, URL)
    history_bot.version_manager.update({"name": "SupportBot", "v": 4}, reason="newer")
    response = admin_api.get(URL, HTTP_IF_MATCH=before)
    assert response.status_code == 412
    assert response.json()["detail"].startswith(
        "If-Match names no current entity tag of the config"
    )
    # A version's tag is not the config's, and the config's not a version's.
    assert admin_api.get(URL, HTTP_IF_MATCH=_tag(admin_api, VERSION)).status_code == 412
    assert admin_api.get(VERSION, HTTP_IF_MATCH=_tag(admin_api, URL)).status_code == 412


def test_if_match_is_evaluated_before_if_none_match(admin_api, history_bot):
    tag = _tag(admin_api, URL)
    # Both hold: If-None-Match then makes it a 304.
    both = admin_api.get(URL, HTTP_IF_MATCH=tag, HTTP_IF_NONE_MATCH=tag)
    assert (both.status_code, both["ETag"]) == (304, tag)
    # If-Match fails: 412, whatever If-None-Match says.
    assert admin_api.get(URL, HTTP_IF_MATCH='"old"', HTTP_IF_NONE_MATCH=tag).status_code == 412
    versioned = _tag(admin_api, VERSION)
    answer = admin_api.get(VERSION, HTTP_IF_MATCH='"old"', HTTP_IF_NONE_MATCH=versioned)
    assert answer.status_code == 412


def test_a_missing_config_or_version_stays_404(admin_api, history_bot):
    assert admin_api.get("/api/configs/nope/", HTTP_IF_MATCH="*").status_code == 404
    assert admin_api.get(f"{URL}versions/9/", HTTP_IF_MATCH="*").status_code == 404


def test_a_config_without_versions_exists(admin_api, bot):
    tag = _tag(admin_api, URL)
    assert admin_api.get(URL, HTTP_IF_MATCH="*").status_code == 200
    assert admin_api.get(URL, HTTP_IF_MATCH=tag).status_code == 200


@pytest.mark.parametrize("header", ["v3", '"unclosed', "W/", ""])
def test_a_header_without_entity_tags_is_400(admin_api, history_bot, header):
    response = admin_api.get(URL, HTTP_IF_MATCH=header)
    assert response.status_code == 400
    assert "If-Match" in response.json()["detail"]


def test_the_browsable_api_has_no_tag_to_match(admin_api, history_bot):
    tag = _tag(admin_api, URL)
    html = {"HTTP_ACCEPT": "text/html"}
    assert admin_api.get(URL, HTTP_IF_MATCH=tag, **html).status_code == 412
    assert admin_api.get(URL, HTTP_IF_MATCH="*", **html).status_code == 200


def test_the_schema_declares_if_match_and_412_on_reads(admin_api):
    schema = admin_api.get("/api/schema/?format=json").json()
    for path in ("/api/configs/{slug}/", "/api/configs/{slug}/versions/{version}/"):
        get = schema["paths"][path]["get"]
        assert "If-Match" in {p["name"] for p in get["parameters"] if p["in"] == "header"}
        assert {"200", "304", "400", "412"} <= set(get["responses"])


_OPAQUE = st.text(
    st.characters(min_codepoint=0x23, max_codepoint=0x7E, exclude_characters=","), max_size=12
)
_TAG = st.builds(lambda weak, text: f'{"W/" if weak else ""}"{text}"', st.booleans(), _OPAQUE)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    others=st.lists(_TAG, min_size=1, max_size=4),
    insert_at=st.none() | st.integers(min_value=0, max_value=4),
    path=st.sampled_from([URL, VERSION]),
)
def test_if_match_holds_only_for_the_current_strong_tag(
    admin_api, history_bot, others, insert_at, path
):
    current = _tag(admin_api, path)
    tags = list(others)
    if insert_at is not None:
        tags.insert(insert_at, current)
    response = admin_api.get(path, HTTP_IF_MATCH=" , ".join(tags))
    expected = 200 if current in tags else 412
    assert response.status_code == expected, (tags, response.content)
