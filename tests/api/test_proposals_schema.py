"""The proposal endpoints in the OpenAPI schema (valid, every answer documented, the
answers given match it), and on a failing database: JSON 503 when nothing was recorded,
never a 5xx once a step was."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from django.core.management import call_command
from django.db import OperationalError, connection
from django.test import override_settings

from config_versions.models import BotConfigProposal, BotConfigProposalEvent, BotConfigVersion
from tests.api import test_db_errors as db_errors
from tests.api.proposals_setup import (
    OPERATIONS,
    PROPOSALS,
    SITE,
    URL,
    apply,
    approved,
    edited,
    make_team,
    operations_ready,
    propose,
    recorded,
    review,
    start,
    withdraw,
)

pytestmark = pytest.mark.django_db

PROPOSAL_PATHS = {
    "/api/configs/{slug}/proposals/": {"get", "post"},
    "/api/configs/{slug}/proposals/{id}/": {"get"},
    "/api/configs/{slug}/proposals/{id}/reviews/": {"post"},
    "/api/configs/{slug}/proposals/{id}/apply/": {"post"},
    "/api/configs/{slug}/proposals/{id}/withdraw/": {"post"},
    "/api/configs/{slug}/proposals/{id}/revisions/": {"post"},
}


@pytest.fixture(autouse=True)
def _site(settings):
    settings.CONFIG_VERSIONS = SITE


@pytest.fixture
def schema(admin_api) -> dict:
    response = admin_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return json.loads(response.content)


# The schema ------------------------------------------------------------------------


def test_the_schema_validates_and_lists_the_proposal_endpoints(tmp_path: Path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    paths = yaml.safe_load(out.read_text())["paths"]
    for path, methods in PROPOSAL_PATHS.items():
        assert set(paths[path]) == methods, path


@override_settings(CONFIG_VERSIONS={})
def test_the_proposal_endpoints_are_there_without_labels_or_review(schema):
    assert set(PROPOSAL_PATHS) <= set(schema["paths"])


def _ref(schema: dict, answer: dict) -> dict:
    ref = answer["content"]["application/json"]["schema"]["$ref"]
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]]


def test_every_answer_is_documented(schema):
    paths = schema["paths"]
    expected = {
        ("/api/configs/{slug}/proposals/", "get"): {"200", "400", "401", "403", "404", "410"},
        ("/api/configs/{slug}/proposals/", "post"): {
            "201", "400", "401", "403", "404", "410", "413", "415",
        },
        ("/api/configs/{slug}/proposals/{id}/", "get"): {"200", "400", "401", "403", "404", "410"},
        ("/api/configs/{slug}/proposals/{id}/reviews/", "post"): {
            "201", "400", "401", "403", "404", "409", "410", "413", "415",
        },
        ("/api/configs/{slug}/proposals/{id}/apply/", "post"): {
            "201", "400", "401", "403", "404", "409", "410", "413", "415",
        },
        ("/api/configs/{slug}/proposals/{id}/withdraw/", "post"): {
            "200", "400", "401", "403", "404", "409", "410", "413", "415",
        },
        ("/api/configs/{slug}/proposals/{id}/revisions/", "post"): {
            "201", "400", "401", "403", "404", "409", "410", "413", "415",
        },
    }  # fmt: skip
    for (path, method), statuses in expected.items():
        operation = paths[path][method]
        assert set(operation["responses"]) == statuses | {"503"}, (path, method)
        assert set(operation["responses"]["503"]["headers"]) == {"Retry-After"}
        if path.endswith("{id}/") or "{id}/" in path:
            [number] = [p for p in operation["parameters"] if p["name"] == "id"]
            assert number["in"] == "path"
            assert number["schema"] == {"type": "integer", "minimum": 1, "maximum": 2147483647}
    for path in ("/api/configs/{slug}/proposals/", "/api/configs/{slug}/proposals/{id}/reviews/"):
        assert set(paths[path]["post"]["responses"]["201"]["headers"]) == {"Location"}
    [status] = [
        p
        for p in paths["/api/configs/{slug}/proposals/"]["get"]["parameters"]
        if p["name"] == "status"
    ]
    assert status["schema"]["enum"] == ["open", "approved", "rejected", "applied", "withdrawn"]


def test_the_bodies_are_documented(schema):
    paths = schema["paths"]
    create = paths["/api/configs/{slug}/proposals/"]["post"]
    body = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    propose_body = schema["components"]["schemas"][body.rsplit("/", 1)[1]]
    assert sorted(propose_body["required"]) == ["base_version", "config"]
    assert propose_body["properties"]["base_version"]["minimum"] == 1
    label = propose_body["properties"]["label"]
    assert label["nullable"] is True
    [enum] = label["allOf"]
    assert schema["components"]["schemas"][enum["$ref"].rsplit("/", 1)[1]]["enum"] == [
        "staging",
        "production",
    ]
    proposal = _ref(schema, create["responses"]["201"])
    assert set(proposal["properties"]) == {
        "id", "status", "author", "label", "base_version", "revision", "reason", "config",
        "created_at", "updated_at", "approvals", "required_approvals", "reviews", "revisions",
        "applied_version", "url",
    }  # fmt: skip
    detail = _ref(schema, paths["/api/configs/{slug}/proposals/{id}/"]["get"]["responses"]["200"])
    assert {"current_version", "diff_from_base", "diff_from_current", "merge_preview"} <= set(
        detail["properties"]
    )
    review_post = paths["/api/configs/{slug}/proposals/{id}/reviews/"]["post"]
    ref = review_post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    decision = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]["decision"]
    assert schema["components"]["schemas"][decision["$ref"].rsplit("/", 1)[1]]["enum"] == [
        "approve",
        "reject",
    ]
    applied = paths["/api/configs/{slug}/proposals/{id}/apply/"]["post"]["responses"]
    assert set(_ref(schema, applied["201"])["properties"]) == {
        "proposal",
        "version",
        "version_created",
        "label",
        "merged_onto",
    }
    conflict = _ref(schema, applied["409"])
    assert len(conflict["oneOf"]) == 2


def test_the_label_move_documents_the_review_409(schema):
    put = schema["paths"]["/api/configs/{slug}/labels/{label}/"]["put"]
    conflict = _ref(schema, put["responses"]["409"])
    refs = {one["$ref"].rsplit("/", 1)[1] for one in conflict["oneOf"]}
    assert refs == {"Conflict", "ReviewRequired"}
    config_put = schema["paths"]["/api/configs/{slug}/"]["put"]
    assert "bypass_review_botconfig" in config_put["responses"]["403"]["description"]
    rollback = schema["paths"]["/api/configs/{slug}/rollback/"]["post"]
    assert "bypass_review_botconfig" in rollback["responses"]["403"]["description"]


# The answers match the schema ----------------------------------------------------------


def _nullable(node: Any) -> Any:
    """OpenAPI 3.0's ``nullable`` as JSON Schema says it (jsonschema ignores the word)."""
    if isinstance(node, list):
        return [_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _nullable(value) for key, value in node.items()}
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


