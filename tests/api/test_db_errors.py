"""A failing database: JSON 503 with Retry-After, and a 5xx only when nothing was written.

Failures are real: Django's ``execute_wrapper`` hook raising ``OperationalError`` where
the driver would, or (on a server database) the test's own connection killed from a
second one, as a database restart kills it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import OperationalError, connection, connections
from django.test import override_settings

from config_versions.models import BotConfig, BotConfigVersion
from tests.api.proposals_setup import OPERATIONS as PROPOSAL_OPERATIONS

URL = "/api/configs/support-bot/"
VERSIONS = BotConfigVersion._meta.db_table
OUR_TABLES = "config_versions_"

# Every operation of the API, each with a request that succeeds on a working database.
OPERATIONS = [
    ("get", "/api/configs/", None),
    ("post", "/api/configs/", {"name": "New", "slug": "new-bot", "config": {"a": 1}}),
    ("get", URL, None),
    ("put", URL, {"config": {"name": "SupportBot", "n": 4}}),
    ("get", f"{URL}versions/", None),
    ("get", f"{URL}versions/1/", None),
    ("get", f"{URL}diff/", None),
    ("post", f"{URL}rollback/", {"to_version": 2}),
    ("get", f"{URL}labels/", None),
]
WRITES = [op for op in OPERATIONS if op[0] in ("put", "post")]


@contextmanager
def failing(when: Callable[[str], bool]) -> Iterator[list[str]]:
    """Statements for which ``when`` is true fail as a dropped connection makes them."""
    seen: list[str] = []

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if when(sql):
            raise OperationalError("server closed the connection unexpectedly")
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield seen


def _is_insert_into(table: str) -> Callable[[str], bool]:
    return lambda sql: sql.lstrip().upper().startswith("INSERT") and table in sql


def _is_transaction_control(sql: str) -> bool:
    return sql.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK"))


def assert_unavailable(response: Any) -> None:
    assert response.status_code == 503, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "3"
    detail = response.json()["detail"]
    assert "database is not available" in detail
    assert "Retry in 3 seconds" in detail


def _state() -> list[tuple[str, int, int]]:
    return [
        (bot.slug, bot.current_version, bot.versions.count())
        for bot in BotConfig.objects.order_by("slug")
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "url", "body"), OPERATIONS)
def test_every_operation_answers_503_in_json(admin_api, history_bot, method, url, body):
    before = _state()
    with failing(lambda sql: OUR_TABLES in sql):
        response = getattr(admin_api, method)(url, body, format="json")

    assert_unavailable(response)
    assert _state() == before
    # The connection is fine again: so is the next request.
    assert getattr(admin_api, method)(url, body, format="json").status_code in (200, 201)


@pytest.mark.django_db
def test_authentication_failing_on_the_database_is_503(client_for, history_bot):
    bot_api = client_for("view_botconfig")
    with failing(lambda sql: "authtoken" in sql):
        assert_unavailable(bot_api.get(URL))


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "url", "body"), WRITES)
def test_a_write_whose_insert_fails_writes_nothing(admin_api, history_bot, method, url, body):
    before = _state()
    with failing(_is_insert_into(VERSIONS)):
        response = getattr(admin_api, method)(url, body, format="json")

    assert_unavailable(response)
    assert _state() == before  # the create's BotConfig row went with its transaction


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "url", "body"), WRITES)
def test_a_write_makes_no_query_after_its_insert(admin_api, history_bot, method, url, body):
    """The answer comes from what the write returned: a connection lost right after the
    INSERT cannot turn a written version into an error."""
    inserted: list[str] = []

    def after_the_insert(sql: str) -> bool:
        if inserted and not _is_transaction_control(sql):
            return True
        if _is_insert_into(VERSIONS)(sql):
            inserted.append(sql)
        return False

    with failing(after_the_insert):
        response = getattr(admin_api, method)(url, body, format="json")

    assert response.status_code in (200, 201), response.content
    assert inserted
    body_sent = response.json()
    slug = body_sent.get("slug", "support-bot")
    bot = BotConfig.objects.get(slug=slug)
    version = bot.versions.get(version=bot.current_version)
    assert (body_sent.get("current_version") or body_sent.get("version")) == version.version
    assert body_sent["config"] == version.config
    assert response["ETag"] == admin_api.get(f"/api/configs/{slug}/")["ETag"]


@pytest.mark.django_db
def test_the_browsable_api_gets_json_too(admin_api, history_bot):
    with failing(lambda sql: OUR_TABLES in sql):
        response = admin_api.get(URL, HTTP_ACCEPT="text/html")
    assert_unavailable(response)


def silent_handler(exc: Exception, context: dict[str, Any]) -> None:
    """A site's EXCEPTION_HANDLER that handles nothing (DRF then raises)."""
    return None


