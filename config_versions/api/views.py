"""Endpoints of the REST API. Thin: they parse, check preconditions and call the manager.

Reads of single versions and diffs go through the manager; listing pages read rows
directly (the manager has no pagination), and no view ever writes a version row. A
write's answer is built from what the write returned, never from a query after it.
"""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError, IntegrityError, transaction
from django.http import HttpResponseBase
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from config_versions.api import label_schema, proposal_schema, proposals, schema
from config_versions.api.base import (
    INVALID_CONFIG,
    BotConfigAPIView,
    config_messages,
    conflict_response,
    detail_body,
    invalid,
    validated,
)
from config_versions.api.conditional import config_etag, version_etag
from config_versions.api.errors import refuse_archived_slug, was_created
from config_versions.api.label_serializers import ServedQuerySerializer, VersionListEntrySerializer
from config_versions.api.labels import CONFIG_VERSION, default_label, labelled, serve_label
from config_versions.api.pagination import ApiPagination
from config_versions.api.serializers import (
    BotConfigCreateSerializer,
    BotConfigDetailSerializer,
    BotConfigListSerializer,
    ConfigWriteResultSerializer,
    DiffQuerySerializer,
    DiffSerializer,
    HistoryQuerySerializer,
    RollbackResultSerializer,
    RollbackSerializer,
    VersionPathSerializer,
    VersionSerializer,
    VersionWriteSerializer,
)
from config_versions.core.errors import NoConfigError, VersionConflictError, VersionNotFoundError
from config_versions.core.labels import LATEST
from config_versions.core.version import VERSION_FIELDS
from config_versions.models import BotConfig


