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
