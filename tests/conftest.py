from __future__ import annotations

import pytest


@pytest.fixture
def bot(db):
    from config_versions.models import BotConfig

    return BotConfig.objects.create(name="Support bot", slug="support-bot")


@pytest.fixture
def bot_with_history(bot):
    manager = bot.version_manager
    manager.create({"name": "SupportBot", "llm": {"provider": "openai", "model": "gpt-4"}})
    manager.update(
        {"name": "SupportBot", "llm": {"provider": "anthropic", "model": "claude-3-sonnet"}},
        reason="Switch to Claude",
        created_by="admin",
    )
    bot.refresh_from_db()
    return bot


@pytest.fixture(autouse=True)
def _purge_histories_before_flush(request, _django_db_helper):
    """Transactional tests end with Django's flush, a plain DELETE on SQLite and MariaDB,
    which the history's DELETE trigger refuses. Purge what the test left first, through
    the one permitted path (so each such test exercises it too). Depending on
    pytest-django's helper makes this teardown run before its flush."""
    yield
    if request.node.get_closest_marker("django_db") is None and not any(
        name in request.fixturenames for name in ("db", "transactional_db", "live_server")
    ):
        return
    from django.conf import settings
    from django.db import connections

    from config_versions.models import BotConfig
    from config_versions.purge import purge_history

    for alias in settings.DATABASES:
        connection = connections[alias]
        if connection.settings_dict.get("TEST", {}).get("MIRROR") or connection.in_atomic_block:
            continue  # a mirror, or a test wrapped in a transaction that is rolled back
        for bot in BotConfig.objects.using(alias).all():
            purge_history(bot, reason="test teardown")
