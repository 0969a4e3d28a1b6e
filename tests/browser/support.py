"""What the browser tests and ``scripts/screenshots.py`` share: the browser, the login
and a realistic history to look at."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

    from config_versions.models import BotConfig

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct horse battery staple"


def launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
    )


def login(page: Page, base_url: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base_url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base_url}/admin/")


BASE_CONFIG: dict[str, Any] = {
    "name": "SupportBot",
    "llm": {
        "provider": "openai",
        "model": "gpt-4",
        "temperature": 0.7,
        "max_tokens": 1024,
        "fallback": {"provider": "openai", "model": "gpt-4o-mini"},
    },
    "prompts": {
        "system": "You are a friendly support agent for Example Ltd. Answer briefly and "
        "cite the help-centre article you used.",
        "greeting": "Hi! How can I help you today?",
        "fallback_reply": "Let me get a colleague who can help with that.",
    },
    "memory": {"type": "buffer", "max_messages": 10, "redact": ["email", "phone"]},
    "tools": [
        {"name": "lookup_order", "enabled": True, "timeout_seconds": 10},
        {"name": "refund", "enabled": False, "timeout_seconds": 30},
        {"name": "track_parcel", "enabled": True, "timeout_seconds": 10},
    ],
    "retrieval": {
        "enabled": True,
        "indexes": ["faq", "articles", "policies"],
        "chunk_size": 800,
        "top_k": 4,
    },
    "channels": {
        "web": {"enabled": True, "position": "right"},
        "slack": {"enabled": False},
        "email": {"enabled": True, "from": "support@example.com"},
    },
    "guardrails": {"blocked_topics": ["medical advice", "legal advice"], "max_reply_chars": 2000},
    "locales": ["en-US", "en-GB", "de-DE"],
}


def second_config() -> dict[str, Any]:
    config = copy.deepcopy(BASE_CONFIG)
    config["llm"].update(provider="anthropic", model="claude-3-5-sonnet", temperature=0.3)
    config["tools"].insert(2, {"name": "escalate_to_human", "enabled": True, "timeout_seconds": 5})
    config["memory"]["max_messages"] = 20
    del config["channels"]["slack"]
    config["locales"].append("fr-FR")
    return config


def third_config() -> dict[str, Any]:
    config = second_config()
    config["prompts"]["greeting"] = "Hello! What can I do for you?"
    config["guardrails"]["max_reply_chars"] = 1200
    return config


def make_history(bot: BotConfig, users: dict[str, Any]) -> None:
    """v1 initial, v2 a model switch, v3 a tweak, v4 a rollback to v2, v5 a tweak."""

    def manager(name: str) -> Any:
        return bot.get_version_manager(user=users[name])

    manager("alice").create(BASE_CONFIG, reason="Initial configuration", created_by="alice")
    manager("bob").update(second_config(), reason="Switch to Claude 3.5 Sonnet", created_by="bob")
    manager("alice").update(
        third_config(), reason="Shorter greeting and replies", created_by="alice"
    )
    manager("bob").rollback(2, reason="Replies got cut off; back to v2", created_by="bob")
    config = second_config()
    config["retrieval"]["top_k"] = 6
    manager("alice").update(config, reason="Retrieve more context", created_by="alice")
    bot.refresh_from_db()
