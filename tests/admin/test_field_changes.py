"""Changes of name, slug, description and JSON Schema: recorded, immutable, in the history."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model

from config_versions.changes import ReasonRequiredError, record_changes
from config_versions.exceptions import ImmutableVersionError
from config_versions.forms import pretty_json
from config_versions.models import BotConfig, BotConfigChange, BotConfigChangeQuerySet
from tests.admin.helpers import change_data, messages_of, text, url, version_numbers

pytestmark = pytest.mark.django_db


def unchanged(bot: BotConfig) -> str:
    return pretty_json(bot.version_manager.current_config)


def test_a_field_edit_is_recorded_with_before_after_author_and_reason(
    su_client, superuser, bot_with_history
):
    data = change_data(bot_with_history, unchanged(bot_with_history), "Say what it does")
    data["description"] = "Answers questions about orders"
    su_client.post(url("change", bot_with_history.pk), data)
    change = BotConfigChange.objects.get()
    assert (change.bot_config, change.field, change.before, change.after) == (
        bot_with_history,
        "description",
        "",
        "Answers questions about orders",
    )
    assert (change.reason, change.created_by, change.created_by_user) == (
        "Say what it does",
        "superuser",
        superuser,
    )
    assert version_numbers(bot_with_history) == [1, 2]


def test_a_schema_edit_is_recorded_as_json(su_client, bot_with_history):
    schema = {"type": "object", "required": ["name"]}
    data = change_data(bot_with_history, unchanged(bot_with_history), "Names are required")
    data["schema"] = json.dumps(schema)
    su_client.post(url("change", bot_with_history.pk), data)
    data = change_data(bot_with_history, unchanged(bot_with_history), "No schema after all")
    data["schema"] = ""
    su_client.post(url("change", bot_with_history.pk), data)
    recorded = list(BotConfigChange.objects.order_by("id").values_list("before", "after"))
    assert recorded == [(None, schema), (schema, None)]


def test_a_version_and_field_changes_are_saved_together(su_client, bot_with_history):
    data = change_data(bot_with_history, '{"name": "HelpBot"}', "Rename everywhere")
    data["name"] = "Help bot"
    response = su_client.post(url("change", bot_with_history.pk), data, follow=True)
    assert messages_of(response) == ["Saved version 3. Also saved the new Name."]
    assert version_numbers(bot_with_history) == [1, 2, 3]
    change = BotConfigChange.objects.get()
    assert (change.field, change.before, change.after, change.reason) == (
        "name",
        "Support bot",
        "Help bot",
        "Rename everywhere",
    )


def test_nothing_is_recorded_when_the_version_is_refused(su_client, bot_with_history):
    BotConfig.objects.filter(pk=bot_with_history.pk).update(schema={"required": ["name"]})
    bot_with_history.refresh_from_db()
    data = change_data(bot_with_history, '{"no": "name"}', "Both")
    data["description"] = "New words"
    response = su_client.post(url("change", bot_with_history.pk), data)
    assert response.status_code == 200
    bot_with_history.refresh_from_db()
    assert bot_with_history.description == ""
    assert not BotConfigChange.objects.exists()


def test_the_version_is_undone_when_recording_fails(su_client, bot_with_history, monkeypatch):
    # One transaction: a failure while recording the field changes takes the version
    # written by the same save with it.
    def refuse(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(BotConfigChangeQuerySet, "bulk_create", refuse)
    data = change_data(bot_with_history, '{"name": "HelpBot"}', "Both")
    data["name"] = "Help bot"
    with pytest.raises(RuntimeError, match="disk full"):
        su_client.post(url("change", bot_with_history.pk), data)
    assert version_numbers(bot_with_history) == [1, 2]
    bot_with_history.refresh_from_db()
    assert (bot_with_history.name, bot_with_history.current_version) == ("Support bot", 2)


def test_schema_change_the_current_config_fails_is_refused_and_not_recorded(
    su_client, bot_with_history
):
    data = change_data(bot_with_history, unchanged(bot_with_history), "Require a greeting")
    data["schema"] = json.dumps({"type": "object", "required": ["greeting"]})
    response = su_client.post(url("change", bot_with_history.pk), data)
    errors = response.context["adminform"].form.errors["schema"]
    assert errors == [
        "The current config (version 2) does not satisfy this schema: "
        "Line 1, /: 'greeting' is a required property"
    ]
    assert not BotConfigChange.objects.exists()
    # With a config that satisfies it, both are saved, and the schema change recorded.
    config = {**bot_with_history.version_manager.current_config, "greeting": "Hi"}
    data["config"] = json.dumps(config)
    response = su_client.post(url("change", bot_with_history.pk), data, follow=True)
    assert messages_of(response) == ["Saved version 3. Also saved the new JSON Schema."]
    assert BotConfigChange.objects.get().after == {"type": "object", "required": ["greeting"]}


def test_history_shows_other_changes_with_before_after_who_when_why(su_client, bot_with_history):
    data = change_data(bot_with_history, unchanged(bot_with_history), "<b>Clearer</b>")
    data["name"] = "<script>alert(1)</script>"
    data["schema"] = json.dumps({"type": "object", "properties": {"x": {"type": "string"}}})
    su_client.post(url("change", bot_with_history.pk), data)
    response = su_client.get(url("history", bot_with_history.pk))
    page = text(response)
    assert "Name Support bot <script>alert(1)</script> <b>Clearer</b>" in page
    assert 'JSON Schema (none) {"properties": {"x": {"type": "string"}}, "type": "object"}' in page
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "<b>Clearer</b>" not in html


def test_long_values_are_shortened_in_the_history_with_the_whole_in_a_title(
    su_client, bot_with_history
):
    data = change_data(bot_with_history, unchanged(bot_with_history), "Long")
    data["description"] = "word " * 100
    su_client.post(url("change", bot_with_history.pk), data)
    (row,) = su_client.get(url("history", bot_with_history.pk)).context["other_changes"].rows
    assert len(row.after) == 120
    assert row.after.endswith("…")
    assert row.after_full == ("word " * 100).strip()


def test_history_says_when_older_changes_are_not_shown(su_client, bot_with_history):
    for n in range(11):
        bot_with_history.name = f"Name {n}"
        record_changes(bot_with_history, ["name"], reason=f"rename {n}")
    response = su_client.get(url("history", bot_with_history.pk))
    other = response.context["other_changes"]
    assert len(other.rows) == 10
    assert other.more
    assert other.rows[0].after == "Name 10"
    assert "Only the 10 most recent changes are shown." in text(response)


# record_changes, the rule ----------------------------------------------------------------


def test_before_is_what_the_database_held(bot):
    stale = BotConfig.objects.get(pk=bot.pk)
    BotConfig.objects.filter(pk=bot.pk).update(name="Renamed by someone")
    stale.name = "My name"
    (change,) = record_changes(stale, ["name"], reason="mine", created_by="me")
    assert (change.before, change.after) == ("Renamed by someone", "My name")


def test_an_unchanged_field_is_neither_saved_nor_recorded_and_needs_no_reason(bot):
    assert record_changes(bot, ["name", "slug"], reason="") == []
    assert not BotConfigChange.objects.exists()


def test_a_recorded_change_needs_a_reason(bot):
    bot.name = "New"
    with pytest.raises(ReasonRequiredError):
        record_changes(bot, ["name"], reason="  ")
    bot.refresh_from_db()
    assert bot.name == "Support bot"


def test_unknown_fields_are_refused(bot):
    with pytest.raises(ValueError, match="current_version"):
        record_changes(bot, ["current_version"], reason="r")


def test_rows_are_immutable(bot):
    bot.name = "New"
    (change,) = record_changes(bot, ["name"], reason="r")
    change.reason = "rewritten"
    with pytest.raises(ImmutableVersionError):
        change.save()
    with pytest.raises(ImmutableVersionError):
        change.delete()
    with pytest.raises(ImmutableVersionError):
        BotConfigChange.objects.update(reason="x")
    with pytest.raises(ImmutableVersionError):
        BotConfigChange.objects.all().delete()
    with pytest.raises(ImmutableVersionError):
        BotConfigChange.objects.bulk_update([change], ["reason"])
    assert BotConfigChange.objects.get().reason == "r"


def test_deleting_the_author_keeps_the_row(bot):
    user = get_user_model().objects.create_user("temp")
    bot.name = "New"
    record_changes(bot, ["name"], reason="r", created_by="temp", user=user)
    user.delete()
    change = BotConfigChange.objects.get()
    assert (change.created_by, change.created_by_user) == ("temp", None)


def test_purging_the_config_deletes_its_changes(bot):
    from config_versions.purge import purge_history

    bot.name = "New"
    record_changes(bot, ["name"], reason="r")
    with pytest.raises(ImmutableVersionError):
        BotConfig.objects.get(pk=bot.pk).delete()
    assert BotConfigChange.objects.exists()
    purge_history(BotConfig.objects.get(pk=bot.pk))
    assert not BotConfigChange.objects.exists()
