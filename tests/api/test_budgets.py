"""Query budgets: the reads bots make all the time cost a fixed, small number of queries.

Authentication is left out of the count by authenticating the client directly with a
superuser (no token lookup, no permission queries); the token test then shows what
token authentication adds.
"""

from __future__ import annotations

import pytest
from django.db import connection
from rest_framework.test import APIClient

from config_versions.models import BotConfig

pytestmark = pytest.mark.django_db

URL = "/api/configs/support-bot/"


def _grow(bot: BotConfig, versions: int) -> None:
    manager = bot.version_manager
    if manager.current_version == 0:
        manager.create({"n": 0, "payload": "x" * 1000})
    for n in range(manager.current_version, versions):
        manager.update({"n": n, "payload": "x" * 1000})


def test_current_config_in_one_query_and_304_in_one(superuser_api, bot, django_assert_num_queries):
    _grow(bot, 3)
    with django_assert_num_queries(1):  # the config row joined with its current version
        response = superuser_api.get(URL)
    assert response.status_code == 200
    assert response.json()["config"]["n"] == 2
    with django_assert_num_queries(1):  # the config row only: no version is read
        unchanged = superuser_api.get(URL, HTTP_IF_NONE_MATCH=response["ETag"])
    assert unchanged.status_code == 304
    with django_assert_num_queries(2):  # a stale tag: the row, then the version
        changed = superuser_api.get(URL, HTTP_IF_NONE_MATCH='"v1-stale"')
    assert changed.status_code == 200
    assert changed.json() == response.json()


def test_one_version_in_two_queries_and_304_in_one(superuser_api, bot, django_assert_num_queries):
    _grow(bot, 3)
    with django_assert_num_queries(2):
        response = superuser_api.get(f"{URL}versions/2/")
    with django_assert_num_queries(1):
        superuser_api.get(f"{URL}versions/2/", HTTP_IF_NONE_MATCH=response["ETag"])


def test_token_authentication_adds_one_query(bot, django_user_model, django_assert_num_queries):
    from rest_framework.authtoken.models import Token

    _grow(bot, 1)
    user = django_user_model.objects.create_superuser("bot", password="x")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    with django_assert_num_queries(1 + 1):
        assert client.get(URL).status_code == 200


def test_a_bot_with_model_permissions(bot, client_for, django_assert_num_queries):
    # Token, then the user's and the groups' permissions (Django's ModelBackend), then
    # the one query of the read itself.
    _grow(bot, 1)
    client = client_for("view_botconfig")
    with django_assert_num_queries(3 + 1):
        assert client.get(URL).status_code == 200


@pytest.mark.parametrize("path", ["versions/", "versions/?since_version=1&limit=40"])
def test_history_pages_cost_the_same_whatever_the_length(
    superuser_api, bot, django_assert_num_queries, path
):
    # The config row, the count and the page: three, for 5 versions as for 120.
    for length in (5, 120):
        _grow(bot, length)
        with django_assert_num_queries(3):
            response = superuser_api.get(f"{URL}{path}")
        assert response.status_code == 200
        assert response.json()["results"][0]["version"] == length


def test_config_list_costs_the_same_whatever_the_number(
    superuser_api, db, django_assert_num_queries
):
    for count in (3, 60):
        for n in range(BotConfig.objects.count(), count):
            _grow(BotConfig.objects.create(name=f"Bot {n:03}", slug=f"bot-{n}"), 2)
        with django_assert_num_queries(2):  # the count and the page
            response = superuser_api.get("/api/configs/")
        assert response.json()["count"] == count


def test_writes_stay_small(superuser_api, bot, django_assert_max_num_queries):
    _grow(bot, 50)
    # Read the config, read the head, insert, and nothing after: the answer is built
    # from what the write returned. The test's own transaction adds a SAVEPOINT and its
    # RELEASE around the insert. MySQL: the config's row lock first (one statement more:
    # every append there holds it, see DatabaseStore.serialized).
    lock = 1 if connection.vendor == "mysql" else 0
    with django_assert_max_num_queries(3 + 2 + lock):
        response = superuser_api.put(URL, {"config": {"n": "new"}}, format="json")
    assert response.status_code == 200
    # A rollback also reads the version it copies, before the insert (its config is
    # copied in SQL; MySQL reads the content hash, having no SHA-256 function to use).
    with django_assert_max_num_queries(5 + 2 + lock):
        response = superuser_api.post(f"{URL}rollback/", {"to_version": 3}, format="json")
    assert response.status_code == 201
