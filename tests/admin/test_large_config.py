"""A config near the size limit saves from the change form, as a browser posts it.

A browser sends the editor's text pretty-printed and URL-encoded: a config of 1.9 MB
(compact JSON) makes a body of about 4 MB, over Django's DATA_UPLOAD_MAX_MEMORY_SIZE
(2.5 MB), which Django refuses with a bare "Bad Request (400)" before any view runs.
These tests post real bodies of the real size, with the CSRF check on, as a browser does.
"""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib import admin
from django.test import Client

from config_versions.admin.bot_config import BotConfigAdmin
from config_versions.conf import settings as cv_settings
from config_versions.forms import pretty_json
from config_versions.models import BotConfig
from tests.admin.conftest import make_user
from tests.admin.helpers import change_data, url

FORM = "application/x-www-form-urlencoded"


def config_of(size: int) -> dict[str, Any]:
    """A config of prompts and intents whose compact JSON is just over ``size`` bytes."""
    intents: list[dict[str, Any]] = []
    config: dict[str, Any] = {
        "name": "SupportBot",
        "prompts": {"system": "Tu es un assistant de support. Réponds brièvement. " * 20},
        "intents": intents,
    }
    compact = len(json.dumps(config, separators=(",", ":"), ensure_ascii=False).encode())
    n = 0
    while compact < size:
        intent = {
            "name": f"intent_{n}",
            "enabled": n % 3 != 0,
            "priority": n % 7,
            "examples": [
                f"How do I change the delivery address of order {n}-{k}?" for k in range(4)
            ],
            "reply": {"text": f"Open “Orders”, pick order {n} and choose “Change address”."},
        }
        compact += len(json.dumps(intent, separators=(",", ":"), ensure_ascii=False).encode()) + 1
        intents.append(intent)
        n += 1
    return config


def registered_admin() -> BotConfigAdmin:
    model_admin = admin.site._registry[BotConfig]
    assert isinstance(model_admin, BotConfigAdmin)
    return model_admin


def compact_size(config: dict[str, Any]) -> int:
    return len(json.dumps(config, separators=(",", ":"), ensure_ascii=False).encode())


def browser_body(bot: BotConfig, token: str, config_text: str, **extra: str) -> bytes:
    """The body a browser posts: line ends as CRLF, URL-encoded UTF-8."""
    data = change_data(bot, config_text.replace("\n", "\r\n"), reason="Big edit", **extra)
    data["csrfmiddlewaretoken"] = token
    return urlencode(data).encode()


def open_form(client: Client, bot: BotConfig) -> tuple[str, str]:
    """GET the change form: its CSRF token and the text of its config editor."""
    response = client.get(url("change", bot.pk))
    assert response.status_code == 200
    html = response.content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    editor = re.search(r'<textarea name="config"[^>]*>\n?(.*?)</textarea>', html, re.S)
    assert token
    assert editor
    return token.group(1), unescape(editor.group(1))


@pytest.fixture
def editor_client(db) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("editor"))
    return client


@pytest.fixture
def big_bot(db) -> BotConfig:
    bot = BotConfig.objects.create(name="Big bot", slug="big-bot")
    bot.version_manager.create(config_of(1_990_000), reason="Import")
    bot.refresh_from_db()
    return bot


def test_a_config_near_the_limit_saves_from_the_change_form(editor_client, big_bot):
    token, text = open_form(editor_client, big_bot)
    config = json.loads(text)
    assert 1_900_000 < compact_size(config) < cv_settings.MAX_CONFIG_BYTES
    config["intents"][-1]["priority"] = 99
    body = browser_body(big_bot, token, pretty_json(config))
    assert len(body) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE  # what Django would refuse

    response = editor_client.post(url("change", big_bot.pk), body, content_type=FORM)

    assert response.status_code == 302, response.content[:2000]
    big_bot.refresh_from_db()
    assert big_bot.current_version == 2
    assert big_bot.version_manager.current_config == config


