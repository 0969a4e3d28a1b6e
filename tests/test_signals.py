from __future__ import annotations

import pytest
from django.db import transaction

from config_versions.models import BotConfig
from config_versions.signals import config_rolled_back, version_created

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def received():
    log: list[tuple[str, int, int | None]] = []

    def on_created(sender, bot_config, version, **kwargs):
        assert sender is BotConfig
        log.append(("created", version.version, None))

    def on_rollback(sender, bot_config, version, to_version, **kwargs):
        log.append(("rolled_back", version.version, to_version))

    version_created.connect(on_created)
    config_rolled_back.connect(on_rollback)
    yield log
    version_created.disconnect(on_created)
    config_rolled_back.disconnect(on_rollback)


def test_sent_after_commit(bot, received):
    manager = bot.version_manager
    with transaction.atomic():
        manager.create({"a": 1})
        manager.update({"a": 2})
        assert received == []
    assert received == [("created", 1, None), ("created", 2, None)]
    manager.rollback(1)
    assert received[2:] == [("created", 3, None), ("rolled_back", 3, 1)]


def test_not_sent_when_rolled_back(bot, received):
    with pytest.raises(RuntimeError), transaction.atomic():
        bot.version_manager.create({"a": 1})
        raise RuntimeError("abort")
    assert received == []
    assert bot.versions.count() == 0


def test_sent_by_the_versioning_layer_not_the_store(bot, received):
    """A store only reads and appends: writing through it alone sends nothing."""
    from config_versions import ConfigVersionManager
    from config_versions.storage import DatabaseStore

    bare = ConfigVersionManager(DatabaseStore(bot))
    bare.create({"a": 1})
    bare.update({"a": 2})
    bare.rollback(1)
    assert received == []
    bot.version_manager.rollback(2)
    assert received == [("created", 4, None), ("rolled_back", 4, 2)]


def test_no_signal_for_a_write_that_changed_nothing(bot, received):
    manager = bot.version_manager
    manager.create({"a": 1})
    manager.update({"a": 1})
    manager.rollback(1)
    assert received == [("created", 1, None)]


def test_imports_send_version_created(bot, received):
    from django.core.management import call_command

    from config_versions import ConfigVersionManager

    source = ConfigVersionManager()
    source.create({"a": 1})
    source.update({"a": 2})
    import json
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(source.to_dict(), handle)
    call_command("import_config_history", handle.name, slug="imported", unverified=True)
    assert received == [("created", 1, None), ("created", 2, None)]
