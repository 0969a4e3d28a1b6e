"""A writer that waited its turn (store.serialized) commits in a transaction of its own.
If the connection is lost during that COMMIT, the server may have committed: the store
looks, on a new connection, before it calls the write failed. The COMMIT is made to fail
the two ways it can: after the server committed (the answer lost), and before."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import OperationalError, connection

from config_versions.core.manager import ConfigVersionManager
from config_versions.models import BotConfig, BotConfigLabelMove, BotConfigVersion

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def commits(behaviour: Callable[[Callable[[], None]], None]) -> Iterator[None]:
    wrapper: Any = connection  # the DatabaseWrapper's _commit, which atomic() calls
    original = wrapper._commit
    wrapper._commit = lambda: behaviour(original)
    try:
        yield
    finally:
        del wrapper._commit


def answer_lost(commit: Callable[[], None]) -> None:
    commit()
    raise OperationalError("server closed the connection unexpectedly")


def never_reached(commit: Callable[[], None]) -> None:
    raise OperationalError("server closed the connection unexpectedly")


def _stale_manager(bot: BotConfig) -> ConfigVersionManager:
    """A manager whose head is one behind: its next update waits in serialized()."""
    bot.version_manager.create({"n": 0})
    stale = BotConfig.objects.get(pk=bot.pk).version_manager
    assert stale.current_version == 1
    BotConfig.objects.get(pk=bot.pk).version_manager.update({"n": 1})
    return stale


def test_a_commit_whose_answer_is_lost_is_a_write(bot):
    stale = _stale_manager(bot)
    with commits(answer_lost):
        written = stale.update({"n": 2}, reason="answer lost")
    assert written.version == 3
    assert not written.unchanged
    rows = BotConfigVersion.objects.filter(bot_config=bot, reason="answer lost")
    assert list(rows.values_list("version", flat=True)) == [3]


def test_a_commit_that_never_happened_is_an_error(bot):
    stale = _stale_manager(bot)
    with pytest.raises(OperationalError), commits(never_reached):
        stale.update({"n": 2}, reason="never committed")
    assert not BotConfigVersion.objects.filter(bot_config=bot, reason="never committed").exists()
    assert BotConfig.objects.get(pk=bot.pk).version_manager.current_version == 2


def _labelled(bot: BotConfig, settings: Any) -> ConfigVersionManager:
    settings.CONFIG_VERSIONS = {"LABELS": {"production": {}}}
    manager = bot.version_manager
    manager.create({"n": 0})
    manager.update({"n": 1})
    return manager


def test_a_label_move_whose_commit_answer_is_lost_is_a_move(bot, settings):
    manager = _labelled(bot, settings)
    with commits(answer_lost):
        move = manager.set_label("production", 2, reason="answer lost")
    assert (move.sequence, move.to_version, move.unchanged) == (1, 2, False)
    assert BotConfig.objects.get(pk=bot.pk).version_manager.get_label("production") == 2


def test_a_label_move_that_never_committed_is_an_error(bot, settings):
    manager = _labelled(bot, settings)
    with pytest.raises(OperationalError), commits(never_reached):
        manager.set_label("production", 2, reason="never committed")
    assert not BotConfigLabelMove.objects.filter(bot_config=bot).exists()
