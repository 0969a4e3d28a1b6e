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

# Pages slower than this get fewer samples (at least three): reversion's history page
# lists every version, which at 10,000 versions takes seconds.
SAMPLE_BUDGET_SECONDS = 6.0
MIN_SAMPLES = 3


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
    plan = bench.plan
    client = Client()
    client.force_login(user)
    results: dict[str, Any] = {}
    for versions, suffix in ((plan.short_history, "-short"), (plan.long_history, "")):
        objects = bench.histories[versions]
        for page in ("history", "diff"):
            measured = Measured(
                f"W6 admin {page} page, {versions:,} versions", f"ms per {page} page"
            )
            for key, obj in objects.items():
                url = _urls(key, _pk(key, obj), versions).get(page)
                if url is None:
                    continue
                body = _get(client, url)  # warm, and check it shows the newest version
                if key == "config_versions":
                    assert f">{versions}<".encode() in body or str(versions).encode() in body
                samples: list[float] = []
                spent = 0.0
                while len(samples) < plan.reps and (
                    len(samples) < MIN_SAMPLES or spent < SAMPLE_BUDGET_SECONDS
                ):
                    gc.collect()
                    start = time.perf_counter()
                    _get(client, url)
                    elapsed = time.perf_counter() - start
                    spent += elapsed
                    samples.append(elapsed * 1000)
                measured.samples[key] = samples
                with CaptureQueriesContext(connection) as captured:
                    _get(client, url)
                measured.queries[key] = float(len(captured.captured_queries))
            results[f"W6-{page}{suffix}"] = measured.as_dict()
        log(f"  W6 pages at {versions:,} versions measured")
    return results
