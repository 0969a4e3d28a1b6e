"""Bad input to the proposal endpoints: each is a 400 naming the field (404 for a base
version the config does not have), nothing is written, and no body gets a 500."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.proposals_setup import (
    PROPOSALS,
    SITE,
    apply,
    approved,
    edited,
    make_team,
    propose,
    recorded,
    review,
    revise,
    start,
)

pytestmark = pytest.mark.django_db

_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(autouse=True)
def _site(settings):
    settings.CONFIG_VERSIONS = SITE


@pytest.fixture
def team(client_for):
    return make_team(client_for)


@pytest.fixture
def started(bot):
    return start(bot)


def _fields(response) -> list[str]:
    assert response.status_code == 400, response.content
    return sorted(response.json())


@pytest.mark.parametrize("config", [[], "x", 1, 1.5, None, True, [{"a": 1}]])
def test_a_config_that_is_not_an_object_is_400(team, started, config):
    assert _fields(propose(team.author, config)) == ["config"]
    propose(team.author, edited(model="x"))
    assert _fields(revise(team.author, 1, config)) == ["config"]
    assert recorded() == 1


def test_a_config_the_manager_refuses_is_400_naming_config(team, started, settings):
    assert _fields(propose(team.author, {"a": "nul \u0000 inside"})) == ["config"]
    deep: dict = {}
    node = deep
    for _ in range(200):
        node["x"] = {}
        node = node["x"]
    assert _fields(propose(team.author, deep)) == ["config"]
    settings.CONFIG_VERSIONS = {**SITE, "MAX_CONFIG_BYTES": 50}
    assert _fields(propose(team.author, {"prompt": "x" * 100})) == ["config"]
    assert recorded() == 0


@pytest.mark.parametrize(
    "base_version", ["1", "one", 0, -1, True, False, None, 1.5, 2**31, 10**30, 1e300, [], {}]
)
def test_a_base_version_that_is_not_a_version_number_is_400(team, started, base_version):
    assert _fields(propose(team.author, edited(model="x"), base_version)) == ["base_version"]
    propose(team.author, edited(model="x"))
    assert _fields(revise(team.author, 1, edited(model="y"), base_version)) == ["base_version"]
    assert recorded() == 1


def test_a_base_version_is_required(team, started):
    response = team.author.post(PROPOSALS, {"config": edited(model="x")}, format="json")
    assert _fields(response) == ["base_version"]
    assert response.json()["base_version"] == ["This field is required."]


def test_a_base_version_the_config_does_not_have_is_404(team, started):
    response = propose(team.author, edited(model="x"), 2)
    assert response.status_code == 404
    assert response.json() == {
        "detail": "Version 2 not found: base_version must be a version of this config."
    }
    propose(team.author, edited(model="x"))
    assert revise(team.author, 1, edited(model="y"), 7).status_code == 404
    assert recorded() == 1


def test_a_config_without_versions_has_no_base(team, bot):
    assert propose(team.author, {"a": 1}, 1).status_code == 404
    assert recorded() == 0


@pytest.mark.parametrize("label", ["latest", "canary", "Production", "", " staging", 5, [], {}])
def test_a_label_the_site_does_not_declare_is_400(team, started, label):
    assert _fields(propose(team.author, edited(model="x"), label=label)) == ["label"]
    assert recorded() == 0


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"reason": "x" * 11}, "reason"),
        ({"reason": "nul \u0000"}, "reason"),
        ({"reason": 5}, "reason"),
        ({"reason": None}, "reason"),
    ],
)
def test_reasons_are_checked(team, started, settings, fields, named):
    settings.CONFIG_VERSIONS = {**SITE, "MAX_REASON_LENGTH": 10}
    assert _fields(propose(team.author, edited(model="x"), **fields)) == [named]
    number = approved(team, edited(model="y"))
    assert _fields(apply(team.lead, number, **fields)) == [named]
    assert _fields(team.author.post(f"{PROPOSALS}{number}/withdraw/", fields, format="json")) == [
        named
    ]
    assert recorded() == 2


@pytest.mark.parametrize("decision", ["approved", "APPROVE", "accept", "", None, 1, True, []])
def test_an_unknown_decision_is_400(team, started, decision):
    propose(team.author, edited(model="x"))
    assert _fields(review(team.reviewer, 1, decision)) == ["decision"]
    assert _fields(team.reviewer.post(f"{PROPOSALS}1/reviews/", {}, format="json")) == ["decision"]
    assert recorded() == 1


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"comment": "x" * 10_001}, "comment"),
        ({"comment": 3}, "comment"),
        ({"comment": "nul \u0000"}, "comment"),
        ({"revision": 0}, "revision"),
        ({"revision": "1"}, "revision"),
        ({"revision": True}, "revision"),
        ({"revision": 2**31}, "revision"),
    ],
)
def test_review_fields_are_checked(team, started, fields, named):
    propose(team.author, edited(model="x"))
    assert _fields(review(team.reviewer, 1, **fields)) == [named]
    assert recorded() == 1


def test_a_comment_at_the_limit_is_kept(team, started):
    propose(team.author, edited(model="x"))
    comment = "é" * 10_000
    assert review(team.reviewer, 1, comment=comment).json()["reviews"][0]["comment"] == comment


@pytest.mark.parametrize(
    "number", ["0", "-1", "abc", "1.0", "+1", "\u0661", "\uff11", "9" * 30, " 1"]
)
def test_a_proposal_number_that_is_not_one_is_400(team, started, number):
    approved(team, edited(model="x"))
    base = f"{PROPOSALS}{number}/"
    for response in (
        team.viewer.get(base),
        team.reviewer.post(f"{base}reviews/", {"decision": "approve"}, format="json"),
        team.lead.post(f"{base}apply/", {}, format="json"),
        team.author.post(f"{base}withdraw/", {}, format="json"),
        team.author.post(f"{base}revisions/", {"config": {}, "base_version": 1}, format="json"),
    ):
        assert _fields(response) == ["id"]
    assert recorded() == 2


@pytest.mark.parametrize("status", ["OPEN", "", "pending", "open ", "0"])
def test_an_unknown_status_is_400(team, started, status):
    response = team.viewer.get(PROPOSALS, {"status": status})
    assert _fields(response) == ["status"]


def test_a_repeated_parameter_is_400(team, started):
    response = team.viewer.get(f"{PROPOSALS}?status=open&status=applied")
    assert response.status_code == 400
    assert "status repeated" in response.json()["detail"]


@pytest.mark.parametrize("page", ["0", "", "x", "-1"])
def test_a_bad_page_is_400(team, started, page):
    assert _fields(team.viewer.get(PROPOSALS, {"page": page})) == ["page"]


def test_bodies_that_are_not_json_objects(team, started):
    approved(team, edited(model="x"))
    for url, api in (
        (PROPOSALS, team.author),
        (f"{PROPOSALS}1/reviews/", team.second_reviewer),
        (f"{PROPOSALS}1/apply/", team.lead),
        (f"{PROPOSALS}1/withdraw/", team.author),
        (f"{PROPOSALS}1/revisions/", team.author),
    ):
        assert api.post(url, "{", content_type="application/json").status_code == 400, url
        assert api.post(url, "[]", content_type="application/json").status_code == 400, url
        assert api.post(url, "a=1", content_type="text/plain").status_code == 415, url
        lone = '{"reason": "\\ud800", "decision": "approve", "config": {}, "base_version": 1}'
        assert api.post(url, lone, content_type="application/json").status_code == 400, url
    assert recorded() == 2


def test_apply_and_withdraw_take_an_empty_body(team, started):
    number = approved(team, edited(model="x"))
    assert team.lead.post(f"{PROPOSALS}{number}/apply/").status_code == 201
    propose(team.author, edited(model="y"))
    assert team.author.post(f"{PROPOSALS}2/withdraw/").status_code == 200


# No body gets a 500 -------------------------------------------------------------------

_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)
_FIELD_VALUES = (
    _JSON
    | st.sampled_from(["approve", "reject", "staging", "production", "latest", 1, 0, -1])
    | st.dictionaries(st.text(max_size=3), _JSON, max_size=2)
)
_BODIES = st.fixed_dictionaries(
    {},
    optional={
        name: _FIELD_VALUES
        for name in ("config", "base_version", "reason", "label", "decision", "comment", "revision")
    },
)


@pytest.fixture
def proposed(started):
    """Proposal 1, by ann, for the bodies to reach (until one applies or withdraws it)."""
    started.version_manager.propose(edited(model="x"), 1, created_by="ann")
    return started


@_SETTINGS
@given(
    body=_BODIES | _JSON,
    step=st.sampled_from(["", "reviews/", "apply/", "withdraw/", "revisions/"]),
)
def test_any_body_is_answered_never_500(admin_api, proposed, body, step):
    url = PROPOSALS if step == "" else f"{PROPOSALS}1/{step}"
    response = admin_api.post(url, body, format="json")
    assert response.status_code in (200, 201, 400, 403, 404, 409), (body, response.content)
    if response.status_code == 400:
        assert response.json()
