"""History cannot be rewritten: every path refuses, and the row stays as it was."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from config_versions.exceptions import ImmutableVersionError
from config_versions.models import BotConfig, BotConfigVersion

pytestmark = pytest.mark.django_db


def _snapshot(bot):
    return list(
        BotConfigVersion.objects.filter(bot_config=bot)
        .order_by("version")
        .values_list("version", "config", "reason", "content_hash", "chain_hash")
    )


@pytest.fixture
def history(bot_with_history):
    return bot_with_history, _snapshot(bot_with_history)


def test_instance_save_refused(history):
    bot, before = history
    row = bot.versions.get(version=1)
    row.reason = "rewritten"
    with pytest.raises(ImmutableVersionError):
        row.save()
    assert _snapshot(bot) == before


def test_instance_delete_refused(history):
    bot, before = history
    with pytest.raises(ImmutableVersionError):
        bot.versions.get(version=1).delete()
    assert _snapshot(bot) == before


def test_queryset_update_refused(history):
    bot, before = history
    with pytest.raises(ImmutableVersionError):
        BotConfigVersion.objects.filter(bot_config=bot).update(reason="rewritten")
    assert _snapshot(bot) == before


def test_queryset_delete_refused(history):
    bot, before = history
    with pytest.raises(ImmutableVersionError):
        bot.versions.all().delete()
    assert _snapshot(bot) == before


def test_bulk_update_refused(history):
    bot, before = history
    rows = list(bot.versions.all())
    for row in rows:
        row.reason = "rewritten"
    with pytest.raises(ImmutableVersionError):
        BotConfigVersion.objects.bulk_update(rows, ["reason"])
    assert _snapshot(bot) == before


@pytest.mark.parametrize(
    "assignment",
    ["reason = 'rewritten'", "version = 7", "content_hash = 'x'", "created_by = 'mallory'"],
)
def test_raw_sql_update_refused_by_trigger(history, assignment):
    bot, before = history
    table = BotConfigVersion._meta.db_table
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {assignment} WHERE bot_config_id = %s", [bot.pk])
    assert _snapshot(bot) == before


def test_base_manager_update_refused_by_trigger(history):
    bot, before = history
    with pytest.raises(DatabaseError), transaction.atomic():
        BotConfigVersion._base_manager.filter(bot_config=bot).update(reason="sneaky")
    assert _snapshot(bot) == before


def test_deleting_a_user_keeps_the_history(history, django_user_model):
    bot, before = history
    user = django_user_model.objects.create_user("ana")
    bot.get_version_manager(user=user).update({"by": "ana"}, created_by="ana")
    user.delete()
    row = bot.versions.get(version=3)
    assert row.created_by_user_id is None
    assert row.created_by == "ana"
    assert _snapshot(bot)[:2] == before


def test_deleting_the_config_is_refused_and_archiving_keeps_its_history(history):
    bot, before = history
    with pytest.raises(ImmutableVersionError, match="archived, not deleted"):
        bot.delete()
    with pytest.raises(ImmutableVersionError):
        BotConfig.objects.filter(pk=bot.pk).delete()
    bot.archive(by="admin", reason="retired")
    assert _snapshot(bot) == before


def test_purging_the_config_removes_its_history_only(history):
    from config_versions.purge import purge_history

    bot, _ = history
    other = BotConfig.objects.create(name="Other", slug="other")
    other.version_manager.create({"keep": True})
    purge_history(bot, reason="test")
    assert list(BotConfigVersion.objects.values_list("bot_config__slug", flat=True)) == ["other"]