def _conforms(schema: dict, path: str, method: str, response: Any) -> None:
    answer = schema["paths"][path][method]["responses"][str(response.status_code)]
    document = _nullable(copy.deepcopy(schema))
    validator = jsonschema.Draft202012Validator(
        {**answer["content"]["application/json"]["schema"], "components": document["components"]}
    )
    errors = [e.message for e in validator.iter_errors(response.json())]
    assert not errors, (path, method, response.status_code, errors)


P = "/api/configs/{slug}/proposals/"


def test_the_answers_given_match_the_schema(schema, client_for, bot):
    start(bot)
    team = make_team(client_for)
    made = propose(team.author, edited(model="claude"), label="production", reason="é")
    _conforms(schema, P, "post", made)
    _conforms(schema, P, "post", propose(team.viewer, edited(model="x")))  # 403
    _conforms(schema, P, "post", propose(team.author, edited(model="x"), 9))  # 404
    _conforms(schema, P, "post", propose(team.author, [], "x"))  # 400
    _conforms(schema, f"{P}{{id}}/reviews/", "post", review(team.reviewer, 1, comment="ok"))
    _conforms(schema, f"{P}{{id}}/reviews/", "post", review(team.author, 1))  # 403
    _conforms(schema, f"{P}{{id}}/", "get", team.viewer.get(f"{PROPOSALS}1/"))
    _conforms(schema, f"{P}{{id}}/", "get", team.viewer.get(f"{PROPOSALS}7/"))  # 404
    _conforms(schema, f"{P}{{id}}/", "get", team.viewer.get(f"{PROPOSALS}x/"))  # 400
    _conforms(schema, P, "get", team.viewer.get(PROPOSALS))
    _conforms(schema, P, "get", team.viewer.get(PROPOSALS, {"status": "nope"}))  # 400
    bot.version_manager.update(edited(model="gpt-5"))
    conflicting = apply(team.lead, 1)
    assert conflicting.status_code == 409
    _conforms(schema, f"{P}{{id}}/apply/", "post", conflicting)
    second = approved(team, edited(prompt="Be brief."), 1, label="production")
    _conforms(schema, f"{P}{{id}}/", "get", team.viewer.get(f"{PROPOSALS}{second}/"))
    merged = apply(team.lead, second)
    assert merged.status_code == 201
    _conforms(schema, f"{P}{{id}}/apply/", "post", merged)
    again = apply(team.lead, second)
    assert again.status_code == 409
    _conforms(schema, f"{P}{{id}}/apply/", "post", again)
    revised = team.author.post(
        f"{PROPOSALS}1/revisions/", {"config": edited(model="c"), "base_version": 3}, format="json"
    )
    _conforms(schema, f"{P}{{id}}/revisions/", "post", revised)
    _conforms(schema, f"{P}{{id}}/withdraw/", "post", withdraw(team.author, 1))
    _conforms(schema, f"{P}{{id}}/withdraw/", "post", withdraw(team.author, 1))  # 409
    label_put = team.lead.put(f"{URL}labels/production/", {"version": 1}, format="json")
    assert label_put.status_code == 409
    _conforms(schema, "/api/configs/{slug}/labels/{label}/", "put", label_put)


