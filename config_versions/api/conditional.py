"""HTTP conditional requests: entity tags, If-None-Match, If-Match and their answers.

A config's entity tag names its current version and is computed from the ``BotConfig``
row alone, so a conditional GET that ends in 304 costs one query and never reads (or
decodes) a config. Besides the version it covers the row's identity (primary key and
creation time: a config deleted and re-created under the same slug gets new tags) and
the other fields of the representation: slug, name, description and ``updated_at``.

Django's own ``condition()`` decorator runs before DRF authenticates the request, so it
would answer 304 and 412 to anyone; these helpers run inside the view, after the
permission checks.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from django.utils.http import parse_etags
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError

from config_versions import conf

if TYPE_CHECKING:
    from rest_framework.request import Request

    from config_versions.models import BotConfig


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The If-Match header does not match the current entity tag."
    default_code = "precondition_failed"


class PreconditionRequired(APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = (
        "This server requires conditional writes: send an If-Match header with the "
        "entity tag of the config you edited, or expected_version in the body."
    )
    default_code = "precondition_required"


def _tag(kind: str, bot: BotConfig, version: int, *extra: object) -> str:
    # JSON keeps the parts apart: ("a|b", "c") and ("a", "b|c") must not collide.
    identity = json.dumps([kind, str(bot.pk), bot.created_at.isoformat(), version, *extra])
    return f'"v{version}-{hashlib.sha256(identity.encode()).hexdigest()[:20]}"'


def config_etag(bot: BotConfig) -> str:
    """Strong entity tag of ``GET configs/{slug}/`` for the config as loaded."""
    return _tag(
        "config",
        bot,
        bot.current_version,
        bot.updated_at.isoformat(),
        bot.slug,
        bot.name,
        bot.description,
    )


def version_etag(bot: BotConfig, version: int) -> str:
    """Strong entity tag of ``GET configs/{slug}/versions/{n}/``.

    Versions never change once written, so the tag needs no column of the version row.
    """
    return _tag("version", bot, version)


def not_modified(request: Request, etag: str) -> bool:
    """True when If-None-Match names ``etag`` (weak comparison, RFC 9110 13.1.2)."""
    header = request.headers.get("If-None-Match")
    if header is None:
        return False
    tags = parse_etags(header)
    if tags == ["*"]:
        return True
    return etag.removeprefix("W/") in (tag.removeprefix("W/") for tag in tags)


def if_match_version(request: Request, bot: BotConfig) -> int | None:
    """Evaluate If-Match against the config's tag; the version it pins, if any.

    Raises 400 when the header is not a list of entity tags, 412 when no tag matches. ``*``
    matches any existing config and pins nothing.
    """
    header = request.headers.get("If-Match")
    if header is None:
        return None
    tags = parse_etags(header)
    # parse_etags drops what it cannot read; a precondition half understood is refused.
    if not tags or (tags != ["*"] and len(tags) != len(header.split(","))):
        raise ParseError(
            "The If-Match header holds no entity tag; send the quoted ETag you received, "
            'e.g. "v3-5f1c…".'
        )
    if tags == ["*"]:
        return None
    current = config_etag(bot)
    # Strong comparison (RFC 9110 13.1.1): a weak tag never matches.
    if current not in tags:
        raise PreconditionFailed(
            f"The config changed since you read it: its entity tag is now {current} "
            f"(version {bot.current_version}). Read it again and reapply your edit."
        )
    return bot.current_version


def require_precondition(request: Request, expected_version: int | None) -> None:
    """428 when the site requires conditional writes and this one has no precondition."""
    if not conf.get("REQUIRE_PRECONDITION") or expected_version is not None:
        return
    header = request.headers.get("If-Match")
    # "If-Match: *" only says the config exists; it protects no edit from being lost.
    if header is None or parse_etags(header) == ["*"]:
        raise PreconditionRequired()