@pytest.mark.django_db
def test_the_sites_exception_handler_is_not_relied_on(admin_api, history_bot, settings):
    framework = {**settings.REST_FRAMEWORK, "EXCEPTION_HANDLER": f"{__name__}.silent_handler"}
    with override_settings(REST_FRAMEWORK=framework), failing(lambda sql: OUR_TABLES in sql):
        assert_unavailable(admin_api.get(URL))


@pytest.mark.django_db
def test_the_schema_documents_503_with_retry_after_everywhere(admin_api):
    response = admin_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    paths = json.loads(response.content)["paths"]
    operations = [
        (path, method, operation)
        for path, methods in paths.items()
        if path.startswith("/api/configs/")
        for method, operation in methods.items()
    ]
    # The proposal operations' 503s are tested in test_proposals_schema.py.
    assert len(operations) == len(OPERATIONS) + len(PROPOSAL_OPERATIONS)
    for path, method, operation in operations:
        unavailable = operation["responses"].get("503")
        assert unavailable is not None, (method, path)
        assert set(unavailable["headers"]) == {"Retry-After"}, (method, path)
        assert unavailable["headers"]["Retry-After"]["schema"]["type"] == "integer"


# The commit of a create -------------------------------------------------------------------

CREATE = {"name": "New", "slug": "new-bot", "config": {"a": 1}}


@pytest.mark.django_db
def test_a_create_whose_commit_fails_writes_nothing(admin_api):
    # In the test's transaction the create's own commit is a RELEASE SAVEPOINT.
    failed: list[str] = []

    def first_release(sql: str) -> bool:
        if sql.lstrip().upper().startswith("RELEASE") and not failed:
            failed.append(sql)
            return True
        return False

    with failing(first_release):
        response = admin_api.post("/api/configs/", CREATE, format="json")

    assert failed
    assert_unavailable(response)
    assert not BotConfig.objects.filter(slug="new-bot").exists()


@contextmanager
def failing_receiver() -> Iterator[None]:
    """A version_created receiver that fails as a lost connection makes it fail."""
    from config_versions.signals import version_created

    def receiver(**kwargs: Any) -> None:
        raise OperationalError("server closed the connection unexpectedly")

    version_created.connect(receiver)
    try:
        yield
    finally:
        version_created.disconnect(receiver)


@pytest.mark.django_db(transaction=True)
def test_a_create_that_committed_is_201_whatever_fails_after(admin_api):
    with failing_receiver():
        response = admin_api.post("/api/configs/", CREATE, format="json")

    assert response.status_code == 201, response.content
    assert BotConfig.objects.get(slug="new-bot").versions.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_put_that_wrote_is_200_whatever_a_receiver_does(admin_api, history_bot):
    with failing_receiver():
        response = admin_api.put(URL, {"config": {"n": 4}}, format="json")

    written = history_bot.versions.count() == 4
    assert response.status_code == (200 if written else 503)


# A connection really lost ---------------------------------------------------------------


def _kill_own_connection() -> None:
    """Kill this thread's database connection from another one, as a restart does."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_backend_pid()")
            kill = "SELECT pg_terminate_backend(%s)"
        else:
            cursor.execute("SELECT CONNECTION_ID()")
            kill = "KILL %s"
        (backend,) = cursor.fetchone()
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute(kill, [backend])
    finally:
        other.close()


server_only = pytest.mark.skipif(
    connection.vendor not in ("postgresql", "mysql"),
    reason="kills a server connection; SQLite has none to kill",
)


@server_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("method", "url", "body"), OPERATIONS)
def test_a_killed_connection_is_503_then_replaced(admin_api, history_bot, method, url, body):
    before = _state()
    _kill_own_connection()

    assert_unavailable(getattr(admin_api, method)(url, body, format="json"))

    assert connection.connection is None  # discarded at once, not left for the next one
    assert _state() == before
    response = getattr(admin_api, method)(url, body, format="json")
    assert response.status_code in (200, 201), response.content
