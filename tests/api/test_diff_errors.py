"""A ``diff/`` 404 names the versions the client sent, never one derived from them.

``?to_version=9`` alone on a config with three versions used to answer "Version 8 not
found": the default from_version (to_version - 1), which the client never sent.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

DIFF = "/api/configs/support-bot/diff/"


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("to_version=9", "Version 9 not found."),
        ("from_version=7", "Version 7 not found."),
        ("from_version=1&to_version=9", "Version 9 not found."),
        ("from_version=9&to_version=2", "Version 9 not found."),
        ("from_version=7&to_version=9", "Versions 7 and 9 not found."),
        ("from_version=8&to_version=8", "Version 8 not found."),
        ("to_version=4", "Version 4 not found."),
    ],
)
def test_the_404_names_what_was_sent(admin_api, history_bot, query, detail):
    response = admin_api.get(f"{DIFF}?{query}")
    assert response.status_code == 404
    assert response.json() == {"detail": detail}


def test_a_config_without_versions(admin_api, bot):
    assert admin_api.get(DIFF).json() == {"detail": "The config has no versions yet."}
    assert admin_api.get(f"{DIFF}?to_version=2").json() == {"detail": "Version 2 not found."}
    assert admin_api.get(f"{DIFF}?from_version=1").json() == {"detail": "Version 1 not found."}


def test_the_defaults_still_apply(admin_api, history_bot):
    body = admin_api.get(f"{DIFF}?from_version=1").json()
    assert (body["from_version"], body["to_version"]) == (1, 3)
    body = admin_api.get(f"{DIFF}?to_version=1").json()
    assert (body["from_version"], body["to_version"]) == (1, 1)


_NUMBER = st.none() | st.integers(min_value=1, max_value=12)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(from_version=_NUMBER, to_version=_NUMBER)
def test_only_sent_versions_are_named(admin_api, history_bot, from_version, to_version):
    sent = {"from_version": from_version, "to_version": to_version}
    query = "&".join(f"{name}={n}" for name, n in sent.items() if n is not None)
    response = admin_api.get(f"{DIFF}?{query}")
    missing = sorted({n for n in sent.values() if n is not None and n > 3})
    if not missing:
        assert response.status_code == 200
        return
    assert response.status_code == 404
    named = [int(word) for word in response.json()["detail"].split() if word.isdigit()]
    assert named == missing
