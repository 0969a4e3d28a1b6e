"""The floor for the API: plain Django views doing the least the endpoint must do.

GET reads the current version's row (one query, no authentication) and returns it as
JSON; ``bare_auth_config`` first does what the API's authentication and permission
check do (the token and the user's permissions, three queries), to tell the cost of the
site's security policy apart from the cost of the API itself.

PUT parses the body and appends the version with one INSERT, the unique index as its
compare-and-set; it validates, hashes and authenticates nothing, so it writes to bots
of its own ("bare-put-*"), never to ones whose history is checked.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from django.db import IntegrityError, connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.authtoken.models import Token

VERSIONS = "config_versions_botconfigversion"
BOTS = "config_versions_botconfig"
READ_SQL = (
    f"SELECT v.version, v.config FROM {BOTS} b JOIN {VERSIONS} v "
    "ON v.bot_config_id = b.id AND v.version = b.current_version WHERE b.slug = %s"
)


def _insert_sql() -> str:
    cast = "::json" if connection.vendor == "postgresql" else ""
    return (
        f"INSERT INTO {VERSIONS} (bot_config_id, version, config, timestamp, created_at, "
        "reason, previous_version, created_by, created_by_user_id, metadata, content_hash, "
        f"chain_hash) SELECT b.id, %s, %s{cast}, %s, %s, %s, %s, NULL, NULL, %s{cast}, '', '' "
        f"FROM {BOTS} b WHERE b.slug = %s"
    )


@csrf_exempt
def bare_config(request: HttpRequest, slug: str) -> HttpResponse:
    if request.method == "PUT":
        return _put(request, slug)
    return _read(slug)


def bare_auth_config(request: HttpRequest, slug: str) -> HttpResponse:
    key = request.headers.get("Authorization", "").removeprefix("Token ").strip()
    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        return JsonResponse({"detail": "Invalid token."}, status=401)
    if not token.user.has_perm("config_versions.view_botconfig"):
        return JsonResponse({"detail": "Permission denied."}, status=403)
    return _read(slug)


def _read(slug: str) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute(READ_SQL, [slug])
        row = cursor.fetchone()
    if row is None:
        raise Http404
    config = json.loads(row[1]) if isinstance(row[1], str) else row[1]
    return JsonResponse({"slug": slug, "current_version": row[0], "config": config})


def _put(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        data = json.loads(request.body)
        expected = int(data["expected_version"])
        config = data["config"]
        encoded = json.dumps(config, separators=(",", ":"), ensure_ascii=False)
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"detail": "bad request"}, status=400)
    now = time.time()
    created_at = connection.ops.adapt_datetimefield_value(datetime.fromtimestamp(now, tz=UTC))
    params = [expected + 1, encoded, now, created_at, "load test", expected or None, "{}", slug]
    try:
        with connection.cursor() as cursor:
            cursor.execute(_insert_sql(), params)
            if cursor.rowcount == 0:
                raise Http404
    except IntegrityError:
        return JsonResponse({"detail": "version conflict"}, status=409)
    return JsonResponse({"slug": slug, "current_version": expected + 1, "config": config})
