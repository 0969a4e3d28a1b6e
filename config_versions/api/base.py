"""The API views' shared policy and helpers: lookups, preconditions, error answers."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, router
from django.http import HttpResponseBase, HttpResponseNotModified
from django.utils.module_loading import import_string
from rest_framework import serializers, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import NotFound, ParseError
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from config_versions import conf
from config_versions.api.conditional import (
    PreconditionFailed,
    check_if_match_read,
    if_match_version,
    not_modified,
    require_precondition,
)
from config_versions.api.errors import gone, refuse_archived, unavailable
from config_versions.api.parsers import ConfigJSONParser
from config_versions.core.errors import (
    ConfigArchivedError,
    InvalidConfigError,
    VersionConflictError,
)
from config_versions.core.labels import LATEST
from config_versions.core.manager import ConfigVersionManager
from config_versions.core.version import ConfigVersion
from config_versions.models import BotConfig
from config_versions.queries import LabelRead, load_bot, load_current, load_label

_SLUG = re.compile(r"[-a-zA-Z0-9_]+")
T = TypeVar("T")


@dataclass(frozen=True)
class WriteRequest:
    bot: BotConfig
    data: dict[str, Any]
    expected_version: int | None
    from_if_match: bool


class BotConfigAPIView(GenericAPIView[Any]):
    # Authentication and permission classes are read from CONFIG_VERSIONS on every
    # request (not frozen at import like DRF's class attributes), so settings can change.
    parser_classes = [ConfigJSONParser]
    queryset = BotConfig.objects.all()
    lookup_field = "slug"

    def get_authenticators(self) -> list[BaseAuthentication]:
        paths = conf.settings.API_AUTHENTICATION_CLASSES
        if paths is None:
            # api_settings has already imported the dotted paths (the stubs say str).
            defaults = cast(
                "Sequence[type[BaseAuthentication]]", api_settings.DEFAULT_AUTHENTICATION_CLASSES
            )
            return [auth() for auth in defaults]
        return [import_string(path)() for path in paths]

    def get_permissions(self) -> list[BasePermission]:
        return [import_string(path)() for path in conf.settings.API_PERMISSION_CLASSES]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # Django reads the last of repeated parameters, so "?limit=-1&limit=5" would pass
        # unnoticed; a parameter given twice is a client's mistake worth telling.
        repeated = sorted(name for name, values in request.query_params.lists() if len(values) > 1)
        if repeated:
            raise ParseError(f"Give each query parameter once: {', '.join(repeated)} repeated.")

    def get_bot(self, slug: str) -> BotConfig:
        """The config named by the URL: 404 if there is none, 410 if it is archived."""
        bot = self._find(slug, load_bot)
        self.check_object_permissions(self.request, bot)
        return refuse_archived(bot)

    def get_current(self, slug: str) -> tuple[BotConfig, ConfigVersion | None]:
        """The config and its current version, in one query."""
        found = self._find(slug, load_current)
        self.check_object_permissions(self.request, found[0])
        refuse_archived(found[0])
        return found

    def get_label_read(self, slug: str, label: str, as_of: float | None) -> LabelRead:
        """The config, where ``label`` points (pointed at ``as_of``) and that version's
        fields, in one query."""

        def load(slug: str, *, using: str) -> LabelRead | None:
            return load_label(slug, label, as_of=as_of, using=using)

        found = self._find(slug, load)
        self.check_object_permissions(self.request, found.bot)
        refuse_archived(found.bot)
        return found

    @staticmethod
    def _find(slug: str, load: Callable[..., T | None]) -> T:
        found = load(slug, using=router.db_for_read(BotConfig)) if _SLUG.fullmatch(slug) else None
        if found is None:
            raise NotFound(f"No bot config with the slug {slug!r}.")
        return found

    def write_request(
        self, slug: str, serializer_class: type[serializers.Serializer[Any]]
    ) -> WriteRequest:
        """What every write checks first: the config, the body, and its preconditions.

        The version the write is pinned to comes from the body's expected_version, or
        else from If-Match; a conflict is answered 409 for the first, 412 for the other.
        """
        bot = self.get_bot(slug)
        data = validated(serializer_class, self.request.data)
        expected = data.get("expected_version")
        require_precondition(self.request, expected)
        pinned = if_match_version(self.request, bot)
        if expected is not None:
            return WriteRequest(bot, data, expected, from_if_match=False)
        return WriteRequest(bot, data, pinned, from_if_match=True)

    def handle_exception(self, exc: Exception) -> Response:
        # A config archived while a write was on its way (the store refuses it): 410,
        # as the next request would be answered.
        if isinstance(exc, ConfigArchivedError):
            exc = gone(self.kwargs.get("slug", ""))
        # Any database error, on every endpoint: JSON 503 with Retry-After, never the
        # HTML 500 page (see api/errors.py).
        if isinstance(exc, DatabaseError):
            return unavailable(self.request, exc)
        return super().handle_exception(exc)

    def get_object(self) -> BotConfig:
        # DRF's OPTIONS answer calls this to see whether a PUT would be allowed.
        return self.get_bot(self.kwargs[self.lookup_field])

    def manager(self, bot: BotConfig) -> ConfigVersionManager:
        return bot.get_version_manager(user=self.request.user)

    def author(self) -> str:
        return str(self.request.user.get_username())

    def json_wanted(self) -> bool:
        # Entity tags describe the JSON representation; the browsable API's HTML has none.
        renderer = getattr(self.request, "accepted_renderer", None)
        return getattr(renderer, "format", None) == "json"

    def check_if_match(self, etag: str, what: str) -> None:
        """412 unless If-Match (if sent) names ``etag``; the HTML of the browsable API
        has no tag, so there only ``*`` matches."""
        check_if_match_read(self.request, etag if self.json_wanted() else None, what)

    def conditional_get(self, etag: str) -> HttpResponseBase | None:
        if self.json_wanted() and not_modified(self.request, etag):
            response = HttpResponseNotModified()
            response["ETag"] = etag
            return response
        return None

    def tagged(self, response: Response, etag: str | None) -> Response:
        if etag is not None and self.json_wanted():
            response["ETag"] = etag
        return response


def validated(serializer_class: type[serializers.Serializer[Any]], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# What the manager raises for a config it will not store. UnicodeError: the parser
# refuses unpaired surrogates first, but the core would fail on them while hashing.
INVALID_CONFIG = (InvalidConfigError, DjangoValidationError, UnicodeError)


def invalid(exc: Exception) -> serializers.ValidationError:
    """The 400 for what the manager refused, keyed by the field it names."""
    return serializers.ValidationError({getattr(exc, "field", "config"): config_messages(exc)})


def config_messages(exc: Exception) -> list[str]:
    if isinstance(exc, DjangoValidationError):
        return [str(message) for message in exc.messages]
    if isinstance(exc, InvalidConfigError):
        return [f"{path}: {message}" if path else message for path, message in exc.errors]
    return ["The config holds text that is not valid Unicode (an unpaired surrogate)."]


def conflict_response(exc: VersionConflictError, *, from_if_match: bool) -> Response:
    if from_if_match:
        raise PreconditionFailed(
            f"The config changed since you read it: it is now at version {exc.actual_version}. "
            "Read it again and reapply your edit."
        )
    return Response(
        {
            "detail": f"Version conflict: you expected version {exc.expected_version}, "
            f"but the current version is {exc.actual_version}.",
            "expected_version": exc.expected_version,
            "actual_version": exc.actual_version,
        },
        status=status.HTTP_409_CONFLICT,
    )


_DATETIME = serializers.DateTimeField()


def detail_body(
    bot: BotConfig,
    version: int,
    config: dict[str, Any] | None,
    *,
    label: str = LATEST,
    since: float | None = None,
) -> dict[str, Any]:
    """The body of ``configs/{slug}/``, as ``BotConfigDetailSerializer`` documents it.

    ``version`` is the version served (``current_version`` and ``version``: the newest
    one for ``latest``), ``label`` the label serving it. ``since``: when the label moved
    there (a Unix time), shown as ``updated_at`` instead of the config's own. Built
    directly, not through the serializer: this is the answer bots poll for, and the
    fields need no conversion but the timestamp's.
    """
    updated_at = bot.updated_at if since is None else dt.datetime.fromtimestamp(since, tz=dt.UTC)
    return {
        "slug": bot.slug,
        "name": bot.name,
        "description": bot.description,
        "current_version": version,
        "config": config,
        "updated_at": _DATETIME.to_representation(updated_at),
        "label": label,
        "version": version,
    }
