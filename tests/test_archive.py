"""Configs are archived, never deleted; purge_history is the one removal, and leaves a
tombstone. The database refuses every other deletion of a version row."""

from __future__ import annotations

import getpass

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, IntegrityError, connection, router, transaction
from django.db.models.deletion import Collector, ProtectedError

from config_versions.changes import record_changes
from config_versions.core.errors import ConfigArchivedError, InvalidConfigError
from config_versions.exceptions import ImmutableVersionError
from config_versions.integrity import verify_history
from config_versions.models import BotConfig, BotConfigChange, BotConfigVersion, PurgedConfig
from config_versions.purge import purge_history

pytestmark = pytest.mark.django_db

VERSIONS = BotConfigVersion._meta.db_table
CONFIGS = BotConfig._meta.db_table


def _rows(bot: BotConfig) -> list[tuple]:
    return list(
        BotConfigVersion.objects.filter(bot_config_id=bot.pk)
        .order_by("version")
        .values_list("version", "chain_hash")
    )


def _current(bot: BotConfig) -> int:
    return BotConfig.objects.values_list("current_version", flat=True).get(pk=bot.pk)


@pytest.fixture
def kept(bot_with_history):
    """The config with two versions and what must survive every refused deletion."""
    return bot_with_history, _rows(bot_with_history)


def _unchanged(kept) -> bool:
    bot, rows = kept
    return _rows(bot) == rows and _current(bot) == len(rows)


# Archiving and restoring ----------------------------------------------------------------


def test_archive_retires_and_keeps_the_history(kept):
    bot, _ = kept
    assert bot.archive(by="ana", reason="Bot retired") is True
    bot.refresh_from_db()
    assert bot.is_archived
    assert (bot.archived_by, bot.archive_reason) == ("ana", "Bot retired")
    assert list(BotConfig.objects.active()) == []
    assert list(BotConfig.objects.archived()) == [bot]
    assert _unchanged(kept)
    assert bot.version_manager.current_config["llm"]["provider"] == "anthropic"
    assert verify_history(bot) is None


def test_archiving_twice_keeps_the_first(kept):
    bot, _ = kept
    bot.archive(by="ana", reason="first")
    first = bot.archived_at
    again = BotConfig.objects.get(pk=bot.pk)
    assert again.archive(by="bo", reason="second") is False
    # The instance shows what the database holds: the first archive.
    assert (again.archived_at, again.archived_by, again.archive_reason) == (first, "ana", "first")


def test_restore_brings_it_back(kept):
    bot, _ = kept
    bot.archive(by="ana", reason="r")
    assert bot.restore() is True
    assert not bot.is_archived
    assert (bot.archived_by, bot.archive_reason) == (None, "")
    assert list(BotConfig.objects.active()) == [bot]
    assert bot.restore() is False
    assert _unchanged(kept)


def test_an_archived_config_takes_no_version_until_restored(kept):
    bot, rows = kept
    bot.archive()
    manager = BotConfig.objects.get(pk=bot.pk).version_manager
    with pytest.raises(ConfigArchivedError):
        manager.update({"new": True}, reason="refused")
    assert _rows(bot) == rows
    bot.restore()
    BotConfig.objects.get(pk=bot.pk).version_manager.update({"new": True}, reason="back")
    assert _current(bot) == 3


@pytest.mark.parametrize(
    ("by", "reason"), [("ana", "nul\x00"), ("ana", "x" * 10_001), ("a" * 256, ""), ("\ud800", "")]
)
def test_archive_refuses_text_no_database_stores(bot, by, reason):
    with pytest.raises(InvalidConfigError):
        bot.archive(by=by, reason=reason)
    bot.refresh_from_db()
    assert not bot.is_archived


def test_archive_needs_a_saved_config():
    with pytest.raises(ValueError, match="Save the bot config"):
        BotConfig(name="x", slug="x").archive()


