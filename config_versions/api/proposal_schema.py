"""OpenAPI pieces of review: the proposal parameters, each proposal endpoint's answers,
and the 409 of a label that moves only by review."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer

from config_versions import releases
from config_versions.api.proposal_serializers import (
    ApplyResultSerializer,
    ApplySerializer,
    MergeConflictSerializer,
    ProposalDetailSerializer,
    ProposalLabelField,
    ProposalSerializer,
    ProposalStateSerializer,
    ProposeSerializer,
    ReviewRequiredSerializer,
    ReviewWriteSerializer,
    ReviseSerializer,
    WithdrawSerializer,
)
from config_versions.api.schema import (
    AUTH_ERRORS,
    GONE,
    SLUG,
    TOO_LARGE,
    VALIDATION_ERROR,
    WRITE_ERRORS,
    location_header,
)
from config_versions.api.serializers import MAX_VERSION, ConflictSerializer, ErrorSerializer
from config_versions.core.proposals import STATUSES


class ProposalLabelSchema(OpenApiSerializerFieldExtension):  # type: ignore[no-untyped-call]
    """A proposal's label: one of the site's labels, read whenever the schema is
    generated (no enum while the site declares none: any name is then 400)."""

    target_class = ProposalLabelField

    def map_serializer_field(self, auto_schema: AutoSchema, direction: Any) -> Any:
        labels = releases.declared_labels()
        return {"type": "string", **({"enum": labels} if labels else {})}


PROPOSAL = OpenApiParameter(
    "id",
    {"type": "integer", "minimum": 1, "maximum": MAX_VERSION},
    OpenApiParameter.PATH,
    description=(
        "The proposal's number among the config's (1, 2, 3 ...) in ASCII digits; anything "
        "else is 400."
    ),
)
STATUS = OpenApiParameter(
    "status",
    {"type": "string", "enum": list(STATUSES)},
    OpenApiParameter.QUERY,
    description="Only the proposals in this status; any other value is 400.",
)

BAD_QUERY = OpenApiResponse(
    VALIDATION_ERROR,
    description=(
        "The proposal number in the path is not one (1, 2, 3 ... in ASCII digits), or status "
        "is not a status, or the page is not a number, or a query parameter is given twice. "
        "The answer names what is wrong."
    ),
)
BAD_WRITE = OpenApiResponse(
    VALIDATION_ERROR,
    description=(
        "Invalid input: the body (a config that is not a JSON object or breaks the config's "
        "schema, the site's validators or limits; a base_version that is not a version "
        "number; a label the site does not declare; a decision other than approve or "
        "reject; a text too long or holding a NUL), the proposal number in the path, or a "
        "query parameter given twice. The answer names the field; nothing was written."
    ),
)
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such config, or no such proposal.")
NO_BASE = OpenApiResponse(
    ErrorSerializer,
    description="No such config (or proposal), or the config has no such base_version.",
)
NO_PAGE = OpenApiResponse(ErrorSerializer, description="No such config, or no such page.")
UNSUPPORTED = OpenApiResponse(ErrorSerializer, description="The body must be application/json.")
STATE = OpenApiResponse(
    ProposalStateSerializer,
    description=(
        "The proposal's status does not allow the step (it is applied or withdrawn; a "
        "review of a revision that is no longer current); nothing was written."
    ),
)
APPLY_CONFLICT = OpenApiResponse(
    PolymorphicProxySerializer(
        component_name="ApplyConflict",
        serializers=[ProposalStateSerializer, MergeConflictSerializer],
        resource_type_field_name=None,
    ),
    description=(
        "Nothing was written. Either the proposal cannot be applied in its status (not "
        "approved, rejected, already applied, withdrawn: `status`), or the config moved on "
        "since its base version and the edits conflict: `conflicts` names every JSON "
        "Pointer, `current_version` the version to revise it from."
    ),
)


def _refused(what: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=f"{what} Nothing was written.")


def _write_errors(forbidden: str) -> dict[int, Any]:
    return {
        **AUTH_ERRORS,
        400: BAD_WRITE,
        403: _refused(forbidden),
        404: NOT_FOUND,
        410: GONE,
        413: TOO_LARGE,
        415: UNSUPPORTED,
    }


READ_ERRORS: dict[int, Any] = {**AUTH_ERRORS, 400: BAD_QUERY, 404: NOT_FOUND, 410: GONE}

LIST: dict[str, Any] = {
    "summary": "The config's proposals, newest first",
    "parameters": [SLUG, STATUS],
    "responses": {200: ProposalSerializer(many=True), **READ_ERRORS, 404: NO_PAGE},
}
CREATE: dict[str, Any] = {
    "summary": "Propose a change",
    "description": (
        "Submits `config`, edited from `base_version`, for review; nothing is written to "
        "the config's history until the proposal is approved and applied. Needs "
        "propose_botconfig (or change_botconfig)."
    ),
    "request": ProposeSerializer,
    "parameters": [SLUG, location_header(201)],
    "responses": {
        201: ProposalSerializer,
        **_write_errors("Missing permission: proposing needs propose_botconfig."),
        404: NO_BASE,
    },
}
DETAIL: dict[str, Any] = {
    "summary": "One proposal, with its diffs and what applying it would write",
    "description": (
        "The proposal with the diff from its base version, the diff from the newest "
        "version, and a merge preview: the config applying it now would write (its edits "
        "carried onto the newest version), or the conflicting JSON Pointers."
    ),
    "parameters": [SLUG, PROPOSAL],
    "responses": {200: ProposalDetailSerializer, **READ_ERRORS},
}
REVIEW: dict[str, Any] = {
    "summary": "Approve or reject a proposal",
    "description": (
        "Records the reviewer's decision on the proposal's current revision (send "
        "`revision`, the one you read, to have it refused if the author revised it since). "
        "A reviewer's later review replaces their earlier one. Needs review_botconfig; "
        "authors may not review their own proposals unless the site allows it."
    ),
    "request": ReviewWriteSerializer,
    "parameters": [SLUG, PROPOSAL, location_header(201)],
    "responses": {
        201: ProposalSerializer,
        **_write_errors(
            "Missing permission (review_botconfig), or the reviewer wrote the proposal."
        ),
        409: STATE,
    },
}
APPLY: dict[str, Any] = {
    "summary": "Apply an approved proposal",
    "description": (
        "Writes the proposal's config as the next version and moves its label there, in "
        "one transaction. If the config moved on since the proposal's base version, its "
        "edits are merged onto the newest version (`merged_onto`), unless they conflict "
        "(409, nothing written). The config's schema and the site's validators run on "
        "what is written (400 if it fails them today). Needs change_botconfig, and for a "
        "label what moving it needs."
    ),
    "request": ApplySerializer,
    "parameters": [SLUG, PROPOSAL, location_header(201)],
    "responses": {
        201: ApplyResultSerializer,
        **_write_errors(
            "Missing permission: applying needs change_botconfig, and for a label "
            "promote_botconfig (a protected one promote_protected_botconfig too)."
        ),
        409: APPLY_CONFLICT,
    },
}
WITHDRAW: dict[str, Any] = {
    "summary": "Withdraw a proposal",
    "description": "Closes the proposal without applying it: its author, or an editor.",
    "request": WithdrawSerializer,
    "parameters": [SLUG, PROPOSAL],
    "responses": {
        200: ProposalSerializer,
        **_write_errors("Only its author, or a user who may change configs, may withdraw it."),
        409: STATE,
    },
}
REVISE: dict[str, Any] = {
    "summary": "Revise a proposal",
    "description": (
        "Its author submits a new revision (a whole config, edited from `base_version`); "
        "earlier revisions are kept, and approvals of them no longer count."
    ),
    "request": ReviseSerializer,
    "parameters": [SLUG, PROPOSAL, location_header(201)],
    "responses": {
        201: ProposalSerializer,
        **_write_errors("Missing permission (propose_botconfig), or not the proposal's author."),
        404: NO_BASE,
        409: STATE,
    },
}

# PUT configs/{slug}/labels/{label}/ of a label in REVIEW["labels"].
LABEL_CONFLICT = OpenApiResponse(
    PolymorphicProxySerializer(
        component_name="LabelMoveConflict",
        serializers=[ConflictSerializer, ReviewRequiredSerializer],
        resource_type_field_name=None,
    ),
    description=(
        "expected_version is not where the label points now (actual_version; 0: not set); "
        'or the label moves only by applying an approved proposal (CONFIG_VERSIONS["REVIEW"]'
        '["labels"]): `proposals` is where to propose the change. Nothing was written.'
    ),
)

# PUT configs/{slug}/ and rollbacks, with REVIEW["all_writes"].
DIRECT_WRITE_REFUSED = OpenApiResponse(
    ErrorSerializer,
    description=(
        "Missing permission; or, where the site reviews every change "
        '(CONFIG_VERSIONS["REVIEW"]["all_writes"]), a direct write without '
        "bypass_review_botconfig: propose the change (proposals/) instead. Nothing was "
        "written."
    ),
)
DIRECT_WRITE_ERRORS = {**WRITE_ERRORS, 403: DIRECT_WRITE_REFUSED}
