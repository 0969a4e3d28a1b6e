"""Labels in the database: moves, conflicts, time travel, immutability (every database)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from config_versions.core.errors import (
    ConfigArchivedError,
    UnknownLabelError,
    VersionConflictError,
    VersionNotFoundError,
)
from config_versions.exceptions import ImmutableVersionError
from config_versions.models import BotConfig, BotConfigLabelMove
from config_versions.signals import label_moved

pytestmark = pytest.mark.django_db(transaction=True)

LABELS = {"staging": {}, "production": {"protected": True}}


@pytest.fixture(autouse=True)
def _labels(settings):
    settings.CONFIG_VERSIONS = {"LABELS": LABELS}


@pytest.fixture
def bot():
    bot = BotConfig.objects.create(name="Bot", slug="bot")
    manager = bot.version_manager
    for n in range(1, 4):
        manager.save({"n": n}, f"v{n}")
    return bot


def test_a_move_is_recorded_and_read_back(bot):
    manager = bot.version_manager
    move = manager.set_label("staging", 2, "try it", created_by="ann")
    assert (move.sequence, move.from_version, move.to_version) == (1, None, 2)
    assert manager.get_label("staging") == 2
    assert manager.labels == {"staging": 2}
    assert manager.resolve("staging").config == {"n": 2}
    again = manager.set_label("staging", 3)
    assert (again.sequence, again.from_version) == (2, 2)
    assert [m.to_version for m in manager.label_history("staging")] == [3, 2]
    row = BotConfigLabelMove.objects.get(sequence=2)
    assert row.chain_hash == again.chain_hash


def test_unchanged_moves_write_nothing(bot):
    manager = bot.version_manager
    manager.set_label("staging", 2)
    assert manager.set_label("staging", 2).unchanged
    assert BotConfigLabelMove.objects.count() == 1


def test_refusals(bot):
    manager = bot.version_manager
    with pytest.raises(VersionNotFoundError):
        manager.set_label("staging", 4)
    with pytest.raises(UnknownLabelError):
        manager.set_label("canary", 1)
    with pytest.raises(UnknownLabelError):
        manager.set_label("latest", 1)
    manager.set_label("staging", 1)
    with pytest.raises(VersionConflictError):
        manager.set_label("staging", 2, expected_version=3)
    bot.archive()
    with pytest.raises(ConfigArchivedError):
        manager.set_label("staging", 2)
    assert BotConfigLabelMove.objects.count() == 1


def test_time_travel(bot):
    manager = bot.version_manager
    first = manager.set_label("production", 1)
    second = manager.set_label("production", 3)
    assert manager.resolve("production", first.timestamp - 1) is None
    assert manager.resolve("production", first.timestamp).version == 1
    assert manager.resolve("production", second.timestamp).version == 3
    assert manager.resolve("latest", 0) is None


def test_moves_are_immutable(bot):
    bot.version_manager.set_label("staging", 1)
    with pytest.raises(ImmutableVersionError):
        BotConfigLabelMove.objects.update(to_version=2)
    table = BotConfigLabelMove._meta.db_table
    for sql in (f"UPDATE {table} SET to_version = 2", f"DELETE FROM {table}"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert BotConfigLabelMove.objects.get().to_version == 1


def test_signal_after_commit(bot):
    heard = []

    def receiver(sender, **kwargs):
        heard.append((kwargs["label"], kwargs["from_version"], kwargs["to_version"]))

    label_moved.connect(receiver)
    try:
        with transaction.atomic():
            bot.version_manager.set_label("staging", 2)
            assert heard == []
        assert heard == [("staging", None, 2)]
    finally:
        label_moved.disconnect(receiver)


def test_round_trip_keeps_moves(bot):
    manager = bot.version_manager
    manager.set_label("staging", 2)
    manager.set_label("production", 2)
    manager.set_label("staging", 3)
    data = manager.to_dict()
    copy = BotConfig.objects.create(name="Copy", slug="copy")
    from config_versions.managers import restore_history

    with transaction.atomic():
        restored = restore_history(copy, data)
    assert restored.labels == {"production": 2, "staging": 3}
    assert restored.to_dict()["label_moves"] == data["label_moves"]
