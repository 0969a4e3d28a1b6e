"""Direct writes under review: with REVIEW["all_writes"], an editor without
bypass_review_botconfig proposes instead of saving, and adds or rolls back nothing; a
label that moves only by applying a proposal is never promoted directly. Nothing is
ever written silently."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from config_versions.models import BotConfig, BotConfigLabelMove, BotConfigProposal
from tests.admin.helpers import change_data, messages_of, text, url, version_numbers
from tests.admin.test_proposals import LABELS, OPUS, REVIEW, Roles, buttons, propose_data

pytestmark = pytest.mark.django_db

ALL_WRITES = {**REVIEW, "all_writes": True}


@pytest.fixture(autouse=True)
def _review(settings):
    settings.CONFIG_VERSIONS = {"LABELS": LABELS, "REVIEW": ALL_WRITES}


@pytest.fixture
def as_role(db):
    return Roles()


EDITOR = ("rollback_botconfig", "add_botconfig")


def test_an_editor_without_bypass_proposes(as_role, bot_with_history):
    bot = bot_with_history
    client = as_role("editor", *EDITOR)
    response = client.get(url("change", bot.pk))
    assert buttons(response) == {"_propose"}
    response = client.post(url("change", bot.pk), propose_data(bot, OPUS), follow=True)
    assert response.redirect_chain == [(url("proposal", bot.pk, 1), 302)]
    assert version_numbers(bot) == [1, 2]
    assert bot.version_manager.get_proposal(1).author == "editor"


def test_a_direct_save_without_bypass_is_refused(as_role, bot_with_history):
    bot = bot_with_history
    client = as_role("editor", *EDITOR)
    response = client.post(url("change", bot.pk), change_data(bot, json.dumps(OPUS)))
    assert response.status_code == 200
    assert (
        "Changes to bot configs go through review here: propose the change (permission "
        "bypass_review_botconfig writes directly). Nothing was saved" in text(response)
    )
    assert version_numbers(bot) == [1, 2]
    assert not BotConfigProposal.objects.exists()


def test_with_bypass_an_editor_saves(as_role, bot_with_history):
    bot = bot_with_history
    client = as_role("editor", *EDITOR, "bypass_review_botconfig")
    assert "_save" in buttons(client.get(url("change", bot.pk)))
    response = client.post(url("change", bot.pk), change_data(bot, json.dumps(OPUS)), follow=True)
    assert messages_of(response) == ["Saved version 3."]
    assert version_numbers(bot) == [1, 2, 3]


def test_rollback_without_bypass_is_refused(as_role, bot_with_history):
    bot = bot_with_history
    client = as_role("editor", *EDITOR)
    history = client.get(url("history", bot.pk)).content.decode()
    assert "cv-rollback-button" not in history
    assert client.get(url("rollback", bot.pk, 1)).status_code == 403
    response = client.post(url("rollback", bot.pk, 1), {"expected_version": "2", "reason": "x"})
    assert response.status_code == 403
    # The changelist action is not offered, and posting it does nothing.
    response = client.post(
        url("changelist"),
        {"action": "rollback_to_previous", ACTION_CHECKBOX_NAME: [bot.pk], "post": "yes"},
    )
    assert version_numbers(bot) == [1, 2]
    assert 'value="rollback_to_previous"' not in client.get(url("changelist")).content.decode()


def test_adding_a_config_without_bypass_is_refused(as_role, db):
    client = as_role("editor", *EDITOR)
    assert client.get(url("add")).status_code == 403
    data = {"name": "N", "slug": "n", "schema": "", "config": "{}", "reason": "First"}
    assert client.post(url("add"), data).status_code == 403
    assert not BotConfig.objects.exists()


def test_without_all_writes_editors_save_as_before(as_role, bot_with_history, settings):
    settings.CONFIG_VERSIONS = {"LABELS": LABELS, "REVIEW": REVIEW}
    bot = bot_with_history
    client = as_role("editor", *EDITOR)
    assert "_save" in buttons(client.get(url("change", bot.pk)))
    assert client.get(url("rollback", bot.pk, 1)).status_code == 200
    assert client.get(url("add")).status_code == 200


# A label that moves only by applying a proposal ------------------------------------------


def test_promoting_a_review_label_moves_nothing(as_role, bot_with_history):
    bot = bot_with_history
    # May move every label but not propose (who may propose it: test_labels_propose.py).
    client = as_role("viewer", "promote_botconfig", "promote_protected_botconfig")
    history = client.get(url("history", bot.pk)).content.decode()
    promotions = re.findall(r'cv-promote-button[^"]*" data-label="(\w+)"', history)
    assert set(promotions) == {"staging"}
    assert "cv-propose-button" not in history
    for response in (
        client.get(url("promote", bot.pk, "production", 2), follow=True),
        client.post(
            url("promote", bot.pk, "production", 2), {"expected_version": "0"}, follow=True
        ),
    ):
        assert response.redirect_chain[-1] == (url("history", bot.pk), 302)
        assert messages_of(response)[0].startswith(
            "Nothing was moved: production moves only by applying an approved proposal."
        )
    assert not BotConfigLabelMove.objects.exists()
    # Any other label is promoted as before.
    client.post(url("promote", bot.pk, "staging", 2), {"expected_version": "0"})
    assert bot.version_manager.get_label("staging") == 2
