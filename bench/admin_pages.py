"""W6: the admin's history page and diff page at a short and a long history.

Django's test client requests the real admin URLs (middleware, session, templates) as a
signed-in superuser. config_versions' pages are the subject; the peers' own history
pages (reversion's ``VersionAdmin``, simple-history's ``SimpleHistoryAdmin``) run beside
them for orientation. The peers have no diff page.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bench.workloads import Bench, Measured

# A page slower than this gets fewer samples (at least MIN_SAMPLES): reversion's history
# page lists every version, which at 10,000 versions takes seconds.
SAMPLE_BUDGET_SECONDS = 5.0
MIN_SAMPLES = 2


def _pk(key: str, obj: Any) -> int:
    if key == "config_versions":
        return int(obj.bot.pk)
    if key == "floor":
        return int(obj.bot_id)
    return int(obj.pk)


def _urls(key: str, pk: int, versions: int) -> dict[str, str]:
    if key == "config_versions":
        return {
            "history": reverse("admin:config_versions_botconfig_history", args=[pk]),
            "diff": reverse("admin:config_versions_botconfig_diff", args=[pk])
            + f"?from={versions - 1}&to={versions}",
        }
    if key == "reversion":
        return {"history": reverse("admin:benchapp_reversionbot_history", args=[pk])}
    if key == "simple_history":
        return {"history": reverse("admin:benchapp_historybot_history", args=[pk])}
    return {}


def _get(client: Client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, f"{url} answered {response.status_code}"
    return bytes(response.content)


def admin_pages(bench: Bench, user: User, log: Callable[[str], None]) -> dict[str, Any]:
    """Short and long history take turns page by page, so drift hits both alike."""
    plan = bench.plan
    client = Client()
    client.force_login(user)
    lengths = {"-short": plan.short_history, "": plan.long_history}
    results: dict[str, Any] = {}
    for page in ("history", "diff"):
        measured = {
            suffix: Measured(f"W6 admin {page} page, {versions:,} versions", f"ms per {page} page")
            for suffix, versions in lengths.items()
        }
        for key in bench.histories[plan.long_history]:
            urls = {}
            for suffix, versions in lengths.items():
                obj = bench.histories[versions][key]
                url = _urls(key, _pk(key, obj), versions).get(page)
                if url is None:
                    continue
                urls[suffix] = url
                # The first request warms caches, is counted, and must show the head.
                with CaptureQueriesContext(connection) as captured:
                    body = _get(client, url)
                measured[suffix].queries[key] = float(len(captured.captured_queries))
                if key == "config_versions":
                    assert f"{versions}".encode() in body, f"{url} does not show v{versions}"
            if not urls:
                continue
            spent = 0.0
            for rep in range(plan.reps):
                if rep >= MIN_SAMPLES and spent > SAMPLE_BUDGET_SECONDS:
                    break
                for suffix, url in urls.items():
                    gc.collect()
                    start = time.perf_counter()
                    _get(client, url)
                    elapsed = time.perf_counter() - start
                    spent += elapsed
                    measured[suffix].samples.setdefault(key, []).append(elapsed * 1000)
        for suffix, result in measured.items():
            results[f"W6-{page}{suffix}"] = result.as_dict()
        log(f"  W6 {page} pages measured")
    return results
