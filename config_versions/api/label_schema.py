"""OpenAPI pieces of releases: label parameters (the site's labels, read whenever the
schema is generated), the answers of the label endpoints, and ``GET configs/{slug}/``."""

from __future__ import annotations

from typing import Any, Literal, cast

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse

from config_versions import releases
from config_versions.api.schema import (
    IF_MATCH_READ,
    IF_NONE_MATCH,
    NOT_MODIFIED,
    READ_ERRORS,
    READ_PRECONDITION_FAILED,
    SLUG,
    VALIDATION_ERROR,
    etag_header,
)
from config_versions.api.serializers import (
    BotConfigDetailSerializer,
    ConflictSerializer,
    ErrorSerializer,
)


class LabelParameter(OpenApiParameter):
    """A label name: one of the site's labels (and ``latest`` if ``latest``), an enum read
    from ``CONFIG_VERSIONS["LABELS"]`` whenever the schema is generated."""

    def __init__(
        self, location: Literal["path", "query"], *, latest: bool, description: str
    ) -> None:
        self.latest = latest
        super().__init__(
            "label",
            {"type": "string"},
            location,
            required=location == "path",
            description=description,
        )

    @property
    def enum(self) -> list[str]:
        return [*(["latest"] if self.latest else []), *releases.declared_labels()]

    @enum.setter
    def enum(self, value: object) -> None:
        pass  # always the site's labels


LABEL = LabelParameter(
    OpenApiParameter.PATH,
    latest=False,
    description=(
        'One of the labels the site declares (CONFIG_VERSIONS["LABELS"]). Any other '
        "name, and `latest` (which always follows the newest version), is 400."
    ),
)
LABEL_QUERY = LabelParameter(
    OpenApiParameter.QUERY,
    latest=True,
    description=(
        "Serve the version this label points at: `latest` (the newest version) or one of "
        "the labels the site declares. Without it: the site's "
        'CONFIG_VERSIONS["DEFAULT_LABEL"] (`latest` unless set). Any other name is 400; '
        "a label not set for this config is 404."
    ),
)
AS_OF = OpenApiParameter(
    "as_of",
    {"type": "string", "format": "date-time"},
    OpenApiParameter.QUERY,
    description=(
        "Serve what the label served at this time: the version it pointed at then "
        "(`latest`: the newest version written by then); 404 before it was first set (or "
        "before the first version). An RFC 3339 date and time with a time zone offset or "
        "`Z`, e.g. `2026-05-01T12:00:00Z`; anything else is 400."
    ),
    examples=[OpenApiExample("A time", value="2026-05-01T12:00:00Z")],
)


class _NoLabels:
    """True while the site declares no labels: the label endpoints are then left out of
    the schema (every name would be 400)."""

    def __bool__(self) -> bool:
        return not releases.declared_labels()


# extend_schema(exclude=...) asks the value's truth each time the schema is generated.
WITHOUT_LABELS = cast(bool, _NoLabels())


def config_version_header(*statuses: int) -> OpenApiParameter:
    return OpenApiParameter(
        "Config-Version",
        {"type": "integer", "minimum": 0},
        OpenApiParameter.HEADER,
        description="The number of the version served (0 before the first version).",
        response=list(statuses),
    )


LABEL_NOT_FOUND = OpenApiResponse(
    ErrorSerializer,
    description=(
        "No such config; or the label served is not set for it (at as_of: not set yet, "
        "or no version yet for `latest`). The message names the label."
    ),
)
BAD_LABEL_QUERY = OpenApiResponse(
    VALIDATION_ERROR,
    description=(
        "label is not `latest` or a label the site declares, or as_of is not a date and "
        "time with a time zone; or a query parameter is given twice; or an If-Match header "
        "holds no entity tag. The answer names the parameter."
    ),
)
BAD_LABEL = OpenApiResponse(
    VALIDATION_ERROR,
    description=(
        "The label in the path is not one the site declares (or is `latest`, which cannot "
        "be moved); or a query parameter is given twice, or the page is not a number; or an "
        "If-Match header holds no entity tag. The answer names what is wrong."
    ),
)


# The label endpoints ----------------------------------------------------------------

BAD_LABEL_WRITE = OpenApiResponse(
    VALIDATION_ERROR,
    description=(
        "Invalid input: the label in the path is not one the site declares (or is `latest`, "
        "which cannot be moved); the body (version or expected_version not an integer in "
        "range, a reason too long); a query parameter given twice; an If-Match header "
        "without entity tags. Nothing was written."
    ),
)
LABEL_CONFLICT = OpenApiResponse(
    ConflictSerializer,
    description=(
        "expected_version is not where the label points now (actual_version; 0: not set); "
        "nothing was written."
    ),
)
LABEL_PRECONDITION_FAILED = OpenApiResponse(
    ErrorSerializer,
    description="The label moved since you read it (If-Match); nothing was written.",
)
MISSING_VERSION = OpenApiResponse(
    ErrorSerializer,
    description=(
        "No such config, or the config has no such version (as a rollback's to_version); "
        "nothing was written."
    ),
)
MAY_NOT_MOVE = OpenApiResponse(
    ErrorSerializer,
    description=(
        "Missing permission: moving a label needs promote_botconfig (and view or change); "
        "a protected label promote_protected_botconfig as well. Nothing was written."
    ),
)


# GET configs/{slug}/: the operation bots poll (kept here, views.py stays short).
CONFIG_READ: dict[str, Any] = {
    "summary": "The config, as a label serves it",
    "description": (
        "The config as of the version a label points at: ?label=, else the site's "
        "DEFAULT_LABEL (`latest`, the newest version, unless set); ?as_of= what it "
        "served at that time. The ETag names the label, the version and the move; "
        "Config-Version the version served. Writes (PUT with If-Match) always go against "
        "the newest version: their If-Match is the ETag of ?label=latest (the same as "
        "without ?label while DEFAULT_LABEL is latest), never a label's."
    ),
    "parameters": [
        SLUG,
        LABEL_QUERY,
        AS_OF,
        IF_NONE_MATCH,
        IF_MATCH_READ,
        etag_header(200, 304),
        config_version_header(200, 304),
    ],
    "responses": {
        200: BotConfigDetailSerializer,
        304: NOT_MODIFIED,
        412: READ_PRECONDITION_FAILED,
        **READ_ERRORS,
        400: BAD_LABEL_QUERY,
        404: LABEL_NOT_FOUND,
    },
}