class ConfigListView(BotConfigAPIView):
    """Bot configs, by name. Each has a numbered, immutable history of versions."""

    name = "Bot configs"  # in the browsable API

    pagination_class = ApiPagination

    def get_queryset(self) -> Any:
        # Archived configs have left the API (their own URLs answer 410).
        return BotConfig.objects.active().with_last_version().order_by("name", "slug")

    def get_serializer_class(self) -> type[serializers.Serializer[Any]]:
        if self.request.method == "POST":
            return BotConfigCreateSerializer
        return BotConfigListSerializer

    @schema.operation(
        summary="List configs",
        responses={
            200: BotConfigListSerializer(many=True),
            400: schema.BAD_QUERY,
            **schema.AUTH_ERRORS,
            404: schema.NO_PAGE,
        },
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(BotConfigListSerializer(page, many=True).data)

    @schema.operation(
        summary="Create a config with its first version",
        request=BotConfigCreateSerializer,
        responses={
            201: BotConfigDetailSerializer,
            **schema.AUTH_ERRORS,
            400: schema.BAD_REQUEST,
            409: schema.ARCHIVED_SLUG,
            413: schema.TOO_LARGE,
            415: schema.WRITE_ERRORS[415],
        },
        parameters=[schema.etag_header(201), schema.location_header(201)],
    )
    def post(self, request: Request) -> Response:
        try:
            data = validated(BotConfigCreateSerializer, request.data)
        except serializers.ValidationError as exc:
            refuse_archived_slug(exc, request.data)  # 409 for an archived config's slug
            raise
        config = data.pop("config")
        reason = data.pop("reason", None) or None
        version = None
        try:
            with transaction.atomic():
                bot = BotConfig.objects.create(**data)
                version = self.manager(bot).save(config, reason, self.author(), expected_version=0)
        except IntegrityError:
            # Another request took the slug between validation and insert.
            raise serializers.ValidationError(
                {"slug": ["bot config with this slug already exists."]}
            ) from None
        except INVALID_CONFIG as exc:
            raise invalid(exc) from None
        except DatabaseError:
            # Lost while committing, the write may have landed: answer what happened.
            if version is None or not was_created(bot):
                raise
        # The write set the instance's head (version, updated_at) as the database did: the
        # answer needs no query after the commit.
        body = detail_body(bot, version.version, version.config)
        response = Response(body, status=status.HTTP_201_CREATED)
        response["Location"] = request.build_absolute_uri(f"{bot.slug}/")
        return self.tagged(response, config_etag(bot))


class ConfigDetailView(BotConfigAPIView):
    """A config as of its current version, or of the version a label points at.

    The ETag names the version (and the label): send it back in If-None-Match to poll
    cheaply (304 while nothing changed) and, read without a label, in If-Match to write
    only over the version you read.
    """

    name = "Bot config"  # in the browsable API

    serializer_class = VersionWriteSerializer

    @schema.operation(**label_schema.CONFIG_READ)
    def get(self, request: Request, slug: str) -> HttpResponseBase:
        # A bot's poll has no query string: it skips the parameters' serializer.
        query = validated(ServedQuerySerializer, request.query_params) if request.GET else {}
        label = query["label"] if "label" in query else default_label()
        if label != LATEST or "as_of" in query:
            return serve_label(self, slug, label, query.get("as_of"))
        polling = "If-None-Match" in request.headers
        if polling:
            # The tag comes from the BotConfig row, so a 304 never reads a config.
            bot, current = self.get_bot(slug), None
        else:
            bot, current = self.get_current(slug)
        etag = config_etag(bot)
        # RFC 9110 13.2.2: If-Match first, then If-None-Match.
        self.check_if_match(etag, "the config")
        if polling:
            if (unchanged := self.conditional_get(etag)) is not None:
                unchanged[CONFIG_VERSION] = str(bot.current_version)
                return unchanged
            current = self.manager(bot).get_version(bot.current_version)
        config = current.config if current is not None else None
        body = detail_body(bot, bot.current_version, config)
        if not self.json_wanted():
            # The browsable API fills its PUT form from the serializer behind the data.
            body = BotConfigDetailSerializer(body).data
        response = self.tagged(Response(body), etag)
        response[CONFIG_VERSION] = str(bot.current_version)
        return response

    @schema.operation(
        summary="Write a new version",
        description=(
            "Replaces the whole config with a new version (the first one if the config "
            "has none yet). Send If-Match (the ETag you read) or expected_version to make "
            "sure you do not overwrite someone else's version. A config equal to the "
            "current one writes nothing: the answer is the current version with "
            "version_created false. If-Match takes the ETag of the newest version (GET "
            "with label=latest, or without ?label while DEFAULT_LABEL is latest), never "
            "a label's."
        ),
        request=VersionWriteSerializer,
        parameters=[
            schema.SLUG,
            schema.IF_MATCH,
            schema.etag_header(200),
            label_schema.config_version_header(200),
        ],
        responses={200: ConfigWriteResultSerializer, **proposal_schema.DIRECT_WRITE_ERRORS},
    )
    def put(self, request: Request, slug: str) -> Response:
        proposals.refuse_direct_write(request, "proposals/")  # REVIEW["all_writes"]
        write = self.write_request(slug, VersionWriteSerializer)
        bot, data = write.bot, write.data
        try:
            version = self.manager(bot).save(
                data["config"],
                data.get("reason") or None,
                self.author(),
                expected_version=write.expected_version,
            )
        except VersionConflictError as exc:
            return conflict_response(exc, from_if_match=write.from_if_match)
        except INVALID_CONFIG as exc:
            raise invalid(exc) from None
        except NoConfigError as exc:  # the config was deleted meanwhile
            raise NotFound(str(exc)) from None
        body = detail_body(bot, version.version, version.config)
        body["version_created"] = not version.unchanged
        # A write sets the instance's head as the database did; an unchanged answer
        # names the version it compared with, which another writer may have passed.
        current = bot.current_version == version.version
        response = self.tagged(Response(body), config_etag(bot) if current else None)
        response[CONFIG_VERSION] = str(version.version)
        return response

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        # The browsable API fills its PUT form from the config on show; it also gets the
        # version shown (a label's, maybe older) as expected_version, so a human's save
        # never overwrites a newer one.
        shown = kwargs.get("instance")
        if isinstance(shown, dict) and "current_version" in shown:
            kwargs["instance"] = {
                "config": shown["config"] or {},
                "reason": "",
                "expected_version": shown.get("version", shown["current_version"]),
            }
        return super().get_serializer(*args, **kwargs)


class VersionListView(BotConfigAPIView):
    """Every version of a config, newest first, a page at a time."""

    name = "Versions"  # in the browsable API

    pagination_class = ApiPagination
    serializer_class = VersionListEntrySerializer

    @schema.operation(
        summary="History, newest first",
        description="Each version with the labels pointing at it now.",
        parameters=[schema.SLUG, HistoryQuerySerializer],
        responses={200: VersionListEntrySerializer(many=True), **schema.READ_ERRORS},
    )
    def get(self, request: Request, slug: str) -> Response:
        bot = self.get_bot(slug)
        query = validated(HistoryQuerySerializer, request.query_params)
        rows = bot.versions.order_by("-version")
        if "since_version" in query:
            rows = rows.filter(version__gt=query["since_version"])
        values = rows.values(*VERSION_FIELDS)
        if "limit" in query:
            values = values[: query["limit"]]
        page = list(self.paginate_queryset(values) or [])
        labelled(bot, page)
        return self.get_paginated_response(VersionListEntrySerializer(page, many=True).data)


class VersionDetailView(BotConfigAPIView):
    """One version of a config. Versions never change, so their ETags never go stale."""

    name = "Version"  # in the browsable API

    serializer_class = VersionSerializer

    @schema.operation(
        summary="One version",
        parameters=[
            schema.SLUG,
            schema.VERSION,
            schema.IF_NONE_MATCH,
            schema.IF_MATCH_READ,
            schema.etag_header(200, 304),
        ],
        responses={
            200: VersionSerializer,
            304: schema.NOT_MODIFIED,
            412: schema.READ_PRECONDITION_FAILED,
            **schema.READ_ERRORS,
        },
    )
    def get(self, request: Request, slug: str, version: str) -> HttpResponseBase:
        bot = self.get_bot(slug)
        number = validated(VersionPathSerializer, {"version": version})["version"]
        # Versions are numbered 1..current without gaps and never deleted one by one,
        # so the number alone says whether it exists, and the tag needs no version row.
        if number > bot.current_version:
            raise NotFound(f"Version {number} not found.")
        etag = version_etag(bot, number)
        self.check_if_match(etag, f"version {number}")
        if (unchanged := self.conditional_get(etag)) is not None:
            return unchanged
        found = self.manager(bot).get_version(number)
        if found is None:
            raise NotFound(f"Version {number} not found.")
        return self.tagged(Response(VersionSerializer(found).data), etag)


class DiffView(BotConfigAPIView):
    """What changed between two versions: top-level keys, and every nested change as a
    JSON Pointer path. Without parameters: the latest change."""

    serializer_class = DiffSerializer

    @schema.operation(
        summary="Differences between two versions",
        parameters=[schema.SLUG, DiffQuerySerializer],
        responses={200: DiffSerializer, **schema.READ_ERRORS},
    )
    def get(self, request: Request, slug: str) -> Response:
        bot = self.get_bot(slug)
        query = validated(DiffQuerySerializer, request.query_params)
        # The 404 names the versions the client sent, not one a default derived from
        # them: "?to_version=9" alone would otherwise be about version 8.
        sent = [query[name] for name in ("from_version", "to_version") if name in query]
        missing = sorted({number for number in sent if number > bot.current_version})
        if missing:
            numbers = " and ".join(str(number) for number in missing)
            raise NotFound(f"Version{'s' if len(missing) > 1 else ''} {numbers} not found.")
        if not bot.current_version:
            raise NotFound("The config has no versions yet.")
        to_version = query.get("to_version", bot.current_version)
        from_version = query.get("from_version", max(to_version - 1, 1))
        try:
            result = self.manager(bot).diff(from_version, to_version)
        except (VersionNotFoundError, NoConfigError) as exc:  # deleted meanwhile
            raise NotFound(f"{exc}.") from None
        return Response(DiffSerializer(result).data)


class RollbackView(BotConfigAPIView):
    """Make an old version's config current again, as a new version: history is kept.

    Needs the rollback_botconfig permission.
    """

    permission_action = "rollback"
    serializer_class = RollbackSerializer

    @schema.operation(
        summary="Roll back: a new version with an old version's config",
        description=(
            "Writes a new version carrying the config of to_version (201). If that "
            "config is already the current one nothing is written: 200 with the current "
            "version and version_created false. The ETag is the config's, usable as "
            "If-Match for the next write."
        ),
        request=RollbackSerializer,
        parameters=[
            schema.SLUG,
            schema.IF_MATCH,
            schema.etag_header(200, 201),
            schema.location_header(201),
        ],
        responses={
            200: RollbackResultSerializer,
            201: RollbackResultSerializer,
            **proposal_schema.DIRECT_WRITE_ERRORS,
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        proposals.refuse_direct_write(request, "../proposals/")  # REVIEW["all_writes"]
        write = self.write_request(slug, RollbackSerializer)
        bot, data = write.bot, write.data
        target = data["to_version"]
        manager = self.manager(bot)
        # The answer shows the target's config, read now: the store copies it in SQL,
        # and a read after the write could fail once the version is written.
        source = manager.get_version(target)
        try:
            version = manager.rollback(
                target,
                reason=data.get("reason") or None,
                created_by=self.author(),
                expected_version=write.expected_version,
            )
        except VersionConflictError as exc:
            return conflict_response(exc, from_if_match=write.from_if_match)
        except INVALID_CONFIG as exc:
            if getattr(exc, "field", "config") != "config":
                raise invalid(exc) from None
            messages = [
                f"Version {target} fails today's validation: {m}" for m in config_messages(exc)
            ]
            raise serializers.ValidationError({"to_version": messages}) from None
        except (VersionNotFoundError, NoConfigError) as exc:
            raise NotFound(f"{exc}.") from None
        shown: Any = version
        if source is not None and not version.unchanged:
            shown = {name: getattr(version, name) for name in VERSION_FIELDS if name != "config"}
            shown["config"] = source.config
        body = {**VersionSerializer(shown).data, "version_created": not version.unchanged}
        if version.unchanged:
            response = Response(body)
        else:
            response = Response(body, status=status.HTTP_201_CREATED)
            response["Location"] = request.build_absolute_uri(f"../versions/{version.version}/")
        current = bot.current_version == version.version
        return self.tagged(response, config_etag(bot) if current else None)
