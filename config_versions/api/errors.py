"""The API's answers to a failing database and to archived configs.

Database errors (a server down or restarting, a connection refused, dropped or
terminated: any ``django.db.DatabaseError``) are answered ``503 Service Unavailable``
with ``Retry-After`` and a JSON ``detail``, never with Django's HTML error page; the
site's own ``EXCEPTION_HANDLER`` is not asked, so the contract holds on every site.
A broken connection is closed at once, so the next request on the same worker opens
a new one (Django would also close it when the request ends).

A write's answer is built from what the write returned, with no query of the view after
it. A 503 may still follow a write in one case: a connection lost while the database
commits, when what was written cannot be looked up either (the store checks its
appends, the create view the config it created). ``version_created`` receivers run
through ``send_robust``: one that fails is logged and cannot turn a write into a 503.

An archived config (``BotConfig.archived_at`` set) is ``410 Gone`` under its URL, and
its slug stays taken: a create with it is ``409 Conflict``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import DatabaseError, connections, router
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import set_rollback

from config_versions.models import BotConfig

logger = logging.getLogger("config_versions.api")

# Seconds a client should wait before retrying after a 503: long enough for a pooler or
# a restarting server to take connections again, short enough for a bot to keep going.
RETRY_AFTER = 3

UNAVAILABLE_DETAIL = (
    "The database is not available at the moment (the connection was lost or refused); "
    f"the request was not carried out. Retry in {RETRY_AFTER} seconds."
)


class Gone(APIException):
    status_code = status.HTTP_410_GONE
    default_detail = "This bot config is archived."
    default_code = "archived"


class ArchivedSlug(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The slug belongs to an archived bot config."
    default_code = "archived_slug"


def gone(slug: str) -> Gone:
    return Gone(
        f"The bot config {slug!r} is archived: its history is kept, but it is no longer "
        "served or written. An administrator can restore it."
    )


def refuse_archived(bot: BotConfig) -> BotConfig:
    """``bot``, unless it is archived (410)."""
    if bot.archived_at is not None:
        raise gone(bot.slug)
    return bot


def refuse_archived_slug(error: ValidationError, data: Any) -> None:
    """409 instead of the 400 "already exists" when the slug is an archived config's."""
    codes = error.get_codes()
    slug_codes = codes.get("slug") if isinstance(codes, dict) else None
    if not isinstance(slug_codes, list) or "unique" not in slug_codes:
        return
    slug = data.get("slug") if isinstance(data, dict) else None
    if isinstance(slug, str) and BotConfig.objects.archived().filter(slug=slug).exists():
        raise ArchivedSlug(
            f"The slug {slug!r} belongs to an archived bot config: restore that config, "
            "or choose another slug."
        )


def unavailable(request: Request, exc: DatabaseError) -> Response:
    """The 503 for a database error; JSON whatever the client asked for."""
    logger.warning("Answered 503 after a database error: %s", exc, exc_info=exc)
    set_rollback()  # ATOMIC_REQUESTS: the request's transaction must not commit
    discard_broken_connections()
    # The browsable API's page would query the database again (permissions, forms).
    request.accepted_renderer = JSONRenderer()
    request.accepted_media_type = "application/json"
    response = Response(
        {"detail": UNAVAILABLE_DETAIL},
        status=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": str(RETRY_AFTER)},
    )
    response.exception = True
    return response


def discard_broken_connections() -> None:
    """Close every connection an error made unusable, as Django does at request end.

    Not inside a transaction: closing there is the transaction's business (Django
    closes it when the atomic block ends).
    """
    for connection in connections.all(initialized_only=True):
        if (
            connection.connection is not None
            and connection.errors_occurred
            and not connection.in_atomic_block
            and not connection.is_usable()
        ):
            connection.close()


def was_created(bot: BotConfig) -> bool:
    """After an error while committing ``bot``'s creation: whether the commit happened.

    False when the database cannot tell now either; the request is then answered 503,
    the one case where a 503 may follow a write (the client's retry finds the slug taken).
    """
    using = router.db_for_write(BotConfig, instance=bot)
    if connections[using].in_atomic_block:
        return False  # an outer transaction (ATOMIC_REQUESTS) is rolled back with the 503
    discard_broken_connections()
    try:
        found = BotConfig.objects.using(using).filter(pk=bot.pk, created_at=bot.created_at)
        return bool(found.exists())
    except DatabaseError:
        return False
