"""OpenAPI pieces shared by the views: headers, parameters and error answers."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse

from config_versions.api.serializers import MAX_VERSION, ConflictSerializer, ErrorSerializer

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
    description="A version number: 1, 2, 3 ...",
    examples=[OpenApiExample("The first version", value=1)],
)
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Entity tags you hold; if one is current the answer is 304 with no body.",
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    {"type": "string", "pattern": r'^\s*(\*|(W/)?"[^",]*"(\s*,\s*(W/)?"[^",]*")*)\s*$'},
    OpenApiParameter.HEADER,
    description=(
        "The ETag of the config as you read it: the write happens only if it is still "
        "current (else 412). `*` matches any existing config."
    ),
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


_VALIDATION_ERROR: dict[str, Any] = {
    "type": "object",
    "description": (
        'Each offending field with a list of messages, or "detail" for a body that is '
        "not JSON. Messages about a config start with the JSON Pointer of the value."
    ),
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}

BAD_REQUEST = OpenApiResponse(_VALIDATION_ERROR, description="Invalid input; nothing was written.")
BAD_QUERY = OpenApiResponse(
    _VALIDATION_ERROR, description="A query parameter or version number is not valid."
)
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
PRECONDITION_REQUIRED = OpenApiResponse(
    ErrorSerializer,
    description="The site requires If-Match or expected_version on writes (REQUIRE_PRECONDITION).",
)
TOO_LARGE = OpenApiResponse(ErrorSerializer, description="The request body is far too large.")

AUTH_ERRORS: dict[int, OpenApiResponse] = {
    401: OpenApiResponse(ErrorSerializer, description="Not authenticated."),
    403: OpenApiResponse(ErrorSerializer, description="Missing permission."),
}
READ_ERRORS: dict[int, OpenApiResponse] = {**AUTH_ERRORS, 404: NOT_FOUND}
WRITE_ERRORS: dict[int, OpenApiResponse] = {
    **READ_ERRORS,
    400: BAD_REQUEST,
    409: CONFLICT,
    412: PRECONDITION_FAILED,
    413: TOO_LARGE,
    415: OpenApiResponse(ErrorSerializer, description="The body must be application/json."),
    428: PRECONDITION_REQUIRED,
}
