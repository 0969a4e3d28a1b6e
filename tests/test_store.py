"""The database-backed manager keeps the in-memory manager's rules exactly."""

from __future__ import annotations

import datetime as dt

import pytest
from asgiref.sync import async_to_sync
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from config_versions import ConfigVersion, ConfigVersionManager, VersionConflictError
from config_versions.core.version import CopiedConfigVersion
from config_versions.integrity import verify_history
from config_versions.models import BotConfig, BotConfigVersion
from config_versions.storage import DatabaseStore

pytestmark = pytest.mark.django_db


def _script(manager: ConfigVersionManager) -> list[dict]:
    """One scenario, run against both stores; returns comparable history."""
    manager.create({"name": "Bot", "llm": {"model": "gpt-4"}}, created_by="ana", metadata={"s": 1})
    manager.update({"name": "Bot", "llm": {"model": "gpt-4o"}}, reason="upgrade")
    with pytest.raises(VersionConflictError):
        manager.update({"x": 1}, expected_version=1)
    with pytest.raises(ValueError, match="already exists"):
        manager.create({"again": True})
    manager.rollback(1, created_by="bo")
    with pytest.raises(ValueError, match="Version 9 not found"):
        manager.rollback(9)
    state = manager.to_dict()
    for version in state["versions"]:
        version.pop("timestamp")
    return state["versions"]


def test_same_behaviour_as_in_memory(bot):
    assert _script(bot.version_manager) == _script(ConfigVersionManager())


def test_reads_return_core_values(bot_with_history):
    manager = bot_with_history.version_manager
    v2 = manager.get_version(2)
    assert isinstance(v2, ConfigVersion)
    assert v2.previous_version == 1
    assert v2.created_by == "admin"
    assert manager.current_version == 2
    assert len(manager) == 2
    assert manager.current_config["llm"]["provider"] == "anthropic"
    assert [v.version for v in manager.get_history()] == [2, 1]
    assert [v.version for v in manager.get_history(since_version=1)] == [2]
    assert manager.get_version(3) is None
    assert manager.get_version(0) is None
    assert manager.diff(1, 2)["changed"]["llm"]["to"]["model"] == "claude-3-sonnet"


def test_update_before_create(bot):
    with pytest.raises(ValueError, match="No configuration exists"):
        bot.version_manager.update({"a": 1})
    assert BotConfigVersion.objects.count() == 0


def test_current_version_and_timestamps_are_kept_by_the_database(bot_with_history):
    bot = BotConfig.objects.get(pk=bot_with_history.pk)
    head = bot.versions.get(version=2)
    assert bot.current_version == 2
    assert bot.updated_at == head.created_at
    assert head.created_at == dt.datetime.fromtimestamp(head.timestamp, tz=dt.UTC).replace(
        microsecond=head.created_at.microsecond
    )


def test_exact_timestamp_round_trip(bot):
    state = {
        "versions": [
            {"version": 1, "config": {"a": 1}, "timestamp": 1732461234.1234567, "reason": "r"},
        ]
    }
    ConfigVersionManager.from_dict(state, store=DatabaseStore(bot))
    assert bot.version_manager.get_version(1).timestamp == 1732461234.1234567


def test_created_by_user_is_recorded(bot, django_user_model):
    user = django_user_model.objects.create_user("ana")
    bot.get_version_manager(user=user).create({"a": 1}, created_by="ana")
    row = bot.versions.get()
    assert row.created_by_user == user
    assert row.created_by == "ana"


def test_stale_manager_retries_without_expected_version(bot):
    first = bot.version_manager
    first.create({"n": 0})
    second = BotConfig.objects.get(pk=bot.pk).version_manager
    second.update({"n": 1})
    second.update({"n": 2})
    # ``first`` still believes version 1 is the head; its write lands as version 4.
    assert first.update({"n": 3}).version == 4
    assert list(bot.versions.order_by("version").values_list("version", flat=True)) == [1, 2, 3, 4]
    with pytest.raises(VersionConflictError) as info:
        second.update({"n": 4}, expected_version=3)
    assert info.value.actual_version == 4


def test_conflict_inside_a_transaction_leaves_it_usable(bot_with_history):
    stale = bot_with_history.version_manager
    stale.current_version  # noqa: B018 - warm the head cache at v2
    BotConfig.objects.get(pk=bot_with_history.pk).version_manager.update({"other": 1})
    with transaction.atomic():
        assert stale.update({"mine": 1}).version == 4
        assert BotConfig.objects.get(pk=bot_with_history.pk).current_version == 4


