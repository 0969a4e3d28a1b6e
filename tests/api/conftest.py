from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from config_versions.models import BotConfig
from tests.api.labels_setup import release

ClientFactory = Callable[..., APIClient]


@pytest.fixture
def client_for(db, django_user_model) -> ClientFactory:
    """An API client authenticated by token, as a bot would be, with the given perms."""
    made = 0

    def make(*perms: str, superuser: bool = False, username: str | None = None) -> APIClient:
        nonlocal made
        made += 1
        name = username or f"user{made}"
        if superuser:
            user = django_user_model.objects.create_superuser(name, password="x")
        else:
            user = django_user_model.objects.create_user(name, password="x")
            user.user_permissions.set(
                Permission.objects.filter(
                    content_type__app_label="config_versions", codename__in=perms
                )
            )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
        return client

    return make


@pytest.fixture
def admin_api(client_for: ClientFactory) -> APIClient:
    return client_for(superuser=True, username="root")


@pytest.fixture
def writer_api(client_for: ClientFactory) -> APIClient:
    return client_for(
        "view_botconfig",
        "add_botconfig",
        "change_botconfig",
        "rollback_botconfig",
        username="deploybot",
    )


@pytest.fixture
def history_bot(bot: BotConfig) -> BotConfig:
    """Three versions: 1 and 2 from the seed document, 3 a rollback to 1."""
    manager = bot.version_manager
    manager.create({"name": "SupportBot", "llm": {"provider": "openai", "model": "gpt-4"}})
    manager.update(
        {"name": "SupportBot", "llm": {"provider": "anthropic", "model": "claude-3-sonnet"}},
        reason="Switch to Claude",
        created_by="admin",
    )
    manager.rollback(1, reason="Back to OpenAI", created_by="admin")
    bot.refresh_from_db()
    return bot


@pytest.fixture
def superuser_api(django_user_model) -> APIClient:
    # Authenticated directly: no token or permission queries in the query counts.
    client = APIClient()
    client.force_authenticate(django_user_model.objects.create_superuser("root", password="x"))
    return client


@pytest.fixture
def released(bot: BotConfig) -> BotConfig:
    """``bot`` with its labelled history (``labels_setup.release``); the module must
    declare the labels."""
    return release(bot)
