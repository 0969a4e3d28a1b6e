"""The config editor: saving through the manager, errors with lines and paths, conflicts."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings

from config_versions.forms import pretty_json
from config_versions.models import BotConfig
from tests.admin.helpers import change_data, messages_of, text, url, version_numbers

pytestmark = pytest.mark.django_db


def form_errors(response) -> dict:
    assert response.status_code == 200, "expected the form back"
    form = response.context["adminform"].form
    return {k: [str(e) for e in v] for k, v in form.errors.items()}


def test_form_shows_current_config_pretty_with_its_version(su_client, bot_with_history):
    response = su_client.get(url("change", bot_with_history.pk))
    form = response.context["adminform"].form
    current = bot_with_history.version_manager.current_config
    assert form["config"].value() == pretty_json(current)
    assert form["expected_version"].value() == 2
    assert 'name="expected_version" value="2"' in response.content.decode()
    assert "You are editing version 2." in text(response)


def test_saving_creates_a_version_with_author_and_reason(su_client, superuser, bot_with_history):
    new = {"name": "SupportBot", "llm": {"provider": "anthropic", "model": "claude-3-opus"}}
    response = su_client.post(
        url("change", bot_with_history.pk),
        change_data(bot_with_history, json.dumps(new), reason="Bigger model"),
        follow=True,
    )
    assert "Saved version 3." in messages_of(response)
    version = bot_with_history.version_manager.get_version(3)
    assert version.config == new
    assert version.reason == "Bigger model"
    assert version.created_by == "superuser"
    assert bot_with_history.versions.get(version=3).created_by_user == superuser


def test_crlf_text_from_a_browser_is_not_a_change(su_client, bot_with_history):
    current = pretty_json(bot_with_history.version_manager.current_config)
    response = su_client.post(
        url("change", bot_with_history.pk),
        change_data(bot_with_history, current.replace("\n", "\r\n")),
        follow=True,
    )
    # Said once: not also Django's "was changed successfully".
    assert messages_of(response) == ["Nothing changed, so nothing was saved."]
    assert version_numbers(bot_with_history) == [1, 2]


def test_name_only_edit_saves_the_name_and_no_version(su_client, bot_with_history):
    data = change_data(
        bot_with_history, json.dumps(bot_with_history.version_manager.current_config)
    )
    data["name"] = "Renamed bot"
    response = su_client.post(url("change", bot_with_history.pk), data, follow=True)
    assert messages_of(response) == [
        "Saved the new Name. The config is unchanged, so no new version was created."
    ]
    bot_with_history.refresh_from_db()
    assert bot_with_history.name == "Renamed bot"
    assert version_numbers(bot_with_history) == [1, 2]
    assert bot_with_history.current_version == 2


@pytest.mark.parametrize(
    ("config_text", "expected"),
    [
        (
            '{\n  "a": 1,\n  "b": 2\n  "c": 3\n}',
            "Invalid JSON on line 4, column 3: Expecting ',' delimiter.",
        ),
        ("[1, 2]", "The config must be a JSON object ({...}), not an array."),
        ('"text"', "The config must be a JSON object ({...}), not a string."),
        ("null", "The config must be a JSON object ({...}), not null."),
        ('{"a": NaN}', "NaN is not valid JSON"),
        ('{"a": 1, "a": 2}', 'The key "a" appears twice in one object; JSON keys must be unique.'),
        ("", "This field is required."),
        (
            '{\n  "a": {"b\\uDFFF": 1}}',
            "Invalid text on line 2, column 11: \\udfff is half of a surrogate pair, "
            "not a character (at /a/b\\udfff).",
        ),
    ],
)
def test_unparsable_config_is_reported_and_nothing_saved(
    su_client, bot_with_history, config_text, expected
):
    response = su_client.post(
        url("change", bot_with_history.pk), change_data(bot_with_history, config_text)
    )
    assert form_errors(response)["config"] == [expected]
    assert version_numbers(bot_with_history) == [1, 2]
    # The text typed is given back to fix, not replaced.
    assert response.context["adminform"].form["config"].value() == config_text


SCHEMA = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "llm": {
            "type": "object",
            "properties": {"temperature": {"type": "number", "maximum": 1}},
        },
    },
}


def test_schema_errors_name_line_and_path(su_client, bot_with_history):
    BotConfig.objects.filter(pk=bot_with_history.pk).update(schema=SCHEMA)
    bot_with_history.refresh_from_db()
    config = {"name": "SupportBot", "llm": {"model": "x", "temperature": 3}}
    response = su_client.post(
        url("change", bot_with_history.pk), change_data(bot_with_history, json.dumps(config))
    )
    errors = form_errors(response)["config"]
    # The editor now shows the pretty text the line numbers refer to.
    shown = response.context["adminform"].form["config"].value()
    assert shown == pretty_json(config)
    line = shown.splitlines().index('    "temperature": 3') + 1
    assert errors == [f"Line {line}, /llm/temperature: 3 is greater than the maximum of 1"]
    assert version_numbers(bot_with_history) == [1, 2]


def test_missing_required_property_points_at_the_object(su_client, bot_with_history):
    BotConfig.objects.filter(pk=bot_with_history.pk).update(schema=SCHEMA)
    bot_with_history.refresh_from_db()
    response = su_client.post(
        url("change", bot_with_history.pk), change_data(bot_with_history, '{"llm": {}}')
    )
    assert form_errors(response)["config"] == ["Line 1, /: 'name' is a required property"]


def test_schema_edited_with_the_config_applies_to_it(su_client, bot_with_history):
    data = change_data(bot_with_history, '{"llm": {}}')
    data["schema"] = json.dumps(SCHEMA)
    response = su_client.post(url("change", bot_with_history.pk), data)
    assert form_errors(response)["config"] == ["Line 1, /: 'name' is a required property"]
    bot_with_history.refresh_from_db()
    assert bot_with_history.schema is None  # nothing saved, the schema neither


def test_new_schema_the_current_config_breaks_is_refused(su_client, bot_with_history):
    current = bot_with_history.version_manager.current_config
    data = change_data(bot_with_history, json.dumps(current))
    data["schema"] = json.dumps({"type": "object", "required": ["greeting"]})
    response = su_client.post(url("change", bot_with_history.pk), data)
    assert form_errors(response)["schema"] == [
        "The current config (version 2) does not satisfy this schema: "
        "Line 1, /: 'greeting' is a required property"
    ]
    bot_with_history.refresh_from_db()
    assert bot_with_history.schema is None


@override_settings(CONFIG_VERSIONS={"MAX_CONFIG_BYTES": 100})
def test_size_limit_is_a_form_error(su_client, bot_with_history):
    big = json.dumps({"text": "x" * 200})
    response = su_client.post(
        url("change", bot_with_history.pk), change_data(bot_with_history, big)
    )
    assert form_errors(response)["config"] == [
        "The config is larger than the limit of 100 bytes (measured as compact JSON)."
    ]


def test_nul_character_is_reported_with_its_path(su_client, bot_with_history):
    config = {"name": "SupportBot", "prompts": {"system": "a\u0000b"}}
    response = su_client.post(
        url("change", bot_with_history.pk), change_data(bot_with_history, json.dumps(config))
    )
    assert form_errors(response)["config"] == [
        "Line 4, /prompts/system: contains a NUL character (\\u0000)"
    ]


def test_reason_is_required(su_client, bot_with_history):
    response = su_client.post(
        url("change", bot_with_history.pk), change_data(bot_with_history, '{"a": 1}', reason="")
    )
    assert form_errors(response)["reason"] == [
        "This field is required when something changes: the history keeps why."
    ]
    assert version_numbers(bot_with_history) == [1, 2]


def test_expected_version_is_required(su_client, bot_with_history):
    data = change_data(bot_with_history, '{"a": 1}')
    del data["expected_version"]
    response = su_client.post(url("change", bot_with_history.pk), data)
    assert "expected_version" in form_errors(response)
    assert version_numbers(bot_with_history) == [1, 2]


def load_form(client, bot) -> dict:
    """What a browser would post back: the form as it was loaded."""
    form = client.get(url("change", bot.pk)).context["adminform"].form
    return change_data(
        bot, form["config"].value(), expected_version=form["expected_version"].value()
    )


def test_concurrent_edit_of_the_same_place_is_refused_then_resolved(client_as, bot_with_history):
    first, second = client_as("editor"), client_as("rollbacker")
    mine, theirs = load_form(first, bot_with_history), load_form(second, bot_with_history)
    config = json.loads(mine["config"])
    config["llm"]["model"] = "gpt-4o"
    mine["config"] = json.dumps(config)
    assert first.post(url("change", bot_with_history.pk), mine).status_code == 302
    config = json.loads(theirs["config"])
    config["llm"]["model"] = "claude-3-opus"
    config["greeting"] = "Hello!"
    theirs["config"] = json.dumps(config)
    response = second.post(url("change", bot_with_history.pk), theirs)

    errors = form_errors(response)
    assert list(errors) == ["__all__"]
    page = text(response)
    assert "Version 3 was saved by editor after you opened this form at version 2" in page
    assert "Both of you changed /llm/model:" in page
    assert '/llm/model : yours "claude-3-opus", version 3 has "gpt-4o"' in page
    diff_link = url("diff", bot_with_history.pk) + "?from=2&amp;to=3"
    assert f'href="{diff_link}"' in response.content.decode()
    # Nothing was overwritten.
    assert version_numbers(bot_with_history) == [1, 2, 3]
    assert bot_with_history.version_manager.current_config["llm"]["model"] == "gpt-4o"
    # The form now edits version 3, everywhere: the editor holds version 3 with the
    # second editor's edits (theirs winning at /llm/model), the hidden field and the
    # note name version 3.
    form = response.context["adminform"].form
    resolved = json.loads(form["config"].value())
    assert resolved["llm"]["model"] == "claude-3-opus"
    assert resolved["greeting"] == "Hello!"
    assert form["expected_version"].value() == "3"
    assert 'name="expected_version" value="3"' in response.content.decode()
    assert "You are editing version 3." in page

    # Saving what is offered succeeds, as a plain update of version 3.
    again = dict(theirs, config=form["config"].value(), expected_version="3")
    response = second.post(url("change", bot_with_history.pk), again, follow=True)
    assert messages_of(response) == ["Saved version 4."]
    assert bot_with_history.version_manager.current_config == resolved
    assert bot_with_history.version_manager.get_version(4).metadata == {}


def test_concurrent_edits_of_different_places_are_merged_by_the_save(client_as, bot_with_history):
    first, second = client_as("editor"), client_as("rollbacker")
    mine, theirs = load_form(first, bot_with_history), load_form(second, bot_with_history)
    config = json.loads(mine["config"])
    config["llm"]["model"] = "gpt-4o"
    mine["config"] = json.dumps(config)
    assert first.post(url("change", bot_with_history.pk), mine).status_code == 302
    config = json.loads(theirs["config"])
    config["greeting"] = "Hello!"
    theirs["config"] = json.dumps(config)

    response = second.post(url("change", bot_with_history.pk), theirs, follow=True)
    (message,) = messages_of(response)
    assert message.startswith(
        "Saved version 4: your edits were merged onto version 3, saved by editor meanwhile."
    )
    diff_link = url("diff", bot_with_history.pk) + "?from=3&amp;to=4"
    assert f'href="{diff_link}"' in message
    assert version_numbers(bot_with_history) == [1, 2, 3, 4]
    final = bot_with_history.version_manager.get_version(4)
    assert final.config["llm"]["model"] == "gpt-4o"
    assert final.config["greeting"] == "Hello!"
    assert final.metadata == {"merged_from": 2, "merged_onto": 3}
    assert final.created_by == "rollbacker"


def test_stale_form_with_untouched_config_keeps_the_newer_version(su_client, bot_with_history):
    stale = load_form(su_client, bot_with_history)
    bot_with_history.version_manager.update({"other": "edit"}, reason="meanwhile")
    stale["name"] = "Renamed"
    response = su_client.post(url("change", bot_with_history.pk), stale, follow=True)
    assert messages_of(response) == [
        "Saved the new Name. The config is unchanged, so no new version was created."
    ]
    bot_with_history.refresh_from_db()
    assert bot_with_history.name == "Renamed"
    assert bot_with_history.current_version == 3  # not put back to 2 by saving the row
    assert bot_with_history.version_manager.current_config == {"other": "edit"}


def test_add_form_creates_the_config_and_version_one(su_client, superuser):
    response = su_client.post(
        url("add"),
        {
            "name": "Sales bot",
            "slug": "sales-bot",
            "description": "",
            "schema": "",
            "config": '{"name": "SalesBot"}',
            "reason": "First draft",
        },
        follow=True,
    )
    bot = BotConfig.objects.get(slug="sales-bot")
    # One message, not also Django's "was added successfully".
    assert messages_of(response) == [
        f'The bot config “<a href="{url("change", bot.pk)}">Sales bot</a>” was added with '
        "version 1."
    ]
    assert bot.current_version == 1
    first = bot.version_manager.get_version(1)
    assert (first.config, first.reason, first.created_by) == (
        {"name": "SalesBot"},
        "First draft",
        "superuser",
    )


def test_add_form_refuses_a_config_its_schema_refuses(su_client):
    response = su_client.post(
        url("add"),
        {
            "name": "Sales bot",
            "slug": "sales-bot",
            "schema": json.dumps(SCHEMA),
            "config": '{"llm": {}}',
            "reason": "First draft",
        },
    )
    assert form_errors(response)["config"] == ["Line 1, /: 'name' is a required property"]
    assert not BotConfig.objects.filter(slug="sales-bot").exists()


def test_add_form_refuses_an_invalid_schema(su_client):
    response = su_client.post(
        url("add"),
        {"name": "S", "slug": "s", "schema": '{"type": 12}', "config": "{}", "reason": "r"},
    )
    assert form_errors(response)["schema"][0].startswith("Invalid JSON Schema at /type:")
    assert not BotConfig.objects.exists()


def test_config_without_versions_gets_version_one_from_the_change_form(su_client, bot):
    response = su_client.post(url("change", bot.pk), change_data(bot, '{"a": 1}'))
    assert response.status_code == 302
    assert version_numbers(bot) == [1]


def test_view_only_user_sees_the_config_escaped_and_no_editor(client_as, bot):
    bot.version_manager.create({"greeting": "<script>alert(1)</script>"})
    response = client_as("viewer").get(url("change", bot.pk))
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'name="config"' not in html


def test_editor_sees_the_config_escaped_in_the_textarea(su_client, bot):
    bot.version_manager.create({"greeting": "</textarea><script>alert(1)</script>"})
    html = su_client.get(url("change", bot.pk)).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;/textarea&gt;&lt;script&gt;" in html