# A failing database -----------------------------------------------------------------------

EVENTS = BotConfigProposalEvent._meta.db_table
SUMMARIES = BotConfigProposal._meta.db_table


@contextmanager
def failing(when: Callable[[str], bool]) -> Iterator[None]:
    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if when(sql):
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield


def _state() -> tuple[int, list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    return (
        recorded(),
        list(
            BotConfigProposal.objects.order_by("number").values_list("number", "status", "revision")
        ),
        list(BotConfigVersion.objects.order_by("version").values_list("version", "chain_hash")),
    )


@pytest.mark.parametrize(("method", "url", "body"), OPERATIONS)
def test_every_proposal_operation_answers_503_in_json(admin_api, bot, method, url, body):
    operations_ready(bot)
    before = _state()
    with failing(lambda sql: "config_versions_" in sql):
        response = getattr(admin_api, method)(url, body, format="json")
    assert response.status_code == 503, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "3"
    assert _state() == before
    assert getattr(admin_api, method)(url, body, format="json").status_code in (200, 201)


def _is_write_into(table: str) -> Callable[[str], bool]:
    # The summaries' table name begins the events': match whole names.
    name = re.compile(rf"\b{table}\b")
    return lambda sql: (
        sql.lstrip().upper().startswith(("INSERT", "UPDATE")) and bool(name.search(sql))
    )


WRITES = [op for op in OPERATIONS if op[0] == "post"]


@pytest.mark.parametrize(("method", "url", "body"), WRITES)
def test_a_step_whose_insert_fails_records_nothing(admin_api, bot, method, url, body):
    operations_ready(bot)
    before = _state()
    with failing(_is_write_into(EVENTS)):
        response = getattr(admin_api, method)(url, body, format="json")
    assert response.status_code == 503, response.content
    assert _state() == before


def _is_transaction_control(sql: str) -> bool:
    return sql.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT"))


@pytest.mark.parametrize(("method", "url", "body"), WRITES)
def test_a_step_makes_no_query_after_it_is_written(admin_api, bot, method, url, body):
    """The answer comes from what the step returned: a connection lost once the step's
    rows are written (the summary is the last of them) cannot turn it into an error."""
    operations_ready(bot)
    written: list[str] = []

    def after_the_write(sql: str) -> bool:
        if written and not _is_transaction_control(sql):
            return True
        if _is_write_into(SUMMARIES)(sql):
            written.append(sql)
        return False

    with failing(after_the_write):
        response = getattr(admin_api, method)(url, body, format="json")
    assert written
    assert response.status_code in (200, 201), response.content
    answered = response.json()
    proposal = answered.get("proposal", answered)
    read = admin_api.get(proposal["url"]).json()
    assert {key: read[key] for key in proposal} == proposal
    if "version" in answered:
        stored = admin_api.get(f"{URL}versions/{answered['version']['version']}/").json()
        assert answered["version"] == stored


@db_errors.server_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("method", "url", "body"), OPERATIONS)
def test_a_killed_connection_is_503_then_replaced(admin_api, bot, method, url, body):
    operations_ready(bot)
    before = _state()
    db_errors._kill_own_connection()
    response = getattr(admin_api, method)(url, body, format="json")
    assert response.status_code == 503, response.content
    assert connection.connection is None  # discarded at once, not left for the next one
    assert _state() == before
    response = getattr(admin_api, method)(url, body, format="json")
    assert response.status_code in (200, 201), response.content
