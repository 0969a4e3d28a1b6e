from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from config_versions.models import BotConfig
from config_versions.validation import error_paths

pytestmark = pytest.mark.django_db

SCHEMA = {
    "type": "object",
    "required": ["llm"],
    "properties": {
        "llm": {
            "type": "object",
            "properties": {
                "temperature": {"type": "number", "minimum": 0, "maximum": 2},
                "model": {"type": "string"},
            },
        },
        "tools": {"type": "array", "items": {"type": "object", "required": ["name"]}},
    },
}


@pytest.fixture
def schema_bot(db):
    bot = BotConfig.objects.create(name="Schema bot", slug="schema-bot", schema=SCHEMA)
    bot.version_manager.create({"llm": {"model": "gpt-4", "temperature": 0.2}})
    return bot


def test_schema_failure_names_paths_and_writes_nothing(schema_bot):
    with pytest.raises(ValidationError) as info:
        schema_bot.version_manager.update(
            {"llm": {"temperature": 3, "model": 4}, "tools": [{"name": "a"}, {}]}
        )
    assert error_paths(info.value) == ["/llm/model", "/llm/temperature", "/tools/1"]
    messages = info.value.messages
    assert any(
        m.startswith("/llm/temperature: 3 is greater than the maximum of 2") for m in messages
    )
    assert schema_bot.versions.count() == 1


def test_schema_applies_on_create(db):
    bot = BotConfig.objects.create(name="b", slug="b", schema=SCHEMA)
    with pytest.raises(ValidationError, match="'llm' is a required property"):
        bot.version_manager.create({})
    assert bot.versions.count() == 0


def test_schema_applies_on_rollback(schema_bot):
    schema_bot.version_manager.update({"llm": {"temperature": 1.5}})
    schema_bot.version_manager.update({"llm": {"temperature": 0.5}})
    schema_bot.schema = {
        **SCHEMA,
        "properties": {"llm": {"properties": {"temperature": {"maximum": 1}}}},
    }
    schema_bot.save()
    with pytest.raises(ValidationError):
        schema_bot.version_manager.rollback(2)
    assert schema_bot.version_manager.rollback(1).version == 4


def test_invalid_schema_is_refused_by_clean(db):
    bot = BotConfig(name="x", slug="x", schema={"type": "no-such-type"})
    with pytest.raises(ValidationError, match="Invalid JSON Schema"):
        bot.full_clean()


def no_secrets(config, bot_config):
    if "api_key" in config:
        raise ValidationError(f"{bot_config.slug}: put secrets in the vault, not in the config")


@override_settings(CONFIG_VERSIONS={"VALIDATORS": ["tests.test_validation.no_secrets"]})
def test_site_validators_from_settings(bot):
    manager = bot.version_manager
    manager.create({"ok": True})
    with pytest.raises(ValidationError, match="support-bot: put secrets in the vault"):
        manager.update({"api_key": "sk-..."})
    assert bot.versions.count() == 1


@override_settings(CONFIG_VERSIONS={"MAX_CONFIG_BYTES": 50, "MAX_DEPTH": 2})
def test_size_and_depth_settings(bot):
    from config_versions import InvalidConfigError

    with pytest.raises(InvalidConfigError, match="larger than the limit of 50 bytes"):
        bot.version_manager.create({"x": "y" * 100})
    with pytest.raises(InvalidConfigError, match="deeper than the limit of 2"):
        bot.version_manager.create({"a": {"b": {}}})
    assert bot.versions.count() == 0
