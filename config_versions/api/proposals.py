"""Review in the API: proposals, their reviews, revisions, withdrawal and apply.

Thin, like the other views: who may do what is ``config_versions.review``'s rule (the
one the admin applies too), and each step is one of its functions, which ask the version
manager; what a proposal may do next (statuses, stale approvals, the three-way merge of
apply) is the manager's. The refusals that depend on the user alone come before
anything is looked up. A step's answer is built from what the step returned, with no
query after it, so a failure after the commit cannot hide a step that was recorded.

Errors: no proposal 404, a step its status does not allow 409 (with ``status``), a step
the rules refuse this user 403, conflicting edits on apply 409 (with ``conflicts`` and
``current_version``), invalid input 400 naming the field.

Long because each of the seven operations (list, propose, read, review, apply, withdraw,
revise) is a view of its own, with the error mapping they share kept beside them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.urls import reverse
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import set_rollback

from config_versions import review
from config_versions.api import proposal_schema, schema
from config_versions.api.base import (
    INVALID_CONFIG,
    BotConfigAPIView,
    config_messages,
    invalid,
    validated,
)
from config_versions.api.pagination import ApiPagination
from config_versions.api.proposal_serializers import (
    ApplyResultSerializer,
    ApplySerializer,
    ProposalDetailSerializer,
    ProposalPathSerializer,
    ProposalQuerySerializer,
    ProposalSerializer,
    ProposeSerializer,
    ReviewWriteSerializer,
    ReviseSerializer,
    WithdrawSerializer,
)
from config_versions.api.serializers import VersionSerializer
from config_versions.core.errors import (
    MergeConflictError,
    NoConfigError,
    ProposalError,
    ProposalNotFoundError,
    ProposalStateError,
    ReviewRefusedError,
    UnknownLabelError,
    VersionNotFoundError,
)
from config_versions.core.proposals import Proposal, fold
from config_versions.models import BotConfig, BotConfigProposalEvent
from config_versions.proposal_storage import EVENT_COLUMNS, event_from_row


def _when(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)


def proposal_body(found: Proposal, url: str) -> dict[str, Any]:
    """A proposal as ``ProposalSerializer`` documents it."""
    return {
        "id": found.id,
        "status": found.status,
        "author": found.author,
        "label": found.label,
        "base_version": found.base_version,
        "revision": found.revision.number,
        "reason": found.reason,
        "config": found.config,
        "created_at": _when(found.created_at),
        "updated_at": _when(found.updated_at),
        "approvals": list(found.approvers),
        "required_approvals": review.policy().required_approvals,
        "reviews": [
            {
                "reviewer": r.reviewer,
                "decision": r.decision,
                "comment": r.comment,
                "revision": r.revision,
                "created_at": _when(r.timestamp),
            }
            for r in found.reviews
        ],
        "revisions": [
            {
                "number": r.number,
                "base_version": r.base_version,
                "reason": r.reason,
                "submitted_by": r.submitted_by,
                "created_at": _when(r.timestamp),
            }
            for r in found.revisions
        ],
        "applied_version": found.applied_version,
        "url": url,
    }


def refuse_direct_write(request: Request, proposals: str) -> None:
    """403 when the site reviews every change and ``request``'s user may not write
    directly (``review.write_refusal``); ``proposals``: where to propose it instead,
    relative to the request's URL. Asked before anything is looked up."""
    refusal = review.write_refusal(request.user)
    if refusal is not None:
        url = request.build_absolute_uri(proposals)
        raise PermissionDenied(f"{refusal} Propose it: POST {url}")


def proposals_numbered(bot: BotConfig, numbers: Iterable[int]) -> list[Proposal]:
    """Proposals ``numbers`` of ``bot`` as their events add up to, in that order: one
    query for all of them."""
    wanted = list(numbers)
    rows = (
        BotConfigProposalEvent.objects.filter(bot_config_id=bot.pk, proposal__in=wanted)
        .order_by("sequence")
        .values_list(*EVENT_COLUMNS)
    )
    found = fold(map(event_from_row, rows), review.policy())
    return [found[number] for number in wanted if number in found]


