"""What the label endpoints read and write, and the ``?label=`` and ``?as_of=`` of
``GET configs/{slug}/``. Names are checked by ``releases.check_declared``: the rule the
admin applies too."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.fields import empty

from config_versions import releases
from config_versions.api.serializers import (
    MAX_VERSION,
    TextField,
    VersionSerializer,
    WholeNumberField,
)
from config_versions.core.errors import UnknownLabelError

# RFC 3339's date-time (what OpenAPI's "date-time" format means), the seconds without a
# leap second: a date and time with a time zone, an offset or Z. Python checks the
# ranges (month 13, February 30, an offset of 24 hours are refused).
AS_OF = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
    r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)


class QueryTextField(serializers.Field[Any, str, str, Any]):
    """A text parameter of a query string; present with no value is an (invalid) value,
    not an absent parameter (DRF would read ``?label=`` as no label at all)."""

    def get_value(self, dictionary: Mapping[Any, Any]) -> Any:
        if self.field_name in dictionary:
            return dictionary[self.field_name]
        return empty

    def to_representation(self, value: Any) -> str:
        return str(value)


class LabelQueryField(QueryTextField):
    """``latest`` or a label the site declares; the 400 names the site's labels."""

    def to_internal_value(self, data: Any) -> str:
        try:
            return releases.check_declared(data)
        except UnknownLabelError as exc:
            raise serializers.ValidationError(str(exc)) from None


class AsOfField(QueryTextField):
    """An aware date and time, as RFC 3339 writes it (``2026-05-01T12:00:00Z``)."""

    default_error_messages = {
        "invalid": (
            "as_of must be a date and time in ISO 8601 (RFC 3339) with a time zone offset "
            "or Z, e.g. 2026-05-01T12:00:00Z or 2026-05-01T14:00:00+02:00 (in a URL, "
            "write the + as %2B)."
        ),
        "no_date": "as_of names no real date and time ({problem}).",
    }

    def to_internal_value(self, data: Any) -> dt.datetime:
        if not isinstance(data, str) or not AS_OF.fullmatch(data):
            self.fail("invalid")
        try:
            return dt.datetime.fromisoformat(data.upper())  # "t" and "z" as "T" and "Z"
        except ValueError as exc:
            self.fail("no_date", problem=str(exc))


class ServedQuerySerializer(serializers.Serializer[Any]):
    """The query of ``GET configs/{slug}/``."""

    label = LabelQueryField(required=False)  # type: ignore[assignment]
    as_of = AsOfField(required=False)


def label_name(value: str) -> str:
    """The label named in a URL path: declared, and not ``latest``; else 400 on
    ``label``, with the core's message (it names the site's labels)."""
    try:
        return releases.check_declared(value, movable=True)
    except UnknownLabelError as exc:
        raise serializers.ValidationError({"label": [str(exc)]}) from None


# Reading -------------------------------------------------------------------------------


class LabelSerializer(serializers.Serializer[Any]):
    """A label of a config: where it points, and its last move."""

    label = serializers.CharField(read_only=True)  # type: ignore[assignment]
    version = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The version it points at; null while not set."
    )
    updated_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When it was last moved; null while not set."
    )
    updated_by = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="Who moved it last (username); null while not set, or unknown.",
    )
    reason = serializers.CharField(
        read_only=True, allow_null=True, help_text="Why it was last moved; null while not set."
    )
    protected = serializers.BooleanField(
        read_only=True,
        help_text="Moving it needs the promote_protected_botconfig permission as well.",
    )


class LabelListEntrySerializer(LabelSerializer):
    behind = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="How many versions behind the newest it is; null while not set.",
    )


class LabelMoveResultSerializer(LabelSerializer):
    moved = serializers.BooleanField(
        read_only=True,
        help_text=(
            "False when the label already pointed at that version: nothing was written, "
            "and its last move is answered."
        ),
    )


class LabelHistoryEntrySerializer(serializers.Serializer[Any]):
    sequence = serializers.IntegerField(
        read_only=True, help_text="Number of the move among all the config's moves: 1, 2 ..."
    )
    label = serializers.CharField(read_only=True)  # type: ignore[assignment]
    from_version = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="Null for the move that first set it."
    )
    to_version = serializers.IntegerField(read_only=True)
    reason = serializers.CharField(read_only=True)
    moved_by = serializers.CharField(
        read_only=True, allow_null=True, help_text="The username of whoever moved it."
    )
    moved_at = serializers.DateTimeField(read_only=True)


class VersionListEntrySerializer(VersionSerializer):
    labels = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="The site's labels pointing at this version now (none: an empty list).",
    )


# Writing -------------------------------------------------------------------------------


class LabelMoveSerializer(serializers.Serializer[Any]):
    version = WholeNumberField(
        min_value=1, max_value=MAX_VERSION, help_text="The version the label is to point at."
    )
    reason = TextField(
        required=False,
        allow_blank=True,
        limit_setting="MAX_REASON_LENGTH",
        help_text="Why it moves (recorded with the move).",
    )
    expected_version = WholeNumberField(
        required=False,
        min_value=0,
        max_value=MAX_VERSION,
        help_text=(
            "Move only if the label still points at this version, 0 for 'not set' (else 409)."
        ),
    )
