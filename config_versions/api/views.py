"""Endpoints of the REST API. Thin: they parse, check preconditions and call the manager.

Reads of single versions and diffs go through the manager; listing pages read rows
directly (the manager has no pagination), and no view ever writes a version row.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpResponseBase
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from config_versions.api import schema
from config_versions.api.base import (
    INVALID_CONFIG,
    BotConfigAPIView,
    config_messages,
    conflict_response,
    detail_body,
    reason_option,
    validated,
)
from config_versions.api.conditional import (
    config_etag,
    version_etag,
)
from config_versions.api.pagination import ApiPagination
from config_versions.api.serializers import (
    BotConfigCreateSerializer,
    BotConfigDetailSerializer,
    BotConfigListSerializer,
    DiffQuerySerializer,
    DiffSerializer,
    HistoryQuerySerializer,
    RollbackSerializer,
    VersionPathSerializer,
    VersionSerializer,
    VersionWriteSerializer,
)
from config_versions.core.errors import VersionConflictError
from config_versions.core.version import ConfigVersion
from config_versions.models import BotConfig
from config_versions.store import VERSION_FIELDS


class ConfigListView(BotConfigAPIView):
    """Bot configs, by name. Each has a numbered, immutable history of versions."""

    name = "Bot configs"  # in the browsable API

    pagination_class = ApiPagination

    def get_queryset(self) -> Any:
        return BotConfig.objects.with_last_version().order_by("name", "slug")

    def get_serializer_class(self) -> type[serializers.Serializer[Any]]:
        if self.request.method == "POST":
            return BotConfigCreateSerializer
        return BotConfigListSerializer

    @extend_schema(
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

    @extend_schema(
        summary="Create a config with its first version",
        request=BotConfigCreateSerializer,
        responses={
            201: BotConfigDetailSerializer,
            **schema.AUTH_ERRORS,
            400: schema.BAD_REQUEST,
            413: schema.TOO_LARGE,
            415: schema.WRITE_ERRORS[415],
        },
        parameters=[schema.etag_header(201), schema.location_header(201)],
    )
    def post(self, request: Request) -> Response:
        data = validated(BotConfigCreateSerializer, request.data)
        config = data.pop("config")
        reason = reason_option(data)
        data.pop("reason", None)
        try:
            with transaction.atomic():
                bot = BotConfig.objects.create(**data)
                version = self.manager(bot).create(config, created_by=self.author(), **reason)
        except IntegrityError:
            # Another request took the slug between validation and insert.
            raise serializers.ValidationError(
                {"slug": ["bot config with this slug already exists."]}
            ) from None
        except INVALID_CONFIG as exc:
            raise serializers.ValidationError({"config": config_messages(exc)}) from None
        bot.refresh_from_db()
        body = detail_body(bot, version.version, version.config)
        response = Response(body, status=status.HTTP_201_CREATED)
        response["Location"] = request.build_absolute_uri(f"{bot.slug}/")
        return self.tagged(response, config_etag(bot))


class ConfigDetailView(BotConfigAPIView):
    """A config as of its current version.

    The ETag names the version: send it back in If-None-Match to poll cheaply (304
    while nothing changed) and in If-Match to write only over the version you read.
    """

    name = "Bot config"  # in the browsable API

    serializer_class = VersionWriteSerializer

    @extend_schema(
        summary="The current config",
        parameters=[schema.SLUG, schema.IF_NONE_MATCH, schema.etag_header(200, 304)],
        responses={200: BotConfigDetailSerializer, 304: schema.NOT_MODIFIED, **schema.READ_ERRORS},
    )
    def get(self, request: Request, slug: str) -> HttpResponseBase:
        if "If-None-Match" in request.headers:
            # A poll: the tag comes from the BotConfig row, so a 304 never reads a config.
            bot = self.get_bot(slug)
            etag = config_etag(bot)
            if (unchanged := self.conditional_get(etag)) is not None:
                return unchanged
            current = self.manager(bot).get_version(bot.current_version)
        else:
            bot, current = self.get_current(slug)
            etag = config_etag(bot)
        config = current.config if current is not None else None
        body = detail_body(bot, bot.current_version, config)
        if not self.json_wanted():
            # The browsable API fills its PUT form from the serializer behind the data.
            body = BotConfigDetailSerializer(body).data
        return self.tagged(Response(body), etag)

    @extend_schema(
        summary="Write a new version",
        description=(
            "Replaces the whole config with a new version (the first one if the config "
            "has none yet). Send If-Match (the ETag you read) or expected_version to make "
            "sure you do not overwrite someone else's version."
        ),
        request=VersionWriteSerializer,
        parameters=[schema.SLUG, schema.IF_MATCH, schema.etag_header(200)],
        responses={200: BotConfigDetailSerializer, **schema.WRITE_ERRORS},
    )
    def put(self, request: Request, slug: str) -> Response:
        write = self.write_request(slug, VersionWriteSerializer)
        bot, data = write.bot, write.data
        try:
            version = self._write(bot, data, write.expected_version)
        except VersionConflictError as exc:
            return conflict_response(exc, from_if_match=write.from_if_match)
        except INVALID_CONFIG as exc:
            raise serializers.ValidationError({"config": config_messages(exc)}) from None
        except ValueError as exc:  # the config was deleted meanwhile
            raise NotFound(str(exc)) from None
        fresh = BotConfig.objects.filter(pk=bot.pk).order_by().first() or bot
        body = detail_body(fresh, version.version, version.config)
        # Another writer may already have moved on; then there is no tag to give.
        current = fresh.current_version == version.version
        return self.tagged(Response(body), config_etag(fresh) if current else None)

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        # The browsable API fills its PUT form from the config on show; it also gets the
        # version shown as expected_version, so a human's save never overwrites a newer one.
        shown = kwargs.get("instance")
        if isinstance(shown, dict) and "current_version" in shown:
            kwargs["instance"] = {
                "config": shown["config"] or {},
                "reason": "",
                "expected_version": shown["current_version"],
            }
        return super().get_serializer(*args, **kwargs)

    def _write(self, bot: BotConfig, data: dict[str, Any], expected: int | None) -> ConfigVersion:
        manager = self.manager(bot)
        options = {"created_by": self.author(), **reason_option(data)}
        if bot.current_version == 0 and expected in (None, 0):
            try:
                return manager.create(data["config"], **options)
            except INVALID_CONFIG:
                raise
            except ValueError:
                # Someone wrote the first version meanwhile.
                if expected == 0:
                    raise VersionConflictError(
                        "Version conflict", expected_version=0, actual_version=len(manager)
                    ) from None
        return manager.update(data["config"], expected_version=expected, **options)


class VersionListView(BotConfigAPIView):
    """Every version of a config, newest first, a page at a time."""

    name = "Versions"  # in the browsable API

    pagination_class = ApiPagination
    serializer_class = VersionSerializer

    @extend_schema(
        summary="History, newest first",
        parameters=[schema.SLUG, HistoryQuerySerializer],
        responses={
            200: VersionSerializer(many=True),
            400: schema.BAD_QUERY,
            **schema.READ_ERRORS,
        },
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
        page = self.paginate_queryset(values)
        return self.get_paginated_response(VersionSerializer(page, many=True).data)


class VersionDetailView(BotConfigAPIView):
    """One version of a config. Versions never change, so their ETags never go stale."""

    name = "Version"  # in the browsable API

    serializer_class = VersionSerializer

    @extend_schema(
        summary="One version",
        parameters=[
            schema.SLUG,
            schema.VERSION,
            schema.IF_NONE_MATCH,
            schema.etag_header(200, 304),
        ],
        responses={
            200: VersionSerializer,
            304: schema.NOT_MODIFIED,
            400: schema.BAD_QUERY,
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

    @extend_schema(
        summary="Differences between two versions",
        parameters=[schema.SLUG, DiffQuerySerializer],
        responses={200: DiffSerializer, 400: schema.BAD_QUERY, **schema.READ_ERRORS},
    )
    def get(self, request: Request, slug: str) -> Response:
        bot = self.get_bot(slug)
        query = validated(DiffQuerySerializer, request.query_params)
        to_version = query.get("to_version", bot.current_version)
        from_version = query.get("from_version", max(to_version - 1, 1))
        try:
            result = self.manager(bot).diff(from_version, to_version)
        except ValueError as exc:
            message = f"{exc}." if bot.current_version else "The config has no versions yet."
            raise NotFound(message) from None
        return Response(DiffSerializer(result).data)


class RollbackView(BotConfigAPIView):
    """Make an old version's config current again, as a new version: history is kept.

    Needs the rollback_botconfig permission.
    """

    permission_action = "rollback"
    serializer_class = RollbackSerializer

    @extend_schema(
        summary="Roll back: a new version with an old version's config",
        request=RollbackSerializer,
        parameters=[
            schema.SLUG,
            schema.IF_MATCH,
            schema.etag_header(201),
            schema.location_header(201),
        ],
        responses={201: VersionSerializer, **schema.WRITE_ERRORS},
    )
    def post(self, request: Request, slug: str) -> Response:
        write = self.write_request(slug, RollbackSerializer)
        bot, data = write.bot, write.data
        target = data["to_version"]
        try:
            version = self.manager(bot).rollback(
                target,
                reason=data.get("reason") or None,
                created_by=self.author(),
                expected_version=write.expected_version,
            )
        except VersionConflictError as exc:
            return conflict_response(exc, from_if_match=write.from_if_match)
        except INVALID_CONFIG as exc:
            messages = [
                f"Version {target} fails today's validation: {m}" for m in config_messages(exc)
            ]
            raise serializers.ValidationError({"to_version": messages}) from None
        except ValueError as exc:  # the version (or the config) does not exist
            raise NotFound(f"{exc}.") from None
        response = Response(VersionSerializer(version).data, status=status.HTTP_201_CREATED)
        response["Location"] = request.build_absolute_uri(f"../versions/{version.version}/")
        return self.tagged(response, version_etag(bot, version.version))
