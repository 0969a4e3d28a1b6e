"""What the API reads and writes. Writes only validate input: the manager writes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from config_versions import conf
from config_versions.models import BotConfig, check_description

# PositiveIntegerField's range on every supported database.
MAX_VERSION = 2_147_483_647
_SLUG = re.compile(r"[-a-zA-Z0-9_]+")

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
    """A string, trimmed of surrounding whitespace, and at most its limit long as sent.

    The limit applies to the text as sent, before trimming, so that it is the
    ``maxLength`` the OpenAPI schema declares (DRF alone measures the trimmed text).
    ``limit_setting`` names a ``CONFIG_VERSIONS`` key read on each request instead of a
    fixed ``max_length``. ``api/schema.py`` declares the rest: no NUL, and for a field
    that may not be blank, a character other than whitespace.
    """

    default_error_messages = {"not_string": "Must be a string, not {kind}."}

    def __init__(self, *, limit_setting: str | None = None, **kwargs: Any) -> None:
        self.limit_setting = limit_setting
        super().__init__(**kwargs)

    def length_limit(self) -> int | None:
        if self.limit_setting is not None:
            return int(conf.get(self.limit_setting))
        return self.max_length

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_string", kind=_kind(data))
        limit = self.length_limit()
        if limit is not None and len(data) > limit:
            self.fail("max_length", max_length=limit)
        return super().to_internal_value(data)


class SlugTextField(serializers.SlugField, TextField):
    """A slug exactly as sent: " bot" is refused, not trimmed into one, and so is "bot\\n"
    (DRF's pattern ends with "$", which lets a final newline through)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if not _SLUG.fullmatch(value):
            self.fail("invalid")
        return value


class WholeNumberField(serializers.IntegerField):
    default_error_messages = {"not_number": "Must be an integer, not {kind}."}

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("not_number", kind=_kind(data))
        return super().to_internal_value(data)


def reason_field() -> TextField:
    return TextField(
        required=False,
        allow_blank=True,
        limit_setting="MAX_REASON_LENGTH",
        help_text="Why this version exists. Left out or blank: the default reason.",
    )


_ASCII_INTEGER = re.compile(r"-?[0-9]+")


class QueryIntegerField(serializers.IntegerField):
    """An integer written in a URL (query string or path): ASCII digits, never empty.

    DRF's IntegerField reads ``?limit=`` as if the parameter were absent, and takes
    whatever ``int()`` takes: ``1.0``, ``1_0``, `` 1`` and digits of any script
    (fullwidth, Arabic-Indic ...). Here each of those is a 400 naming the parameter.
    """

    default_error_messages = {
        "empty": "Give a number: the parameter has no value.",
        "invalid": "A valid integer is required: ASCII digits 0-9 only.",
    }

    def get_value(self, dictionary: Mapping[Any, Any]) -> Any:
        # Present with no value is an (invalid) value, not an absent parameter.
        if self.field_name in dictionary:
            return dictionary[self.field_name]
        return empty

    def to_internal_value(self, data: Any) -> int:
        if data == "":
            self.fail("empty")
        if not isinstance(data, str) or not _ASCII_INTEGER.fullmatch(data):
            self.fail("invalid")
        try:
            return int(data)
        except ValueError:  # more digits than int() converts: far out of range
            if data.startswith("-"):
                self.fail("min_value", min_value=self.min_value)
            self.fail("max_value", max_value=self.max_value)


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
    """A config as of the version a label names (the current one for ``latest``): built
    from the row and that version's config."""

    slug = serializers.SlugField(read_only=True)
    name = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    current_version = serializers.IntegerField(
        read_only=True,
        help_text=(
            "The version served, as version: the newest one for latest, the one the "
            "label points at otherwise (so that a bot reading current_version keeps "
            "working when the site serves a label by default); 0 before the first."
        ),
    )
    config = ConfigField(
        read_only=True,
        allow_null=True,
        help_text="The config of the version served; null before the first version.",
    )
    updated_at = serializers.DateTimeField(
        read_only=True,
        help_text=(
            "For latest, when the config or its newest version last changed; for a "
            "label, when it was moved to the version served."
        ),
    )
    label = serializers.CharField(  # type: ignore[assignment]  # a field, not Field.label
        read_only=True,
        help_text=(
            'The label served: ?label=, else the site\'s DEFAULT_LABEL; "latest" is the '
            "newest version."
        ),
    )
    version = serializers.IntegerField(
        read_only=True,
        help_text="The version served (config is its config); 0 before the first version.",
    )


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
        extra_kwargs = {"description": {"limit_setting": "MAX_DESCRIPTION_LENGTH"}}

    def validate_description(self, value: str) -> str:
        # The model's rule, as the admin applies it through BotConfig.clean().
        try:
            check_description(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["description"]) from None
        return value


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
    limit = QueryIntegerField(
        required=False, min_value=1, max_value=MAX_VERSION, help_text="At most this many."
    )
    since_version = QueryIntegerField(
        required=False,
        min_value=0,
        max_value=MAX_VERSION,
        help_text="Only versions newer than this one.",
    )


class DiffQuerySerializer(serializers.Serializer[Any]):
    from_version = QueryIntegerField(
        required=False,
        min_value=1,
        max_value=MAX_VERSION,
        help_text="Default: the version before to_version.",
    )
    to_version = QueryIntegerField(
        required=False,
        min_value=1,
        max_value=MAX_VERSION,
        help_text="Default: the current version.",
    )


class VersionPathSerializer(serializers.Serializer[Any]):
    version = QueryIntegerField(min_value=1, max_value=MAX_VERSION)


class PageQuerySerializer(serializers.Serializer[Any]):
    page = QueryIntegerField(required=False, min_value=1, max_value=MAX_VERSION)


# Error bodies, for the OpenAPI schema ---------------------------------------------------


class ErrorSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField(help_text="What went wrong, in words.")


class ConflictSerializer(ErrorSerializer):
    expected_version = serializers.IntegerField()
    actual_version = serializers.IntegerField()


# Results of writes -----------------------------------------------------------------------

_VERSION_CREATED_HELP = (
    "False when the write changed nothing (the config sent, or the rollback's target, "
    "equals the current config): no version was written and the current one is answered."
)


class ConfigWriteResultSerializer(BotConfigDetailSerializer):
    """What ``PUT configs/{slug}/`` answers: the config as of the version now current."""

    version_created = serializers.BooleanField(read_only=True, help_text=_VERSION_CREATED_HELP)


class RollbackResultSerializer(VersionSerializer):
    """What a rollback answers: the version it wrote, or the current one if unchanged."""

    version_created = serializers.BooleanField(read_only=True, help_text=_VERSION_CREATED_HELP)
