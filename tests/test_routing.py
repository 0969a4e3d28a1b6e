"""Reads follow ``router.db_for_read``, writes ``router.db_for_write``.

A config loaded from a replica must be written to the primary: the store picks its
aliases through the router, not from the instance it was given.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connections
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from config_versions.models import BotConfig

pytestmark = pytest.mark.django_db(databases=["default", "replica"], transaction=True)


class ReplicaRouter:
    """Reads from "replica", writes to "default", as a primary/replica site does."""

    def db_for_read(self, model: Any, **hints: Any) -> str:
        return "replica"

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return "default"

    def allow_relation(self, *args: Any, **hints: Any) -> bool:
        return True


def _statements(context: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in context.captured_queries if "SAVEPOINT" not in q["sql"]]


@override_settings(DATABASE_ROUTERS=[f"{__name__}.ReplicaRouter"])
def test_a_config_read_from_the_replica_is_written_to_the_primary():
    BotConfig.objects.using("default").create(name="Routed", slug="routed")
    bot = BotConfig.objects.get(slug="routed")
    assert bot._state.db == "replica"
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        manager = bot.version_manager
        manager.create({"a": 1})
        manager.update({"a": 2})
        manager.rollback(1)
        assert manager.update({"a": 1}).unchanged
    writes = [sql for sql in _statements(replica) if sql.lstrip().upper().startswith("INSERT")]
    assert writes == []
    assert sum(sql.lstrip().upper().startswith("INSERT") for sql in _statements(primary)) >= 3
    with CaptureQueriesContext(connections["replica"]) as replica:
        assert manager.get_history(limit=2)[0].version == 3
        assert manager.current_config == {"a": 1}
    assert len(_statements(replica)) == 2
    assert BotConfig.objects.using("default").get(slug="routed").current_version == 3


def test_without_a_router_the_instance_database_is_used():
    bot = BotConfig.objects.create(name="Plain", slug="plain")
    store = bot.version_manager.store
    assert (store.read_db, store.using) == ("default", "default")  # type: ignore[attr-defined]
