"""Small helpers the admin tests share."""

from __future__ import annotations

import json
import re
from html import unescape

from django.urls import reverse

from config_versions.models import BotConfig


def url(name: str, *args) -> str:
    return reverse(f"admin:config_versions_botconfig_{name}", args=args)


def version_numbers(bot: BotConfig) -> list[int]:
    return list(bot.versions.order_by("version").values_list("version", flat=True))


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def text(response) -> str:
    """The page as text, tags stripped, entities decoded: what a person reads."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def change_data(bot: BotConfig, config_text: str, reason: str = "A reason", **extra) -> dict:
    data = {
        "name": bot.name,
        "slug": bot.slug,
        "description": bot.description,
        "schema": "" if bot.schema is None else json.dumps(bot.schema),
        "config": config_text,
        "reason": reason,
        "expected_version": str(bot.current_version),
        "_save": "Save",
    }
    data.update(extra)
    return data
