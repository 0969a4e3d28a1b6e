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