class ProposalAPIView(BotConfigAPIView):
    """What the proposal endpoints share: the number in the path, the proposal's URL,
    and the answers to the review rules' refusals."""

    @property
    def permission_action(self) -> str | None:
        # POST: the step's rule, asked by the view (see permissions.VIEW_DECIDES).
        return self.post_action if self.request.method == "POST" else None

    post_action: str | None = None

    def number(self, value: str) -> int:
        found: int = validated(ProposalPathSerializer, {"id": value})["id"]
        return found

    def proposal_url(self, slug: str, number: int) -> str:
        namespace = self.request.resolver_match.namespace if self.request.resolver_match else ""
        name = f"{namespace}:proposal-detail" if namespace else "proposal-detail"
        return self.request.build_absolute_uri(reverse(name, kwargs={"slug": slug, "id": number}))

    def body(self, slug: str, found: Proposal) -> dict[str, Any]:
        return dict(
            ProposalSerializer(proposal_body(found, self.proposal_url(slug, found.id))).data
        )

    def refuse(self, refusal: str | None) -> None:
        if refusal is not None:
            raise PermissionDenied(refusal)

    def handle_exception(self, exc: Exception) -> Response:
        answer = proposal_error(exc)
        if isinstance(answer, Response):
            set_rollback()  # as DRF does for what it answers: ATOMIC_REQUESTS rolls back
            answer.exception = True
            return answer
        return super().handle_exception(answer)


def proposal_error(exc: Exception) -> Exception | Response:
    """The API's answer to what the review rules raise (``exc`` itself if none)."""
    if isinstance(exc, DjangoPermissionDenied):
        # DRF would answer its own words; the rule's say why.
        return PermissionDenied(str(exc) or None)
    if isinstance(exc, MergeConflictError):
        return Response(
            {
                "detail": str(exc),
                "conflicts": list(exc.conflicts),
                "current_version": exc.actual_version,
            },
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, ProposalNotFoundError):
        return NotFound(f"Proposal {exc.proposal} not found.")
    if isinstance(exc, ProposalStateError):
        return Response({"detail": str(exc), "status": exc.status}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, ReviewRefusedError):
        return PermissionDenied(str(exc))
    if isinstance(exc, ProposalError):
        return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, VersionNotFoundError):
        return NotFound(
            f"Version {exc.version} not found: base_version must be a version of this config."
        )
    if isinstance(exc, UnknownLabelError):
        return serializers.ValidationError({"label": [str(exc)]})
    if isinstance(exc, INVALID_CONFIG):
        return invalid(exc)
    if isinstance(exc, NoConfigError):  # the config was deleted meanwhile
        return NotFound(str(exc))
    return exc


class ProposalListView(ProposalAPIView):
    """A config's proposals, newest first; and proposing a change.

    Proposing needs propose_botconfig (or change_botconfig); reading, view_botconfig.
    ``?status=`` filters on the status recorded with each proposal's last step.
    """

    name = "Proposals"  # in the browsable API

    pagination_class = ApiPagination
    serializer_class = ProposeSerializer
    post_action = "propose"

    @schema.operation(**proposal_schema.LIST)
    def get(self, request: Request, slug: str) -> Response:
        bot = self.get_bot(slug)
        query = validated(ProposalQuerySerializer, request.query_params)
        rows = bot.proposals.order_by("-number")
        if "status" in query:
            rows = rows.filter(status=query["status"])
        page = self.paginate_queryset(rows.values_list("number", flat=True)) or []
        bodies = [self.body(slug, found) for found in proposals_numbered(bot, page)]
        return self.get_paginated_response(bodies)

    @schema.operation(**proposal_schema.CREATE)
    def post(self, request: Request, slug: str) -> Response:
        self.refuse(review.propose_refusal(request.user))
        bot = self.get_bot(slug)
        data = validated(ProposeSerializer, request.data)
        found = review.submit(
            bot,
            request.user,
            data["config"],
            data["base_version"],
            reason=data.get("reason", ""),
            label=data.get("label"),
            manager=self.manager(bot),
        )
        body = self.body(slug, found)
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": body["url"]})


class ProposalDetailView(ProposalAPIView):
    """One proposal, with what a reviewer needs: the diff from its base version, the diff
    from the newest version, and what applying it now would write."""

    name = "Proposal"  # in the browsable API

    serializer_class = ProposalDetailSerializer

    @schema.operation(**proposal_schema.DETAIL)
    def get(self, request: Request, slug: str, id: str) -> Response:
        bot = self.get_bot(slug)
        shown = review.describe(bot, self.number(id), self.manager(bot))
        preview = shown.preview
        body = {
            **proposal_body(shown.proposal, self.proposal_url(slug, shown.proposal.id)),
            "current_version": shown.current_version,
            "diff_from_base": shown.diff_from_base,
            "diff_from_current": shown.diff_from_current,
            # What applying would do means nothing once it is applied or withdrawn.
            "merge_preview": {
                "onto_version": preview.onto_version,
                "clean": preview.clean,
                "merged": preview.merged,
                "conflicts": preview.conflicts,
            }
            if shown.proposal.is_active
            else None,
            "label_version": shown.label_version,
            "diff_from_label": shown.diff_from_label if shown.proposal.is_active else None,
        }
        return Response(ProposalDetailSerializer(body).data)


