"""What the API reads and writes. Writes only validate input: the manager writes."""

from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config_versions.models import BotConfig

# PositiveIntegerField's range on every supported database.
MAX_VERSION = 2_147_483_647

_JSON_TYPES = {
    dict: "an object",
    list: "an array",
    str: "a string",
    bool: "a boolean",
    int: "a number",
    float: "a number",
    type(None): "null",
}


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": True,
        "description": "The whole configuration: any JSON object.",
    }
)
class ConfigField(serializers.Field[dict[str, Any], dict[str, Any], Any, Any]):
    """A JSON object, passed on as is; the manager checks what can be stored."""

    default_error_messages = {"not_object": "A config must be a JSON object, not {kind}."}

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            self.fail("not_object", kind=_kind(data))
        return data

    def to_representation(self, value: dict[str, Any]) -> dict[str, Any]:
        return value


def _kind(data: Any) -> str:
    return _JSON_TYPES.get(type(data), type(data).__name__)


# DRF's own fields turn 3 into "3" and "3" into 3. A JSON body says what type it means,
# and the OpenAPI schema promises strings and integers: anything else is refused.


class TextField(serializers.CharField):
    default_error_messages = {"not_string": "Must be a string, not {kind}."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_string", kind=_kind(data))
        return super().to_internal_value(data)


class SlugTextField(serializers.SlugField, TextField):
    pass


class WholeNumberField(serializers.IntegerField):
    default_error_messages = {"not_number": "Must be an integer, not {kind}."}

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("not_number", kind=_kind(data))
        return super().to_internal_value(data)


def version_number(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_VERSION, **kwargs)


def reason_field() -> TextField:
    return TextField(
        required=False,
        allow_blank=True,
        help_text="Why this version exists. Left out or blank: the default reason.",
    )


# Reading -------------------------------------------------------------------------------


class BotConfigListSerializer(serializers.ModelSerializer[BotConfig]):
    last_changed_by = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="Who created the current version (null before the first).",
    )

    class Meta:
        model = BotConfig
        fields = ["slug", "name", "description", "current_version", "updated_at", "last_changed_by"]
        read_only_fields = fields


class BotConfigDetailSerializer(serializers.Serializer[Any]):
    """A config as of its current version: built from the row and that version's config."""

    slug = serializers.SlugField(read_only=True)
    name = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    current_version = serializers.IntegerField(
        read_only=True, help_text="Number of the newest version; 0 before the first."
    )
    config = ConfigField(
        read_only=True, allow_null=True, help_text="The current config; null before the first."
    )
    updated_at = serializers.DateTimeField(read_only=True)


class VersionSerializer(serializers.Serializer[Any]):
    version = serializers.IntegerField(read_only=True)
    config = ConfigField(read_only=True)
    timestamp = serializers.FloatField(
        read_only=True, help_text="When it was created, as the exact Unix time recorded."
    )
    reason = serializers.CharField(read_only=True)
    previous_version = serializers.IntegerField(read_only=True, allow_null=True)
    created_by = serializers.CharField(
        read_only=True, allow_null=True, help_text="The username of whoever created it."
    )
    metadata = serializers.DictField(
        read_only=True,
        help_text="Free-form details; rollbacks record rollback_from and rollback_to.",
    )


class ChangeSerializer(serializers.Serializer[Any]):
    op = serializers.ChoiceField(choices=["add", "remove", "replace"], read_only=True)
    path = serializers.CharField(read_only=True, help_text="RFC 6901 JSON Pointer.")
    from_ = serializers.JSONField(read_only=True, allow_null=True, label="from")
    to = serializers.JSONField(read_only=True, allow_null=True)

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        # "from" is a Python keyword, so the field is declared as from_.
        fields = super().get_fields()
        return {("from" if name == "from_" else name): f for name, f in fields.items()}


class DiffSerializer(serializers.Serializer[Any]):
    from_version = serializers.IntegerField(read_only=True)
    to_version = serializers.IntegerField(read_only=True)
    added = serializers.DictField(read_only=True, help_text="Top-level keys added: new values.")
    removed = serializers.DictField(read_only=True, help_text="Top-level keys removed: old values.")
    changed = serializers.DictField(
        read_only=True, help_text='Top-level keys changed: {"from": old, "to": new}.'
    )
    changes = ChangeSerializer(many=True, read_only=True, help_text="Every nested difference.")


# Writing -------------------------------------------------------------------------------


class BotConfigCreateSerializer(serializers.ModelSerializer[BotConfig]):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: TextField,
        models.TextField: TextField,
        models.SlugField: SlugTextField,
    }
    config = ConfigField(write_only=True, help_text="The first version of the config.")
    reason = reason_field()

    class Meta:
        model = BotConfig
        fields = ["name", "slug", "description", "config", "reason"]


class VersionWriteSerializer(serializers.Serializer[Any]):
    config = ConfigField(help_text="The whole new config (replace, never patch).")
    reason = reason_field()
    expected_version = WholeNumberField(
        required=False,
        min_value=0,
        max_value=MAX_VERSION,
        help_text="Write only if this is still the current version (else 409).",
    )


class RollbackSerializer(serializers.Serializer[Any]):
    to_version = WholeNumberField(
        min_value=1,
        max_value=MAX_VERSION,
        help_text="The version whose config becomes current again.",
    )
    reason = reason_field()
    expected_version = WholeNumberField(
        required=False,
        min_value=1,
        max_value=MAX_VERSION,
        help_text="Roll back only if this is still the current version (else 409).",
    )


# Query strings -------------------------------------------------------------------------


class HistoryQuerySerializer(serializers.Serializer[Any]):
    limit = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_VERSION, help_text="At most this many."
    )
    since_version = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_VERSION,
        help_text="Only versions newer than this one.",
    )


class DiffQuerySerializer(serializers.Serializer[Any]):
    from_version = version_number(
        required=False, help_text="Default: the version before to_version."
    )
    to_version = version_number(required=False, help_text="Default: the current version.")


class VersionPathSerializer(serializers.Serializer[Any]):
    version = version_number()


# Error bodies, for the OpenAPI schema ---------------------------------------------------


class ErrorSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField(help_text="What went wrong, in words.")


class ConflictSerializer(ErrorSerializer):
    expected_version = serializers.IntegerField()
    actual_version = serializers.IntegerField()
