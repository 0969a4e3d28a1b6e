"""The change form saves through ``manager.save`` only, and says one thing per outcome."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings

from config_versions.core.manager import ConfigVersionManager
from config_versions.editor_form import BotConfigAdminForm
from config_versions.forms import pretty_json
from config_versions.models import BotConfig, BotConfigChange
from config_versions.signals import version_created
from tests.admin.helpers import change_data, messages_of, text, url, version_numbers

pytestmark = pytest.mark.django_db

REASON_REQUIRED = "This field is required when something changes: the history keeps why."
NEW = json.dumps({"name": "SupportBot", "llm": {"provider": "anthropic", "model": "opus"}})


def form_errors(response) -> dict:
    assert response.status_code == 200, "expected the form back"
    form = response.context["adminform"].form
    return {k: [str(e) for e in v] for k, v in form.errors.items()}


def current_text(bot: BotConfig) -> str:
    return pretty_json(bot.version_manager.current_config)


@pytest.fixture
def save_calls(monkeypatch):
    """Every call of ``ConfigVersionManager.save``, with its keyword arguments."""
    calls: list[dict] = []
    original = ConfigVersionManager.save

    def spy(self, config, *args, **kwargs):
        calls.append(kwargs)
        return original(self, config, *args, **kwargs)

    monkeypatch.setattr(ConfigVersionManager, "save", spy)
    return calls


# One save path ------------------------------------------------------------------------


def test_change_form_saves_with_the_loaded_version_as_base(su_client, bot_with_history, save_calls):
    su_client.post(url("change", bot_with_history.pk), change_data(bot_with_history, NEW))
    assert [call["base_version"] for call in save_calls] == [2]
    assert version_numbers(bot_with_history) == [1, 2, 3]


def test_unchanged_config_is_the_managers_answer(su_client, bot_with_history, save_calls):
    response = su_client.post(
        url("change", bot_with_history.pk),
        change_data(bot_with_history, current_text(bot_with_history), reason=""),
        follow=True,
    )
    assert len(save_calls) == 1  # asked, not decided by the form
    assert messages_of(response) == ["Nothing changed, so nothing was saved."]
    assert version_numbers(bot_with_history) == [1, 2]


def test_add_form_writes_version_one_with_expected_version_zero(su_client, save_calls):
    su_client.post(
        url("add"),
        {"name": "N", "slug": "n", "schema": "", "config": '{"a": 1}', "reason": "First"},
    )
    # Checked on a scratch history while validating, then written for real.
    assert [call["expected_version"] for call in save_calls] == [0, 0]
    assert version_numbers(BotConfig.objects.get(slug="n")) == [1]


@pytest.mark.parametrize("button", ["_save", "_continue", "_addanother"])
def test_one_message_per_save_whatever_the_button(su_client, bot_with_history, button):
    data = change_data(bot_with_history, current_text(bot_with_history), reason="")
    del data["_save"]
    data[button] = "1"
    response = su_client.post(url("change", bot_with_history.pk), data, follow=True)
    assert messages_of(response) == ["Nothing changed, so nothing was saved."]


def test_a_new_version_says_so_once(su_client, bot_with_history):
    response = su_client.post(
        url("change", bot_with_history.pk), change_data(bot_with_history, NEW), follow=True
    )
    assert messages_of(response) == ["Saved version 3."]


def test_unknown_base_version_is_refused(su_client, bot_with_history):
    data = change_data(bot_with_history, NEW, expected_version="9")
    response = su_client.post(url("change", bot_with_history.pk), data)
    assert form_errors(response)["__all__"] == [
        "This form was loaded at version 9, which this config does not have. Reload the "
        "page to edit the current version."
    ]
    assert version_numbers(bot_with_history) == [1, 2]


# Conflicts the user can resolve ---------------------------------------------------------


def edit_from(client, bot, change) -> dict:
    form = client.get(url("change", bot.pk)).context["adminform"].form
    config = json.loads(form["config"].value())
    change(config)
    return change_data(bot, json.dumps(config), expected_version=form["expected_version"].value())


def test_every_conflicting_path_is_named_with_both_values(client_as, bot_with_history):
    first, second = client_as("editor"), client_as("rollbacker")
    bot = bot_with_history

    def theirs(config):
        config["llm"].update(model="gpt-4o", provider="openai")
        config["name"] = "Helper"

    def mine(config):
        config["llm"].update(model="opus", provider="anthropic-eu")
        config["name"] = "Assistant"
        config["tone"] = "warm"

    mine_data = edit_from(second, bot, mine)
    assert first.post(url("change", bot.pk), edit_from(first, bot, theirs)).status_code == 302
    response = second.post(url("change", bot.pk), mine_data)
    page = text(response)
    assert "Both of you changed /llm/model, /llm/provider, /name:" in page
    assert '/llm/model : yours "opus", version 3 has "gpt-4o"' in page
    assert '/llm/provider : yours "anthropic-eu", version 3 has "openai"' in page
    assert '/name : yours "Assistant", version 3 has "Helper"' in page
    form = response.context["adminform"].form
    assert json.loads(form["config"].value()) == {
        "name": "Assistant",
        "llm": {"provider": "anthropic-eu", "model": "opus"},
        "tone": "warm",
    }
    assert form["expected_version"].value() == "3"
    # The second save goes through.
    again = dict(mine_data, config=form["config"].value(), expected_version="3")
    assert second.post(url("change", bot.pk), again).status_code == 302
    assert version_numbers(bot) == [1, 2, 3, 4]


def test_a_third_save_during_the_resolution_is_a_new_conflict(client_as, bot_with_history):
    first, second = client_as("editor"), client_as("rollbacker")
    bot = bot_with_history
    mine_data = edit_from(second, bot, lambda c: c["llm"].update(model="opus"))
    first.post(url("change", bot.pk), edit_from(first, bot, lambda c: c["llm"].update(model="a")))
    form = second.post(url("change", bot.pk), mine_data).context["adminform"].form
    first.post(url("change", bot.pk), edit_from(first, bot, lambda c: c["llm"].update(model="b")))
    again = dict(mine_data, config=form["config"].value(), expected_version="3")
    response = second.post(url("change", bot.pk), again)
    assert "Version 4 was saved by editor after you opened this form at version 3" in text(response)
    assert response.context["adminform"].form["expected_version"].value() == "4"
    assert "You are editing version 4." in text(response)
    assert version_numbers(bot) == [1, 2, 3, 4]


def test_first_version_written_meanwhile_is_a_conflict_to_resolve(client_as, bot):
    first, second = client_as("editor"), client_as("rollbacker")
    mine = change_data(bot, '{"a": 1, "b": 2}', expected_version="0")
    first.post(url("change", bot.pk), change_data(bot, '{"a": 9}', expected_version="0"))
    response = second.post(url("change", bot.pk), mine)
    page = text(response)
    assert "Version 1 was saved by editor after you opened this form at version 0" in page
    assert "/a : yours 1, version 1 has 9" in page
    form = response.context["adminform"].form
    assert json.loads(form["config"].value()) == {"a": 1, "b": 2}
    assert form["expected_version"].value() == "1"
    again = dict(mine, config=form["config"].value(), expected_version="1")
    assert second.post(url("change", bot.pk), again).status_code == 302
    assert version_numbers(bot) == [1, 2]


# The reason: the manager's limit, required only when something is recorded ----------------


def test_reason_longer_than_500_characters_is_accepted(su_client, bot_with_history):
    reason = "Because " + "x" * 600
    su_client.post(url("change", bot_with_history.pk), change_data(bot_with_history, NEW, reason))
    assert bot_with_history.version_manager.get_version(3).reason == reason


def test_reason_over_the_default_limit_is_a_form_error(su_client, bot_with_history):
    response = su_client.post(
        url("change", bot_with_history.pk), change_data(bot_with_history, NEW, "x" * 10_001)
    )
    assert form_errors(response)["reason"] == [
        "Ensure this value has at most 10000 characters (it has 10001)."
    ]
    assert version_numbers(bot_with_history) == [1, 2]


@override_settings(CONFIG_VERSIONS={"MAX_REASON_LENGTH": 20})
def test_reason_limit_follows_the_setting(su_client, bot_with_history):
    response = su_client.post(
        url("change", bot_with_history.pk), change_data(bot_with_history, NEW, "x" * 21)
    )
    assert form_errors(response)["reason"] == [
        "Ensure this value has at most 20 characters (it has 21)."
    ]
    assert 'maxlength="20"' in response.content.decode()
    assert version_numbers(bot_with_history) == [1, 2]


def test_nul_in_the_reason_is_a_form_error(su_client, bot_with_history):
    response = su_client.post(
        url("change", bot_with_history.pk), change_data(bot_with_history, NEW, "a\x00b")
    )
    assert form_errors(response)["reason"] == ["Null characters are not allowed."]
    assert version_numbers(bot_with_history) == [1, 2]


def test_reason_the_manager_refuses_is_an_error_on_the_reason(bot_with_history, superuser):
    # A lone surrogate cannot travel in a browser's form post; a caller of the form can
    # hand one over, and the manager's refusal lands on the reason field.
    form_class = type("Form", (BotConfigAdminForm,), {"user": superuser})
    data = change_data(bot_with_history, NEW, "half of \ud83d a pair")
    form = form_class(data, instance=bot_with_history)
    assert not form.is_valid()
    assert form.errors["reason"] == [
        "Reason contains a lone surrogate character at position 8, which is not valid UTF-8."
    ]
    assert version_numbers(bot_with_history) == [1, 2]


def test_blank_reason_with_a_changed_config_writes_nothing_and_sends_nothing(
    su_client, bot_with_history, django_capture_on_commit_callbacks
):
    sent = []

    def receiver(**kwargs):
        sent.append(kwargs["version"].version)

    version_created.connect(receiver, dispatch_uid="blank-reason")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = su_client.post(
                url("change", bot_with_history.pk), change_data(bot_with_history, NEW, "")
            )
    finally:
        version_created.disconnect(dispatch_uid="blank-reason")
    assert form_errors(response)["reason"] == [REASON_REQUIRED]
    assert version_numbers(bot_with_history) == [1, 2]
    bot_with_history.refresh_from_db()
    assert bot_with_history.current_version == 2
    assert sent == []
    # The form shown again still edits version 2: the undone write left no trace on it.
    page = response.content.decode()
    assert "You are editing version 2." in page
    assert 'name="expected_version" value="2"' in page


def test_blank_reason_with_a_field_change_writes_nothing(su_client, bot_with_history):
    data = change_data(bot_with_history, current_text(bot_with_history), "")
    data["description"] = "Answers support questions"
    response = su_client.post(url("change", bot_with_history.pk), data)
    assert form_errors(response)["reason"] == [REASON_REQUIRED]
    bot_with_history.refresh_from_db()
    assert bot_with_history.description == ""
    assert not BotConfigChange.objects.exists()


def test_blank_reason_when_nothing_changes_is_fine(su_client, bot_with_history):
    response = su_client.post(
        url("change", bot_with_history.pk),
        change_data(bot_with_history, current_text(bot_with_history), ""),
    )
    assert response.status_code == 302
    assert version_numbers(bot_with_history) == [1, 2]


def test_the_reason_field_says_when_it_is_needed(su_client, bot_with_history):
    form = su_client.get(url("change", bot_with_history.pk)).context["adminform"].form
    assert not form.fields["reason"].required
    assert "Needed when something changes" in str(form.fields["reason"].help_text)
    add_form = su_client.get(url("add")).context["adminform"].form
    assert add_form.fields["reason"].required


# The slug --------------------------------------------------------------------------------


def test_renaming_the_slug_warns_first(su_client, bot_with_history):
    data = change_data(bot_with_history, current_text(bot_with_history), "New name for clients")
    data["slug"] = "help-desk"
    response = su_client.post(url("change", bot_with_history.pk), data)
    assert form_errors(response)["slug"] == [
        "API clients and bots find this config by its slug: after renaming “support-bot” to "
        "“help-desk”, requests for “support-bot” fail until every client is updated. Save "
        "again to rename it."
    ]
    bot_with_history.refresh_from_db()
    assert bot_with_history.slug == "support-bot"
    assert 'name="confirm_slug" value="help-desk"' in response.content.decode()

    # Saved again, as the page now holds it: renamed, recorded, and said.
    data["confirm_slug"] = "help-desk"
    response = su_client.post(url("change", bot_with_history.pk), data, follow=True)
    bot_with_history.refresh_from_db()
    assert bot_with_history.slug == "help-desk"
    change = BotConfigChange.objects.get()
    assert (change.field, change.before, change.after) == ("slug", "support-bot", "help-desk")
    assert messages_of(response) == [
        "Saved the new Slug. The config is unchanged, so no new version was created. API "
        "clients must now ask for “help-desk”; “support-bot” no longer finds this config."
    ]


def test_a_different_slug_after_the_warning_is_warned_about_again(su_client, bot_with_history):
    data = change_data(bot_with_history, current_text(bot_with_history), "rename")
    data.update(slug="other-slug", confirm_slug="help-desk")
    response = su_client.post(url("change", bot_with_history.pk), data)
    assert "“other-slug”" in form_errors(response)["slug"][0]
    bot_with_history.refresh_from_db()
    assert bot_with_history.slug == "support-bot"


# The description's limit --------------------------------------------------------------------


@override_settings(CONFIG_VERSIONS={"MAX_DESCRIPTION_LENGTH": 10})
def test_description_over_the_limit_is_a_form_error(su_client, bot_with_history):
    data = change_data(bot_with_history, NEW, "why")
    data["description"] = "x" * 11
    response = su_client.post(url("change", bot_with_history.pk), data)
    assert form_errors(response)["description"] == [
        "Description is 11 characters long; the limit is 10."
    ]
    assert version_numbers(bot_with_history) == [1, 2]


def test_description_limit_defaults_to_ten_thousand(su_client, bot_with_history):
    data = change_data(bot_with_history, current_text(bot_with_history), "why")
    data["description"] = "x" * 10_001
    assert "description" in form_errors(su_client.post(url("change", bot_with_history.pk), data))
    data["description"] = "x" * 10_000
    assert su_client.post(url("change", bot_with_history.pk), data).status_code == 302


def test_description_check_is_the_models_for_every_caller(bot):
    from django.core.exceptions import ValidationError

    bot.description = "a\ud800b"
    with pytest.raises(ValidationError) as info:
        bot.full_clean()
    assert list(info.value.message_dict) == ["description"]
    with override_settings(CONFIG_VERSIONS={"MAX_DESCRIPTION_LENGTH": 3}):
        bot.description = "abcd"
        with pytest.raises(ValidationError, match="the limit is 3"):
            bot.clean()


def test_the_admin_log_names_what_was_saved(su_client, bot_with_history):
    from django.contrib.admin.models import LogEntry

    data = change_data(bot_with_history, current_text(bot_with_history), "Clearer")
    data["name"] = "Help desk bot"
    su_client.post(url("change", bot_with_history.pk), data)
    bot_with_history.refresh_from_db()
    su_client.post(url("change", bot_with_history.pk), change_data(bot_with_history, NEW, "New"))
    logged = [e.get_change_message() for e in LogEntry.objects.order_by("action_time", "id")]
    # A save whose config is unchanged names no version.
    assert logged == ["Changed Name.", "Changed Config (version 3)."]