def test_archive_of_a_purged_config_says_so(bot):
    stale = BotConfig.objects.get(pk=bot.pk)
    purge_history(bot)
    with pytest.raises(BotConfig.DoesNotExist):
        stale.archive()


# Deleting a config: refused by every ORM path --------------------------------------------


def test_config_delete_refused(kept):
    bot, _ = kept
    with pytest.raises(ImmutableVersionError, match="archived, not deleted"):
        bot.delete()
    with pytest.raises(ImmutableVersionError):
        BotConfig.objects.filter(pk=bot.pk).delete()
    with pytest.raises(ImmutableVersionError):
        BotConfig.objects.all().delete()
    assert _unchanged(kept)


def test_collector_refuses_a_config_with_history(kept):
    bot, _ = kept
    collector = Collector(using=router.db_for_write(BotConfig))
    with pytest.raises(ProtectedError):
        collector.collect([bot])
    with pytest.raises(ProtectedError):
        BotConfig._base_manager.filter(pk=bot.pk).delete()
    assert _unchanged(kept)


def test_collector_refuses_a_config_without_versions(bot):
    # No version to protect it, but recorded field changes, which would cascade.
    bot.name = "Renamed"
    record_changes(bot, ["name"], reason="r")
    collector = Collector(using=router.db_for_write(BotConfig))
    collector.collect([bot])
    # Django's collector sends pre_delete inside its transaction: like a database error,
    # the refusal breaks the enclosing one.
    with pytest.raises(ImmutableVersionError), transaction.atomic():
        collector.delete()
    with pytest.raises(ImmutableVersionError), transaction.atomic():
        BotConfig._base_manager.filter(pk=bot.pk).delete()
    assert BotConfig.objects.filter(pk=bot.pk).exists()
    assert BotConfigChange.objects.filter(bot_config_id=bot.pk).count() == 1


def test_raw_delete_of_a_config_with_history_is_refused_by_the_foreign_key(kept):
    bot, _ = kept
    with pytest.raises(IntegrityError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {CONFIGS} WHERE id = %s", [bot.pk])
        connection.check_constraints()  # deferred on PostgreSQL and SQLite
    assert _unchanged(kept)


@pytest.mark.django_db(transaction=True)
def test_raw_delete_of_a_config_is_refused_at_commit(bot_with_history):
    bot = bot_with_history
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {CONFIGS} WHERE id = %s", [bot.pk])
    assert _current(bot) == 2
    assert len(_rows(bot)) == 2


def test_deleting_an_author_keeps_their_versions(kept, django_user_model):
    bot, rows = kept
    user = django_user_model.objects.create_user("ana")
    bot.get_version_manager(user=user).update({"by": "ana"}, created_by="ana", reason="r")
    bot.archive(by="ana")
    user.delete()  # created_by_user becomes NULL: the one change a version row may take
    row = BotConfigVersion.objects.get(bot_config=bot, version=3)
    assert (row.created_by, row.created_by_user_id) == ("ana", None)
    assert _rows(bot)[:2] == rows
    assert verify_history(bot) is None


# Deleting versions: refused by the ORM and by the database -------------------------------


def test_version_deletes_refused_by_the_orm(kept):
    bot, _ = kept
    version = BotConfigVersion.objects.get(bot_config=bot, version=1)
    with pytest.raises(ImmutableVersionError):
        version.delete()
    with pytest.raises(ImmutableVersionError):
        BotConfigVersion.objects.filter(bot_config=bot).delete()
    with pytest.raises(ImmutableVersionError):
        bot.versions.all().delete()
    # The plain manager goes through Django's collector, which sends pre_delete.
    with pytest.raises(ImmutableVersionError), transaction.atomic():
        BotConfigVersion._base_manager.filter(bot_config=bot).delete()
    assert _unchanged(kept)


def test_version_raw_delete_refused_by_the_trigger(kept):
    bot, _ = kept
    using = router.db_for_write(BotConfigVersion)
    with pytest.raises(DatabaseError), transaction.atomic():
        BotConfigVersion._base_manager.filter(bot_config=bot)._raw_delete(using)
    assert _unchanged(kept)


@pytest.mark.parametrize(
    "statements",
    [
        pytest.param(
            [f"DELETE FROM {VERSIONS} WHERE bot_config_id = %s AND version = 1"], id="one"
        ),
        pytest.param(
            [
                f"UPDATE {CONFIGS} SET current_version = current_version - 1 WHERE id = %s",
                f"DELETE FROM {VERSIONS} WHERE bot_config_id = %s AND version = 2",
            ],
            id="newest-and-lower-head",
        ),
        pytest.param([f"DELETE FROM {VERSIONS} WHERE bot_config_id = %s"], id="history"),
        pytest.param([f"DELETE FROM {VERSIONS} WHERE id > 0 OR bot_config_id = %s"], id="all"),
    ],
)
def test_raw_sql_delete_refused_by_the_trigger(kept, statements):
    bot, _ = kept
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql, [bot.pk])
    assert _unchanged(kept)


