"""OpenAPI pieces shared by the views: headers, parameters and error answers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import serializers

from config_versions.api.conditional import IF_MATCH_PATTERN
from config_versions.api.errors import RETRY_AFTER
from config_versions.api.serializers import (
    MAX_VERSION,
    ConflictSerializer,
    ErrorSerializer,
    TextField,
)

# What TextField refuses, as patterns: a NUL anywhere, and for a field that may not be
# blank, text that trimming leaves empty. WHITESPACE is what str.strip() removes, spelled
# out: a regex's \s means other sets to other engines (ASCII only, or with U+FEFF).
WHITESPACE = (
    r"\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
)
NO_NUL = r"^[^\u0000]+$"
NOT_BLANK_NO_NUL = rf"^[^\u0000]*[^\u0000{WHITESPACE}][^\u0000]*$"


class TextFieldSchema(OpenApiSerializerFieldExtension):
    """Declares what ``TextField`` enforces, whatever the site's SPECTACULAR_SETTINGS.

    ``maxLength`` is the limit on the text as sent (live settings included), ``minLength``
    and the pattern say a name cannot be blank, and no field takes a NUL. A field that may
    be blank gets drf-spectacular's ``oneOf`` with the empty string; the pattern then asks
    for at least one character so that exactly one branch matches.
    """

    target_class = TextField
    match_subclasses = True

    def map_serializer_field(self, auto_schema: AutoSchema, direction: Any) -> Any:
        field = self.target
        schema = auto_schema._map_serializer_field(  # type: ignore[no-untyped-call]
            field, direction, bypass_extensions=True
        )
        if field.read_only or isinstance(field, serializers.SlugField):
            return schema  # a slug's own pattern says it all
        limit = field.length_limit()
        if limit is not None:
            schema["maxLength"] = limit
        if field.allow_blank:
            schema["pattern"] = NO_NUL
        else:
            schema.update(minLength=1, pattern=NOT_BLANK_NO_NUL)
        return schema


SLUG = OpenApiParameter(
    "slug",
    {"type": "string", "pattern": r"^[-a-zA-Z0-9_]+$", "maxLength": 100},
    OpenApiParameter.PATH,
    description="The config's slug.",
    examples=[OpenApiExample("A config", value="support-bot")],
)
VERSION = OpenApiParameter(
    "version",
    {"type": "integer", "minimum": 1, "maximum": MAX_VERSION},
    OpenApiParameter.PATH,
    description=(
        "A version number: 1, 2, 3 ... in ASCII digits only; anything else (`1.0`, `+1`, "
        "digits of other scripts) is 400."
    ),
    examples=[OpenApiExample("The first version", value=1)],
)
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Entity tags you hold; if one is current the answer is 304 with no body.",
)
# What the server parses (else 400): "*" or a list of entity tags, per RFC 9110.
_ENTITY_TAGS = {"type": "string", "pattern": IF_MATCH_PATTERN}
_IF_MATCH_EXAMPLES = [
    OpenApiExample("The ETag you read", value='"v3-5f1c0a9e2b7d4c6e8a1f"'),
    OpenApiExample("Any current version", value="*"),
]
IF_MATCH = OpenApiParameter(
    "If-Match",
    _ENTITY_TAGS,
    OpenApiParameter.HEADER,
    description=(
        "The ETag of the config as you read it: the write happens only if it is still "
        "current (else 412). `*` matches any existing config."
    ),
    examples=_IF_MATCH_EXAMPLES,
)


IF_MATCH_READ = OpenApiParameter(
    "If-Match",
    _ENTITY_TAGS,
    OpenApiParameter.HEADER,
    description=(
        "Entity tags; the answer is 412 unless one is the current ETag (strong comparison: "
        "a weak tag never matches) or the value is `*`."
    ),
    examples=_IF_MATCH_EXAMPLES,
)


def etag_header(*statuses: int) -> OpenApiParameter:
    return OpenApiParameter(
        "ETag",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        description='Strong entity tag naming the version, e.g. "v3-5f1c…".',
        response=list(statuses),
    )


def location_header(status: int) -> OpenApiParameter:
    return OpenApiParameter(
        "Location",
        OpenApiTypes.URI,
        OpenApiParameter.HEADER,
        description="URL of what was created.",
        response=[status],
    )


VALIDATION_ERROR: dict[str, Any] = {
    "type": "object",
    "description": (
        'Each offending field with a list of messages, or "detail" for a body that is '
        "not JSON. Messages about a config start with the JSON Pointer of the value."
    ),
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}

BAD_REQUEST = OpenApiResponse(
    VALIDATION_ERROR,
    description=(
        "Invalid input (the body, a query parameter given twice, an If-Match header "
        "without entity tags); nothing was written."
    ),
)
_BAD_PARAMETERS = (
    "A query parameter is given twice, or without a value, or is not a number in ASCII "
    "digits within its range; or the version in the path is not one; or an If-Match "
    "header holds no entity tag. The answer names the parameter."
)
BAD_QUERY = OpenApiResponse(VALIDATION_ERROR, description=_BAD_PARAMETERS)
NO_PAGE = OpenApiResponse(ErrorSerializer, description="No such page.")
NOT_MODIFIED = OpenApiResponse(description="Not modified: the If-None-Match tag is current.")
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such config (or version).")
CONFLICT = OpenApiResponse(
    ConflictSerializer,
    description="expected_version is no longer current; nothing was written.",
)
PRECONDITION_FAILED = OpenApiResponse(
    ErrorSerializer, description="The If-Match tag is no longer current; nothing was written."
)
READ_PRECONDITION_FAILED = OpenApiResponse(
    ErrorSerializer, description="If-Match names no current entity tag of what is read."
)
PRECONDITION_REQUIRED = OpenApiResponse(
    ErrorSerializer,
    description="The site requires If-Match or expected_version on writes (REQUIRE_PRECONDITION).",
)
TOO_LARGE = OpenApiResponse(ErrorSerializer, description="The request body is far too large.")

GONE = OpenApiResponse(
    ErrorSerializer,
    description=(
        "The config is archived: it is no longer served or written (its history is kept "
        "and an administrator can restore it)."
    ),
)
ARCHIVED_SLUG = OpenApiResponse(
    ErrorSerializer,
    description="The slug belongs to an archived config; nothing was written.",
)
UNAVAILABLE = OpenApiResponse(
    ErrorSerializer,
    description=(
        "The database is not available (a connection lost or refused): the request was "
        "not carried out, nothing was written. Retry after the seconds of Retry-After."
    ),
)
RETRY_AFTER_HEADER = OpenApiParameter(
    "Retry-After",
    {"type": "integer", "minimum": 0, "example": RETRY_AFTER},
    OpenApiParameter.HEADER,
    description="Seconds to wait before retrying.",
    response=[503],
)

AUTH_ERRORS: dict[int, OpenApiResponse] = {
    401: OpenApiResponse(ErrorSerializer, description="Not authenticated."),
    403: OpenApiResponse(ErrorSerializer, description="Missing permission."),
}
# Every operation answers 400 to a query parameter given twice (BotConfigAPIView.initial).
# Every operation under configs/{slug}/ answers 410 for an archived config.
READ_ERRORS: dict[int, OpenApiResponse] = {
    **AUTH_ERRORS,
    400: BAD_QUERY,
    404: NOT_FOUND,
    410: GONE,
}
WRITE_ERRORS: dict[int, OpenApiResponse] = {
    **READ_ERRORS,
    400: BAD_REQUEST,
    409: CONFLICT,
    412: PRECONDITION_FAILED,
    413: TOO_LARGE,
    415: OpenApiResponse(ErrorSerializer, description="The body must be application/json."),
    428: PRECONDITION_REQUIRED,
}


F = TypeVar("F", bound=Callable[..., Any])


def operation(
    *, responses: dict[int, Any], parameters: Sequence[Any] = (), **kwargs: Any
) -> Callable[[F], F]:
    """``extend_schema`` for an API operation, with what every operation may answer: 503
    and its Retry-After header when the database is not available."""
    return extend_schema(
        responses={**responses, 503: UNAVAILABLE},
        parameters=[*parameters, RETRY_AFTER_HEADER],
        **kwargs,
    )