def test_rollback_copies_config_in_the_database(bot_with_history):
    v3 = bot_with_history.version_manager.rollback(1)
    row = bot_with_history.versions.get(version=3)
    first = bot_with_history.versions.get(version=1)
    assert row.config == first.config == v3.config
    assert row.content_hash == first.content_hash
    assert row.metadata == {"rollback_from": 2, "rollback_to": 1}


def test_rollback_without_validators_never_reads_the_config(bot_with_history):
    manager = bot_with_history.version_manager
    assert manager.current_version == 2  # the head is now known: no query for it below
    statements = _count(lambda: manager.rollback(1, created_by="ops"))
    # The database copies the config and its content hash, and finishes the chain hash
    # itself where it can hash (PostgreSQL, SQLite); MySQL reads the content hash first.
    # MySQL: the config's row lock first (an append there holds it: see serialized()),
    # and the content hash read before the INSERT (it cannot hash in SQL).
    assert len(statements) == (3 if connection.vendor == "mysql" else 1)
    assert all("config`," not in statement.split("FROM")[0] for statement in statements[:-1])
    assert "INSERT" in statements[-1].upper()
    v3 = manager.get_version(3)
    assert v3.metadata == {"rollback_from": 2, "rollback_to": 1}
    assert v3.config == manager.get_version(1).config
    assert verify_history(bot_with_history) is None
    # The head it returned is the one stored: the next write extends the chain.
    assert len(_count(lambda: manager.update({"after": "rollback"}))) == (
        2 if connection.vendor == "mysql" else 1
    )
    assert verify_history(bot_with_history) is None


def test_chain_hash_computed_in_the_database_matches_the_core(bot_with_history):
    from config_versions.core.jsondata import chain_hash

    manager = bot_with_history.version_manager
    manager.rollback(1, reason='Back, with "quotes", ünïcode and a 😀', created_by="Zoë")
    v2, v3 = bot_with_history.versions.filter(version__in=[2, 3]).order_by("version")
    assert v3.chain_hash == chain_hash(
        v2.chain_hash,
        v3.content_hash,
        version=3,
        timestamp=v3.timestamp,
        reason=v3.reason,
        previous_version=2,
        created_by="Zoë",
        metadata={"rollback_from": 2, "rollback_to": 1},
    )


def test_the_copied_config_is_read_when_first_used(bot_with_history):
    manager = bot_with_history.version_manager
    v3 = manager.rollback(1)
    assert isinstance(v3, CopiedConfigVersion)
    assert (v3.version, v3.previous_version, v3.created_by) == (3, 2, None)
    assert len(_count(lambda: v3.config)) == 1
    assert len(_count(lambda: v3.config)) == 0  # read once, then kept
    assert v3.config == {"name": "SupportBot", "llm": {"provider": "openai", "model": "gpt-4"}}
    assert v3.to_dict()["config"] == v3.config
    v3.config["name"] = "changed"  # the caller's own copy, as with every read
    assert manager.current_config["name"] == "SupportBot"


def test_a_schema_makes_rollback_check_the_target_in_python(bot_with_history):
    bot_with_history.schema = {
        "properties": {"llm": {"properties": {"model": {"not": {"const": "gpt-4"}}}}}
    }
    bot_with_history.save()
    manager = BotConfig.objects.get(pk=bot_with_history.pk).version_manager
    with pytest.raises(ValidationError):
        manager.rollback(1)
    assert manager.current_version == 2
    assert bot_with_history.versions.count() == 2


def test_rollback_to_a_missing_version_writes_nothing(bot_with_history):
    manager = bot_with_history.version_manager
    for missing in (9, 0, -1):
        with pytest.raises(ValueError, match="not found"):
            manager.rollback(missing)
    assert bot_with_history.versions.count() == 2


def test_unsaved_bot_config_is_refused():
    with pytest.raises(ValueError, match="Save the BotConfig"):
        BotConfig(name="x", slug="x").version_manager  # noqa: B018


def test_async_twins(bot):
    async def scenario():
        manager = bot.version_manager
        await manager.acreate({"a": 1})
        await manager.aupdate({"a": 2}, reason="async")
        rolled_back = await manager.arollback(1)
        # Read in async code: arollback loaded the copied config before returning.
        assert rolled_back.config == {"a": 1}
        return await manager.aget_history(limit=2), await manager.acurrent_config()

    # async_to_sync runs the ORM calls on this thread, inside the test's transaction.
    history, config = async_to_sync(scenario)()
    assert [v.version for v in history] == [3, 2]
    assert config == {"a": 1}


# Query budgets ------------------------------------------------------------------


