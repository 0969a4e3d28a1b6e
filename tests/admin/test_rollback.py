"""Rollback: a confirmation page (GET), then a CSRF-protected POST, a message naming the
new version. The changelist action confirms first too."""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client

from config_versions.models import BotConfig
from tests.admin.conftest import make_user
from tests.admin.helpers import messages_of, url, version_numbers

pytestmark = pytest.mark.django_db


def test_one_click_rolls_back_and_returns_to_history(su_client, bot_with_history):
    response = su_client.post(url("rollback", bot_with_history.pk, 1), {"expected_version": "2"})
    assert response.status_code == 302
    assert response["Location"] == url("history", bot_with_history.pk)
    assert messages_of(su_client.get(response["Location"])) == [
        "Rolled back to version 1: its config is now version 3."
    ]
    manager = bot_with_history.version_manager
    third = manager.get_version(3)
    assert third.config == manager.get_version(1).config
    assert third.metadata == {"rollback_from": 2, "rollback_to": 1}
    assert third.created_by == "superuser"
    assert third.reason == "Rollback to version 1"
    assert LogEntry.objects.get().change_message == "Rolled back to version 1."


def test_a_reason_can_be_given(su_client, bot_with_history):
    su_client.post(url("rollback", bot_with_history.pk, 1), {"reason": "GPT-4 answered better"})
    assert bot_with_history.version_manager.get_version(3).reason == "GPT-4 answered better"


def test_get_asks_first_and_writes_nothing(su_client, bot_with_history):
    response = su_client.get(url("rollback", bot_with_history.pk, 1))
    assert response.status_code == 200
    assert version_numbers(bot_with_history) == [1, 2]
    assert response.context["expected_version"] == 2
    assert response.context["form"]["reason"].value() == "Rollback to version 1"


def test_csrf_token_is_required(bot_with_history):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("superuser"))
    response = client.post(url("rollback", bot_with_history.pk, 1))
    assert response.status_code == 403
    assert version_numbers(bot_with_history) == [1, 2]
    # With the token the history page hands out, the same click works.
    page = client.get(url("history", bot_with_history.pk))
    token = page.context["csrf_token"]
    response = client.post(url("rollback", bot_with_history.pk, 1), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert version_numbers(bot_with_history) == [1, 2, 3]


def test_stale_page_does_not_undo_a_newer_save(su_client, bot_with_history):
    bot_with_history.version_manager.update({"newer": True}, reason="meanwhile")
    response = su_client.post(
        url("rollback", bot_with_history.pk, 1), {"expected_version": "2"}, follow=True
    )
    (message,) = messages_of(response)
    assert message.startswith("Version 3 was saved after this page showed version 2")
    assert url("diff", bot_with_history.pk) + "?from=2&amp;to=3" in message
    assert version_numbers(bot_with_history) == [1, 2, 3]


def test_rolling_back_to_the_current_version_writes_nothing(su_client, bot_with_history):
    response = su_client.post(url("rollback", bot_with_history.pk, 2), follow=True)
    assert messages_of(response) == [
        "Version 2 is already the current version, so nothing was rolled back."
    ]
    assert version_numbers(bot_with_history) == [1, 2]


def test_missing_version(su_client, bot_with_history):
    response = su_client.post(url("rollback", bot_with_history.pk, 9), follow=True)
    assert messages_of(response) == ["Nothing was rolled back: Version 9 not found"]
    assert version_numbers(bot_with_history) == [1, 2]


def test_malformed_expected_version(su_client, bot_with_history):
    response = su_client.post(
        url("rollback", bot_with_history.pk, 1), {"expected_version": "two"}, follow=True
    )
    assert messages_of(response) == ["The rollback request was malformed."]
    assert version_numbers(bot_with_history) == [1, 2]


def test_version_the_schema_now_refuses_is_not_restored(su_client, bot_with_history):
    BotConfig.objects.filter(pk=bot_with_history.pk).update(
        schema={
            "type": "object",
            "properties": {"llm": {"properties": {"provider": {"const": "anthropic"}}}},
        }
    )
    response = su_client.post(url("rollback", bot_with_history.pk, 1), follow=True)
    (message,) = messages_of(response)
    assert message.startswith("Version 1 cannot become current again: /llm/provider:")
    assert version_numbers(bot_with_history) == [1, 2]


def test_missing_config(su_client):
    response = su_client.post(url("rollback", 999, 1), follow=True)
    assert "doesn\u2019t exist" in messages_of(response)[0]


def changelist_action(client, *bots):
    return client.post(
        url("changelist"),
        {"action": "rollback_to_previous", "_selected_action": [b.pk for b in bots], "index": "0"},
        follow=True,
    )


def confirmation_data(page, **extra) -> dict:
    """What the action's confirmation page posts: its form's inputs."""
    html = page.content.decode()
    form = re.search(r'<form method="post" novalidate>.*?</form>', html, re.S).group()
    data: dict = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form):
        data.setdefault(name, []).append(value)
    data["reason"] = ""
    data.update(extra)
    return data


def test_action_rolls_selected_configs_back_to_their_previous_version(su_client, bot_with_history):
    other = BotConfig.objects.create(name="Other", slug="other")
    other.version_manager.create({"only": 1})
    # First the confirmation: nothing written yet.
    page = changelist_action(su_client, bot_with_history, other)
    assert version_numbers(bot_with_history) == [1, 2]
    plans = {p.obj.slug: (p.current, p.target, p.to_do) for p in page.context["plans"]}
    assert plans == {"support-bot": (2, 1, True), "other": (1, None, False)}
    # Then the confirming POST, as the page sends it (only the configs with work to do).
    response = su_client.post(url("changelist"), confirmation_data(page), follow=True)
    assert messages_of(response) == ["Rolled back “Support bot” to version 1 (now version 3)."]
    assert bot_with_history.version_manager.get_version(3).metadata["rollback_to"] == 1
    assert bot_with_history.version_manager.get_version(3).reason == "Rollback to version 1"
    assert version_numbers(other) == [1]


def test_action_is_offered_only_with_the_permission(client_as, bot_with_history):
    editor = client_as("editor").get(url("changelist"))
    assert "rollback_to_previous" not in editor.content.decode()
    rollbacker = client_as("rollbacker").get(url("changelist"))
    assert "rollback_to_previous" in rollbacker.content.decode()