class ProposalReviewView(ProposalAPIView):
    """Approve or reject a proposal's current revision. Needs review_botconfig."""

    name = "Review"  # in the browsable API

    serializer_class = ReviewWriteSerializer
    post_action = "review"

    @schema.operation(**proposal_schema.REVIEW)
    def post(self, request: Request, slug: str, id: str) -> Response:
        self.refuse(review.review_refusal(request.user))
        bot = self.get_bot(slug)
        number = self.number(id)
        data = validated(ReviewWriteSerializer, request.data)
        found = review.review(
            bot,
            request.user,
            number,
            data["decision"],
            comment=data.get("comment", ""),
            revision=data.get("revision"),
            manager=self.manager(bot),
        )
        body = self.body(slug, found)
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": body["url"]})


class ProposalApplyView(ProposalAPIView):
    """Write an approved proposal as the next version (merged onto newer versions when
    the config moved on) and move its label there. Needs change_botconfig, and what
    moving its label needs."""

    name = "Apply"  # in the browsable API

    serializer_class = ApplySerializer
    post_action = "change"  # applying writes a version, as PUT configs/{slug}/ does

    @schema.operation(**proposal_schema.APPLY)
    def post(self, request: Request, slug: str, id: str) -> Response:
        bot = self.get_bot(slug)
        number = self.number(id)
        data = validated(ApplySerializer, request.data)
        try:
            applied = review.apply(
                bot,
                request.user,
                number,
                reason=data.get("reason") or None,
                revision=data.get("revision"),
                manager=self.manager(bot),
            )
        except INVALID_CONFIG as exc:
            if getattr(exc, "field", "config") != "config":
                raise invalid(exc) from None
            # The proposal was checked when submitted; the config's schema or the site's
            # validators have changed since, or the merged config breaks them.
            messages = [
                f"Proposal {number} fails today's validation: {m}" for m in config_messages(exc)
            ]
            raise serializers.ValidationError({"config": messages}) from None
        version = applied.version
        found = applied.proposal
        body = {
            "proposal": self.body(slug, found),
            "version": VersionSerializer(version).data,
            "version_created": not version.unchanged,
            "label": (
                {"name": found.label, "version": version.version}
                if found.label is not None
                else None
            ),
            "merged_onto": applied.merged_onto,
        }
        response = Response(ApplyResultSerializer(body).data, status=status.HTTP_201_CREATED)
        response["Location"] = request.build_absolute_uri(f"../../../versions/{version.version}/")
        return response


class ProposalWithdrawView(ProposalAPIView):
    """Close a proposal without applying it: its author, or a user who may change configs."""

    name = "Withdraw"  # in the browsable API

    serializer_class = WithdrawSerializer
    post_action = "withdraw"

    @schema.operation(**proposal_schema.WITHDRAW)
    def post(self, request: Request, slug: str, id: str) -> Response:
        bot = self.get_bot(slug)
        number = self.number(id)
        data = validated(WithdrawSerializer, request.data)
        found = review.withdraw(
            bot,
            request.user,
            number,
            reason=data.get("reason", ""),
            revision=data.get("revision"),
            manager=self.manager(bot),
        )
        return Response(self.body(slug, found))


class ProposalRevisionView(ProposalAPIView):
    """A new revision of a proposal, by its author; approvals of earlier ones stop counting."""

    name = "Revisions"  # in the browsable API

    serializer_class = ReviseSerializer
    post_action = "propose"

    @schema.operation(**proposal_schema.REVISE)
    def post(self, request: Request, slug: str, id: str) -> Response:
        self.refuse(review.propose_refusal(request.user))
        bot = self.get_bot(slug)
        number = self.number(id)
        data = validated(ReviseSerializer, request.data)
        found = review.revise(
            bot,
            request.user,
            number,
            data["config"],
            data["base_version"],
            reason=data.get("reason", ""),
            manager=self.manager(bot),
        )
        body = self.body(slug, found)
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": body["url"]})
