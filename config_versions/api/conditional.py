"""HTTP conditional requests: entity tags, If-None-Match, If-Match and their answers.

If-Match is honoured on reads as on writes (RFC 9110 13.1.1): 412 unless it is ``*`` or
names the current tag by strong comparison.

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
import re
from typing import TYPE_CHECKING

from django.utils.http import parse_etags
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError

from config_versions import conf
from config_versions.core.labels import LATEST

if TYPE_CHECKING:
    from rest_framework.request import Request

    from config_versions.models import BotConfig


# If-Match as RFC 9110 writes it: "*" or a list of entity tags, [ "W/" ] DQUOTE *etagc
# DQUOTE, separated by OWS "," OWS (OWS: spaces and tabs), once the spaces around the
# whole value are gone (they are not part of a field value). etagc is narrowed to
# %x21 / %x23-7E less the comma: a comma inside a tag makes the list ambiguous to split,
# and obs-text (%x80-FF) is obsolete. The OpenAPI schema declares this same pattern.
_ENTITY_TAG = r'(?:W/)?"[\u0021\u0023-\u002b\u002d-\u007e]*"'
IF_MATCH_PATTERN = rf"^(?:\*|{_ENTITY_TAG}(?:[ \t]*,[ \t]*{_ENTITY_TAG})*)$"
_IF_MATCH = re.compile(IF_MATCH_PATTERN)


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


def served_etag(bot: BotConfig, label: str, version: int, sequence: int | None) -> str:
    """Strong entity tag of ``GET configs/{slug}/?label=`` serving ``version``.

    ``latest`` at the current version is the config's own tag (the same answer as
    without ``?label``). Any other tag names the label, the version served and the move
    that pointed the label there (``sequence``), so it changes with every move, even
    back to a version it pointed at before, and the config's own fields (slug, name,
    description). Not the config's newest version: a bot following ``production`` keeps
    getting 304 while versions are written that production does not serve.
    """
    if label == LATEST and version == bot.current_version:
        return config_etag(bot)
    return _tag("served", bot, version, label, sequence, bot.slug, bot.name, bot.description)


def label_etag(
    bot: BotConfig, label: str, version: int | None, sequence: int | None, protected: bool
) -> str:
    """Strong entity tag of ``GET configs/{slug}/labels/{label}/``: the label's last move
    (its sequence names it) and whether it is protected. Not the config's head: a new
    version does not change where a label points, nor stale an If-Match of its move."""
    return _tag("label", bot, version or 0, label, sequence or 0, protected)


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


def if_match_tags(request: Request) -> list[str] | None:
    """The entity tags of If-Match (``["*"]`` for any), or None without the header.

    Raises 400 when the header is not a list of entity tags: a precondition half
    understood is refused rather than ignored.
    """
    header = request.headers.get("If-Match")
    if header is None:
        return None
    # fullmatch: "$" alone would let a final newline through.
    if not _IF_MATCH.fullmatch(header.strip(" \t")):
        raise ParseError(
            "The If-Match header holds no entity tag; send the quoted ETag you received, "
            'e.g. "v3-5f1c…".'
        )
    return parse_etags(header)


def if_match_holds(tags: list[str], etag: str | None) -> bool:
    """If-Match's condition for a representation that exists (RFC 9110 13.1.1).

    ``*`` matches it; otherwise one tag must equal ``etag`` by strong comparison, so a
    weak tag (``W/"..."``) never matches, and nothing matches a representation without
    a tag (the browsable API's HTML).
    """
    return tags == ["*"] or (etag is not None and not etag.startswith("W/") and etag in tags)


def check_if_match_read(request: Request, etag: str | None, what: str) -> None:
    """412 when a read's If-Match names none of the representation's tags.

    ``what`` says which representation, for the message ("the config", "version 3").
    Called after the lookup: a missing config or version stays a 404.
    """
    tags = if_match_tags(request)
    if tags is None or if_match_holds(tags, etag):
        return
    current = f"its entity tag is {etag}" if etag is not None else "it has no entity tag"
    raise PreconditionFailed(f"If-Match names no current entity tag of {what}: {current}.")


def if_match_version(request: Request, bot: BotConfig) -> int | None:
    """Evaluate If-Match against the config's tag; the version it pins, if any.

    Raises 400 when the header is not a list of entity tags, 412 when no tag matches. ``*``
    matches any existing config and pins nothing.
    """
    tags = if_match_tags(request)
    if tags is None or tags == ["*"]:
        return None
    current = config_etag(bot)
    # Strong comparison (RFC 9110 13.1.1): a weak tag never matches.
    if not if_match_holds(tags, current):
        raise PreconditionFailed(
            f"The config changed since you read it: its entity tag is now {current} "
            f"(version {bot.current_version}). Read it again and reapply your edit."
        )
    return bot.current_version


def require_precondition(request: Request, expected_version: int | None) -> None:
    """428 when the site requires conditional writes and this one has no precondition."""
    if not conf.settings.REQUIRE_PRECONDITION or expected_version is not None:
        return
    header = request.headers.get("If-Match")
    # "If-Match: *" only says the config exists; it protects no edit from being lost.
    if header is None or parse_etags(header) == ["*"]:
        raise PreconditionRequired()