def test_truncate_refused_on_postgresql(kept):
    if connection.vendor != "postgresql":
        pytest.skip(
            "TRUNCATE fires no trigger on MariaDB (deny the app's user the DROP privilege); "
            "SQLite has no TRUNCATE"
        )
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {VERSIONS} CASCADE")
    assert _unchanged(kept)


def test_a_tombstone_permits_only_its_own_config(kept):
    other = BotConfig.objects.create(name="Other", slug="other")
    other.version_manager.create({"other": True})
    purge_history(other)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {VERSIONS}")
    assert _unchanged(kept)


def test_a_purged_id_is_not_given_to_a_new_config(bot):
    pk = bot.pk
    purge_history(bot)
    with pytest.raises(ImmutableVersionError, match="purged"):
        BotConfig.objects.create(pk=pk, name="Again", slug="again")
    assert not BotConfig.objects.filter(slug="again").exists()


# Purging ---------------------------------------------------------------------------------


def test_purge_removes_the_history_and_leaves_a_tombstone(kept):
    bot, rows = kept
    bot.name = "Renamed"
    record_changes(bot, ["name"], reason="r")
    other = BotConfig.objects.create(name="Other", slug="other")
    other.version_manager.create({"keep": True})
    pk = bot.pk
    tombstone = purge_history(bot, by="ops", reason="GDPR request")
    assert not BotConfig.objects.filter(pk=pk).exists()
    assert not BotConfigVersion.objects.filter(bot_config_id=pk).exists()
    assert not BotConfigChange.objects.filter(bot_config_id=pk).exists()
    stored = PurgedConfig.objects.get()
    assert stored == tombstone
    assert (stored.config_id, stored.slug, stored.name) == (pk, "support-bot", "Renamed")
    assert (stored.versions, stored.last_chain_hash) == (2, rows[-1][1])
    assert (stored.purged_by, stored.reason) == ("ops", "GDPR request")
    assert list(BotConfigVersion.objects.values_list("bot_config__slug", flat=True)) == ["other"]
    assert verify_history(other) is None


def test_purge_of_a_config_without_versions(bot):
    tombstone = purge_history(bot)
    assert (tombstone.versions, tombstone.last_chain_hash, tombstone.purged_by) == (0, "", None)
    assert not BotConfig.objects.exists()


def test_purge_refuses_bad_text_before_writing(kept):
    bot, _ = kept
    with pytest.raises(InvalidConfigError):
        purge_history(bot, reason="nul\x00")
    assert _unchanged(kept)
    assert not PurgedConfig.objects.exists()


def test_purge_of_a_purged_config_says_so(bot):
    stale = BotConfig.objects.get(pk=bot.pk)
    purge_history(bot)
    with pytest.raises(BotConfig.DoesNotExist):
        purge_history(stale)
    assert PurgedConfig.objects.count() == 1