def _count(func):
    with CaptureQueriesContext(connection) as ctx:
        func()
    return [
        q["sql"]
        for q in ctx.captured_queries
        if not q["sql"].upper().startswith(("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT", "ROLLBACK"))
    ]


@pytest.fixture
def long_history(bot):
    manager = bot.version_manager
    manager.create({"n": 0})
    for n in range(1, 120):
        manager.update({"n": n, "payload": list(range(20))})
    return BotConfig.objects.get(pk=bot.pk)


def test_budget_current_config_one_query(long_history):
    manager = long_history.version_manager
    assert len(_count(lambda: manager.current_config)) == 1


def test_budget_history_one_query(long_history):
    manager = long_history.version_manager
    queries = _count(lambda: manager.get_history(limit=50))
    assert len(queries) == 1
    assert len(manager.get_history(limit=50)) == 50


def test_budget_update_cold_and_warm(long_history):
    manager = long_history.version_manager
    # MySQL: one statement more, the config's row lock (see DatabaseStore.serialized).
    lock = 1 if connection.vendor == "mysql" else 0
    assert len(_count(lambda: manager.update({"n": "cold"}))) <= 2 + lock
    assert len(_count(lambda: manager.update({"n": "warm"}))) == 1 + lock
    assert len(_count(lambda: manager.update({"n": "x"}, expected_version=122))) == 1 + lock


def test_budget_rollback(long_history):
    manager = long_history.version_manager
    lock = 1 if connection.vendor == "mysql" else 0  # the config's row lock
    assert len(_count(lambda: manager.rollback(3))) <= 3 + lock


def test_merge_on_the_database(bot_with_history):
    editor_a = bot_with_history.version_manager
    base = editor_a.get_version(2).config
    theirs = {**base, "greeting": "Hi!"}
    BotConfig.objects.get(pk=bot_with_history.pk).version_manager.update(theirs)
    merged = editor_a.merge({**base, "name": "HelpBot"}, base_version=2, created_by="ana")
    assert merged.version == 4
    assert merged.config == {**base, "name": "HelpBot", "greeting": "Hi!"}
    assert bot_with_history.versions.get(version=4).metadata == {
        "merged_from": 2,
        "merged_onto": 3,
    }


def test_saving_a_stale_instance_keeps_current_version(bot):
    stale = BotConfig.objects.get(pk=bot.pk)
    bot.version_manager.create({"a": 1})
    bot.version_manager.update({"a": 2})
    stale.description = "edited in another tab"
    stale.save()
    fresh = BotConfig.objects.get(pk=bot.pk)
    assert fresh.current_version == 2
    assert fresh.description == "edited in another tab"
    stale.save(update_fields=["name", "current_version"])
    assert BotConfig.objects.get(pk=bot.pk).current_version == 2


def test_histories_are_indexed_by_config_and_number_only():
    # One index answers "this config, by number"; the migrations keep the history
    # triggers on SQLite, where altering a table rebuilds it.
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(
            cursor, BotConfigVersion._meta.db_table
        )
    by_columns = {
        tuple(info["columns"]): info
        for info in constraints.values()
        if info["index"] or info["unique"]
    }
    assert by_columns[("bot_config_id", "version")]["unique"]
    if connection.vendor != "mysql":  # InnoDB keeps its own index for the foreign key
        assert ("bot_config_id",) not in by_columns


def test_hash_chain_holds_for_every_key_order_and_key_type(bot):
    manager = bot.version_manager
    manager.create({"b": 1, "a": {"z": [3, {"y": 1, "x": 2}]}})
    manager.update({10: "ten", 9: "nine", "k": {"é": 1, "e": 2}})
    manager.update({"b": 1, "a": {"z": [3, {"x": 2, "y": 1}]}})
    manager.rollback(2)
    assert verify_history(bot) is None
    assert manager.current_config == {"10": "ten", "9": "nine", "k": {"é": 1, "e": 2}}


@pytest.mark.parametrize("number", [2**31, 2**63, 10**20, 0, -1, True])
def test_numbers_no_version_can_have_are_simply_not_found(bot, number):
    # Not an OverflowError from SQLite, nor a type error from PostgreSQL.
    manager = bot.version_manager
    manager.create({"a": 1})
    assert manager.get_version(number) is None
    with pytest.raises(ValueError, match="not found"):
        manager.rollback(number)
    with pytest.raises(ValueError, match="not found"):
        manager.diff(1, number)
    assert manager.current_version == 1


def test_history_bounds_beyond_any_version_number(bot):
    manager = bot.version_manager
    manager.create({"a": 1})
    assert manager.get_history(since_version=2**63) == []
    assert [v.version for v in manager.get_history(limit=2**63)] == [1]