def test_a_new_config_near_the_limit_saves_from_the_add_form(editor_client, db):
    editor_client.force_login(make_user("superuser"))  # editors may not add
    page = editor_client.get(url("add")).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    config = config_of(1_950_000)
    data = {
        "name": "New big bot",
        "slug": "new-big-bot",
        "description": "",
        "schema": "",
        "config": pretty_json(config).replace("\n", "\r\n"),
        "reason": "Import",
        "csrfmiddlewaretoken": token,
        "_save": "Save",
    }
    body = urlencode(data).encode()
    assert len(body) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    response = editor_client.post(url("add"), body, content_type=FORM)

    assert response.status_code == 302, response.content[:2000]
    bot = BotConfig.objects.get(slug="new-big-bot")
    assert bot.version_manager.current_config == config


def test_a_config_over_the_limit_gets_the_forms_own_size_error(editor_client, big_bot):
    token, _text = open_form(editor_client, big_bot)
    config = config_of(cv_settings.MAX_CONFIG_BYTES + 100_000)
    assert compact_size(config) > cv_settings.MAX_CONFIG_BYTES

    response = editor_client.post(
        url("change", big_bot.pk),
        browser_body(big_bot, token, pretty_json(config)),
        content_type=FORM,
    )

    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.errors.get("config", []))
    assert "limit" in errors
    assert str(cv_settings.MAX_CONFIG_BYTES) in errors.replace(",", "")
    big_bot.refresh_from_db()
    assert big_bot.current_version == 1


class CountingStream:
    """A request body that says how much of it was read."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.read_bytes = 0

    def read(self, n: int = -1) -> bytes:
        n = self.size - self.read_bytes if n is None or n < 0 else n
        chunk = min(n, self.size - self.read_bytes)
        self.read_bytes += chunk
        return b"a" * chunk

    def readline(self, n: int = -1) -> bytes:
        return self.read(n)


def test_a_far_too_large_body_is_refused_unread(editor_client, big_bot):
    limit = registered_admin().max_post_bytes()
    stream = CountingStream(50 * 1024 * 1024 * 1024)  # 50 GB, as announced
    response = editor_client.generic(
        "POST",
        url("change", big_bot.pk),
        **{"wsgi.input": stream, "CONTENT_LENGTH": str(stream.size), "CONTENT_TYPE": FORM},
    )
    assert response.status_code == 413
    page = response.content.decode()
    assert "This form is too large to save" in page
    assert "Nothing was saved" in page
    assert "A config may hold at most 2.0\xa0MB" in page
    assert stream.read_bytes == 0
    assert limit >= 8 * cv_settings.MAX_CONFIG_BYTES


def test_a_body_just_over_the_bound_is_refused_with_the_same_page(editor_client, big_bot):
    token, _text = open_form(editor_client, big_bot)
    limit = registered_admin().max_post_bytes()
    body = urlencode({"csrfmiddlewaretoken": token, "config": "x" * limit}).encode()
    response = editor_client.post(url("change", big_bot.pk), body, content_type=FORM)
    assert response.status_code == 413
    assert b"This form is too large to save" in response.content


def test_the_csrf_check_still_applies(editor_client, big_bot):
    _token, text = open_form(editor_client, big_bot)
    body = browser_body(big_bot, "not-the-token", text)
    response = editor_client.post(url("change", big_bot.pk), body, content_type=FORM)
    assert response.status_code == 403
    big_bot.refresh_from_db()
    assert big_bot.current_version == 1


def test_the_rest_of_the_site_keeps_djangos_limit(client_as, big_bot):
    body = urlencode({"config": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)}).encode()
    # Someone who may not change configs: Django answers as it always does.
    viewer = client_as("viewer")
    assert viewer.post(url("change", big_bot.pk), body, content_type=FORM).status_code == 400
    # Other pages of the admin, for an editor too.
    editor = client_as("editor")
    assert editor.post(url("changelist"), body, content_type=FORM).status_code == 400
    assert editor.post("/admin/login/", body, content_type=FORM).status_code == 400


def test_a_small_edit_still_saves(su_client, big_bot):
    # The usual multipart post of the test client goes Django's own way.
    config = big_bot.version_manager.current_config
    small = BotConfig.objects.create(name="Small", slug="small")
    small.version_manager.create({"a": 1})
    small.refresh_from_db()
    response = su_client.post(url("change", small.pk), change_data(small, '{"a": 2}'))
    assert response.status_code == 302
    small.refresh_from_db()
    assert small.current_version == 2
    assert big_bot.version_manager.current_config == config