def test_tombstones_are_immutable(bot):
    tombstone = purge_history(bot, reason="r")
    tombstone.reason = "rewritten"
    with pytest.raises(ImmutableVersionError):
        tombstone.save()
    with pytest.raises(ImmutableVersionError):
        tombstone.delete()
    with pytest.raises(ImmutableVersionError):
        PurgedConfig.objects.all().delete()
    with pytest.raises(ImmutableVersionError), transaction.atomic():
        PurgedConfig._base_manager.all().delete()
    with pytest.raises(ImmutableVersionError):
        PurgedConfig.objects.update(reason="x")
    assert PurgedConfig.objects.get().reason == "r"


@pytest.mark.django_db(transaction=True)
def test_purge_commits_on_its_own(bot_with_history):
    """Outside a test's transaction: the trigger lets the tombstoned rows go at commit."""
    pk = bot_with_history.pk
    purge_history(bot_with_history, by="ops")
    assert not BotConfigVersion.objects.filter(bot_config_id=pk).exists()
    assert PurgedConfig.objects.filter(config_id=pk, versions=2).exists()


# The command -----------------------------------------------------------------------------


def _one_line(exc: pytest.ExceptionInfo[CommandError]) -> str:
    message = str(exc.value)
    assert "\n" not in message
    return message


def test_command_refuses_without_yes(kept):
    with pytest.raises(CommandError) as exc:
        call_command("purge_config_history", "support-bot")
    message = _one_line(exc)
    assert "2 versions" in message
    assert "--yes" in message
    assert "active" in message
    assert _unchanged(kept)


def test_command_refuses_an_unknown_slug(db):
    with pytest.raises(CommandError) as exc:
        call_command("purge_config_history", "nope", "--yes")
    assert "nope" in _one_line(exc)
    assert not PurgedConfig.objects.exists()


def test_command_purges_and_prints_the_tombstone(kept, capsys, monkeypatch):
    bot, rows = kept
    bot.archive(by="ana")
    monkeypatch.setattr(getpass, "getuser", lambda: "operator")
    call_command("purge_config_history", "support-bot", "--yes", "--reason", "test site")
    out = capsys.readouterr().out
    assert "support-bot" in out
    assert "2 versions" in out
    assert rows[-1][1] in out
    tombstone = PurgedConfig.objects.get()
    assert (tombstone.purged_by, tombstone.reason) == ("operator", "test site")
    assert not BotConfig.objects.exists()


def test_command_by_names_the_operator(bot, capsys):
    call_command("purge_config_history", "support-bot", "--yes", "--by", "ops-team")
    assert PurgedConfig.objects.get().purged_by == "ops-team"
    assert "no version" in capsys.readouterr().out


def test_command_refuses_a_bad_reason_in_one_line(kept):
    with pytest.raises(CommandError) as exc:
        call_command("purge_config_history", "support-bot", "--yes", "--reason", "a\x00b")
    assert "NUL" in _one_line(exc)
    assert _unchanged(kept)


def test_saving_a_stale_copy_does_not_unarchive(bot_with_history):
    stale = BotConfig.objects.get(pk=bot_with_history.pk)
    BotConfig.objects.get(pk=bot_with_history.pk).archive(by="ops", reason="retired")
    stale.description = "edited in a tab opened before the archive"
    stale.save()
    fresh = BotConfig.objects.get(pk=bot_with_history.pk)
    assert fresh.is_archived
    assert (fresh.archived_by, fresh.archive_reason) == ("ops", "retired")


def test_an_archived_configs_own_fields_cannot_be_recorded(bot_with_history):
    bot = BotConfig.objects.get(pk=bot_with_history.pk)
    BotConfig.objects.get(pk=bot.pk).archive()
    bot.name = "Renamed while archived"
    with pytest.raises(ConfigArchivedError):
        record_changes(bot, ["name"], reason="rename")
    assert BotConfig.objects.get(pk=bot.pk).name == bot_with_history.name
    assert not BotConfigChange.objects.filter(bot_config_id=bot.pk).exists()
