"""Releases in the API: a config's labels, moving one, its moves, and serving a label.

Thin, like the other views: which labels exist, who may move them and where each one
points come from ``config_versions.releases`` (the rule the admin applies too); a move
is ``releases.move_label``, which asks the version manager. A move's answer is built
from the move it returned, with no query after it.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.http import HttpResponseBase
from rest_framework import status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from config_versions import releases
from config_versions.api import label_schema, proposal_schema, schema
from config_versions.api.base import (
    INVALID_CONFIG,
    BotConfigAPIView,
    detail_body,
    invalid,
    validated,
)
from config_versions.api.conditional import (
    PreconditionFailed,
    if_match_holds,
    if_match_tags,
    label_etag,
    require_precondition,
    served_etag,
)
from config_versions.api.label_serializers import (
    LabelHistoryEntrySerializer,
    LabelListEntrySerializer,
    LabelMoveResultSerializer,
    LabelMoveSerializer,
    LabelSerializer,
    label_name,
)
from config_versions.api.pagination import ApiPagination
from config_versions.api.serializers import BotConfigDetailSerializer
from config_versions.conf import settings
from config_versions.core.errors import (
    ReviewRequiredError,
    UnknownLabelError,
    VersionConflictError,
    VersionNotFoundError,
)
from config_versions.core.labels import LATEST, LabelMove, as_timestamp
from config_versions.models import BotConfig

logger = logging.getLogger("config_versions.api")

CONFIG_VERSION = "Config-Version"


# Serving a label: GET configs/{slug}/?label=&as_of= ----------------------------------


def default_label() -> str:
    """What ``GET configs/{slug}/`` serves without ``?label=``.

    A ``DEFAULT_LABEL`` the site does not declare (system check E011) is answered as a
    label that is not set, 404, rather than by serving another version than meant.
    """
    name = settings.DEFAULT_LABEL
    if name == LATEST:
        return name
    try:
        return releases.check_declared(name)
    except UnknownLabelError as exc:
        logger.error("CONFIG_VERSIONS['DEFAULT_LABEL'] is wrong: %s", exc)
        raise NotFound(
            f"The site's default label {name!r} is not declared, so nothing is served "
            f"without ?label= (CONFIG_VERSIONS['DEFAULT_LABEL']: {exc})"
        ) from None


def serve_label(
    view: BotConfigAPIView, slug: str, label: str, as_of: dt.datetime | None
) -> HttpResponseBase:
    """The answer of ``GET configs/{slug}/`` for ``label`` (as of ``as_of``): one query,
    whether it ends in 200 or 304."""
    found = view.get_label_read(slug, label, None if as_of is None else as_timestamp(as_of))
    bot = found.bot
    if found.version is None:
        raise NotFound(_not_served(bot, label, as_of))
    etag = served_etag(bot, label, found.version, found.sequence)
    view.check_if_match(etag, f"the config as label {label!r} serves it")
    if (unchanged := view.conditional_get(etag)) is not None:
        unchanged[CONFIG_VERSION] = str(found.version)
        return unchanged
    served = found.config_version()
    config = served.config if served is not None else None
    body = detail_body(bot, found.version, config, label=label, since=found.since)
    if not view.json_wanted():
        body = BotConfigDetailSerializer(body).data
    response = view.tagged(Response(body), etag)
    response[CONFIG_VERSION] = str(found.version)
    return response


def _not_served(bot: BotConfig, label: str, as_of: dt.datetime | None) -> str:
    if as_of is None:
        return f"The label {label!r} is not set for the config {bot.slug!r}."
    when = as_of.isoformat()
    if label == LATEST:
        return f"The config {bot.slug!r} had no version yet at {when}."
    return f"The label {label!r} was not set yet for the config {bot.slug!r} at {when}."


# A config's labels -------------------------------------------------------------------


def label_body(name: str, move: LabelMove | None) -> dict[str, Any]:
    """A label as ``LabelSerializer`` documents it, from its last move (None: not set)."""
    return {
        "label": name,
        "version": move.to_version if move is not None else None,
        "updated_at": move.moved_at if move is not None else None,
        "updated_by": move.created_by if move is not None else None,
        "reason": move.reason if move is not None else None,
        "protected": releases.is_protected(name),
    }


def labelled(bot: BotConfig, rows: list[dict[str, Any]]) -> None:
    """Give each version row of a page the labels pointing at it (one query for all)."""
    states = releases.label_states(bot)
    by_version = releases.labels_by_version(states)
    for row in rows:
        row["labels"] = by_version.get(row["version"], [])


class LabelListView(BotConfigAPIView):
    """Where each label the site declares points for this config. Not paginated: a site
    declares a handful of labels."""

    name = "Labels"  # in the browsable API

    pagination_class = None
    serializer_class = LabelListEntrySerializer

    @schema.operation(
        summary="The config's labels",
        description=(
            'One entry per label the site declares (CONFIG_VERSIONS["LABELS"]), in that '
            "order; version and updated_* are null while a label is not set. `latest` is "
            "not listed: it is always the newest version."
        ),
        parameters=[schema.SLUG],
        responses={200: LabelListEntrySerializer(many=True), **schema.READ_ERRORS},
    )
    def get(self, request: Request, slug: str) -> Response:
        bot = self.get_bot(slug)
        states = releases.label_states(bot)
        body = [{**label_body(state.name, state.move), "behind": state.behind} for state in states]
        return Response(LabelListEntrySerializer(body, many=True).data)


class LabelDetailView(BotConfigAPIView):
    """One label of a config: where it points, and moving it.

    Moving needs promote_botconfig, and promote_protected_botconfig for a protected label.
    The ETag names the label's last move: send it back in If-Match to move it only if
    nobody moved it since.
    """

    name = "Label"  # in the browsable API

    serializer_class = LabelMoveSerializer

    @property
    def permission_action(self) -> str | None:
        # Who may move which label is releases.move_refusal's rule; put() asks it.
        return "promote" if self.request.method == "PUT" else None

    @schema.operation(
        summary="One label",
        parameters=[
            schema.SLUG,
            label_schema.LABEL,
            schema.IF_NONE_MATCH,
            schema.IF_MATCH_READ,
            schema.etag_header(200, 304),
        ],
        responses={
            200: LabelSerializer,
            304: schema.NOT_MODIFIED,
            412: schema.READ_PRECONDITION_FAILED,
            **schema.READ_ERRORS,
            400: label_schema.BAD_LABEL,
        },
        exclude=label_schema.WITHOUT_LABELS,
    )
    def get(self, request: Request, slug: str, label: str) -> HttpResponseBase:
        name = label_name(label)
        bot = self.get_bot(slug)
        move = self.last_move(bot, name)
        etag = label_etag(bot, name, *_pointer(move), releases.is_protected(name))
        self.check_if_match(etag, f"the label {name!r}")
        if (unchanged := self.conditional_get(etag)) is not None:
            return unchanged
        return self.tagged(Response(LabelSerializer(label_body(name, move)).data), etag)

    @schema.operation(
        summary="Move a label",
        description=(
            "Points the label at `version` and records the move (who, when, why). "
            "Send If-Match (the label's ETag) or expected_version (where the label points "
            "now, 0 for not set) to move it only if nobody moved it since: 412 and 409 "
            "otherwise. Moving it to where it already points writes nothing: 200 with "
            "moved false. A version the config does not have is 404, as for a rollback's "
            "to_version. This ETag is the label's; writes of configs/{slug}/ use the "
            "config's."
        ),
        request=LabelMoveSerializer,
        parameters=[schema.SLUG, label_schema.LABEL, schema.IF_MATCH, schema.etag_header(200)],
        responses={
            200: LabelMoveResultSerializer,
            **schema.WRITE_ERRORS,
            400: label_schema.BAD_LABEL_WRITE,
            403: label_schema.MAY_NOT_MOVE,
            404: label_schema.MISSING_VERSION,
            409: proposal_schema.LABEL_CONFLICT,
            412: label_schema.LABEL_PRECONDITION_FAILED,
        },
        exclude=label_schema.WITHOUT_LABELS,
    )
    def put(self, request: Request, slug: str, label: str) -> Response:
        name = label_name(label)
        refusal = releases.move_refusal(request.user, name)
        if refusal is not None:  # before anything is looked up: nothing to learn here
            raise PermissionDenied(refusal)
        bot = self.get_bot(slug)
        data = validated(LabelMoveSerializer, request.data)
        expected = data.get("expected_version")
        require_precondition(request, expected)
        pinned = self.if_match_pin(bot, name)
        from_if_match = expected is None and pinned is not None
        try:
            move = releases.move_label(
                bot,
                request.user,
                name,
                data["version"],
                reason=data.get("reason", ""),
                expected_version=expected if expected is not None else pinned,
            )
        except ReviewRequiredError as exc:
            return _review_required(request, exc)
        except VersionConflictError as exc:
            return _label_conflict(name, exc, from_if_match=from_if_match)
        except VersionNotFoundError:
            raise NotFound(f"Version {data['version']} not found.") from None
        except INVALID_CONFIG as exc:
            raise invalid(exc) from None
        body = {**label_body(name, move), "moved": not move.unchanged}
        etag = label_etag(bot, name, move.to_version, move.sequence, releases.is_protected(name))
        return self.tagged(Response(LabelMoveResultSerializer(body).data), etag)

    def last_move(self, bot: BotConfig, name: str) -> LabelMove | None:
        states = releases.label_states(bot)
        return next(state.move for state in states if state.name == name)

    def if_match_pin(self, bot: BotConfig, name: str) -> int | None:
        """Evaluate If-Match against the label's tag (412 unless it holds); the version
        the label points at then (0: not set), which the move is pinned to."""
        tags = if_match_tags(self.request)
        if tags is None or tags == ["*"]:
            return None
        move = self.last_move(bot, name)
        etag = label_etag(bot, name, *_pointer(move), releases.is_protected(name))
        if not if_match_holds(tags, etag):
            where = f"version {move.to_version}" if move is not None else "not set"
            raise PreconditionFailed(
                f"The label {name!r} moved since you read it: its entity tag is now {etag} "
                f"({where}). Read it again."
            )
        return move.to_version if move is not None else 0


def _pointer(move: LabelMove | None) -> tuple[int | None, int | None]:
    return (move.to_version, move.sequence) if move is not None else (None, None)


def _review_required(request: Request, exc: ReviewRequiredError) -> Response:
    """409 for a label in REVIEW["labels"]: it moves by applying an approved proposal."""
    proposals = request.build_absolute_uri("../../proposals/")
    return Response(
        {
            "detail": f"{exc} Propose it: POST {proposals} with the config and "
            f'"label": "{exc.label}".',
            "label": exc.label,
            "proposals": proposals,
        },
        status=status.HTTP_409_CONFLICT,
    )


def _label_conflict(name: str, exc: VersionConflictError, *, from_if_match: bool) -> Response:
    def where(version: int | None) -> str:
        return f"version {version}" if version else "not set"

    if from_if_match:
        raise PreconditionFailed(
            f"The label {name!r} moved since you read it: it is now at "
            f"{where(exc.actual_version)}. Read it again."
        )
    return Response(
        {
            "detail": f"Label conflict: you expected {name!r} at {where(exc.expected_version)}, "
            f"but it is at {where(exc.actual_version)}.",
            "expected_version": exc.expected_version,
            "actual_version": exc.actual_version,
        },
        status=status.HTTP_409_CONFLICT,
    )


class LabelHistoryView(BotConfigAPIView):
    """Every move of one label of a config, newest first, a page at a time."""

    name = "Label history"  # in the browsable API

    pagination_class = ApiPagination
    serializer_class = LabelHistoryEntrySerializer

    @schema.operation(
        summary="A label's moves, newest first",
        parameters=[schema.SLUG, label_schema.LABEL],
        responses={
            200: LabelHistoryEntrySerializer(many=True),
            **schema.READ_ERRORS,
            400: label_schema.BAD_LABEL,
        },
        exclude=label_schema.WITHOUT_LABELS,
    )
    def get(self, request: Request, slug: str, label: str) -> Response:
        name = label_name(label)
        bot = self.get_bot(slug)
        rows = (
            bot.label_moves.filter(label=name)
            .order_by("-sequence")
            .values(
                "sequence",
                "label",
                "from_version",
                "to_version",
                "reason",
                "created_by",
                "timestamp",
            )
        )
        page = self.paginate_queryset(rows) or []
        entries = [
            {
                **{key: row[key] for key in ("sequence", "label", "from_version", "to_version")},
                "reason": row["reason"],
                "moved_by": row["created_by"],
                "moved_at": dt.datetime.fromtimestamp(row["timestamp"], tz=dt.UTC),
            }
            for row in page
        ]
        return self.get_paginated_response(LabelHistoryEntrySerializer(entries, many=True).data)
