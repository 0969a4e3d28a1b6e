"""A config with a release history at known times, shared by the label API tests.

Versions 1, 2, 3 (3 is a rollback to 1) and then moves of the site's two labels::

    T0        version 1           T0+300  staging    -> 2   (move 1)
    T0+100    version 2           T0+400  production -> 1   (move 2, by "lead")
    T0+200    version 3           T0+500  staging    -> 3   (move 3)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from config_versions.models import BotConfig

LABELS = {"staging": {}, "production": {"protected": True}}
SITE = {"LABELS": LABELS}
URL = "/api/configs/support-bot/"
T0 = 1_700_000_000.0
V1 = {"name": "SupportBot", "llm": {"provider": "openai", "model": "gpt-4"}}
V2 = {"name": "SupportBot", "llm": {"provider": "anthropic", "model": "claude-3-sonnet"}}


def at(offset: float) -> str:
    """T0 + ``offset`` as RFC 3339 in UTC, with "Z"."""
    when = dt.datetime.fromtimestamp(T0 + offset, tz=dt.UTC)
    return when.isoformat().replace("+00:00", "Z")


def release(bot: BotConfig) -> BotConfig:
    """Give ``bot`` (no versions yet) the history above; CONFIG_VERSIONS must declare
    LABELS."""
    times: Iterator[float] = iter(T0 + step for step in (0, 100, 200, 300, 400, 500))
    manager = bot.version_manager
    manager.clock = lambda: next(times)
    manager.create(V1)
    manager.update(V2, reason="Switch to Claude", created_by="admin")
    manager.rollback(1, reason="Back to OpenAI", created_by="admin")
    manager.set_label("staging", 2, reason="Try Claude", created_by="priya")
    manager.set_label("production", 1, reason="First release", created_by="lead")
    manager.set_label("staging", 3, created_by="priya")
    bot.refresh_from_db()
    return bot
