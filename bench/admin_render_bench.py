"""Time the admin's diff page on two ~1 MB configs: the budget is one second.

Run from the repository root::

    .venv/bin/python bench/admin_render_bench.py              # SQLite, a temporary file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres CV_TEST_DB_NAME=cv_admin_bench \\
        .venv/bin/python bench/admin_render_bench.py

It creates a throw-away test database (``CV_TEST_DB_NAME`` on a server), stores two
versions of a realistic ~1 MB bot config (``bench.configs``) through the version
manager, and requests the real admin page with Django's test client as a signed-in
superuser: middleware, session, database reads, the core diff, the side-by-side layout
and the template. It prints the median and the worst of several runs, a breakdown of
where the time goes, and exits non-zero when the median page is over budget.
``--difflib`` also times the text line diff the layout replaced, for comparison.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402

from bench.configs import config_size, make_bot_config, mutate  # noqa: E402
from config_versions.admin.diff_html import render_rows  # noqa: E402
from config_versions.core.diff import diff_configs  # noqa: E402
from config_versions.diff_display import side_by_side  # noqa: E402
from config_versions.models import BotConfig  # noqa: E402

BUDGET_SECONDS = 1.0


def timed(func: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return times, result


def report(label: str, times: list[float]) -> None:
    print(f"  {label:<34} median {statistics.median(times):6.3f} s   worst {max(times):6.3f} s")


def run(size: int, fraction: float, repeat: int, with_difflib: bool) -> int:
    old_config = make_bot_config(size, seed=1)
    new_config = mutate(old_config, fraction, seed=2)
    bot = BotConfig.objects.create(name="Bench bot", slug="bench-bot")
    manager = bot.version_manager
    manager.create(old_config, reason="Initial configuration")
    manager.update(new_config, reason="Edit")
    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench")
    client = Client()
    client.force_login(user)
    url = reverse("admin:config_versions_botconfig_diff", args=[bot.pk]) + "?from=1&to=2"

    def page() -> bytes:
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        return bytes(response.content)

    page()  # warm-up: template loading, URL resolution, connection
    print(
        f"{connection.vendor}: two configs of {config_size(old_config):,} and "
        f"{config_size(new_config):,} bytes (compact JSON), {fraction:.0%} edited"
    )
    page_times, html = timed(page, repeat)
    all_lines = url + "&expand=all"
    expanded_times, expanded = timed(lambda: client.get(all_lines).content, max(1, repeat // 2))

    # Where the time goes, stage by stage, outside the request.
    read_times, versions = timed(lambda: (manager.get_version(1), manager.get_version(2)), repeat)
    old, new = versions
    diff_times, diff = timed(lambda: diff_configs(old.config, new.config), repeat)
    layout_times, display = timed(
        lambda: side_by_side(old.config, new.config, diff["changes"]), repeat
    )
    render_times, _ = timed(lambda: render_rows(display, "from=1&to=2"), repeat)

    report("diff page (folded), whole request", page_times)
    report("diff page, every line shown", expanded_times)
    report("  read both versions", read_times)
    report("  core diff", diff_times)
    report("  side-by-side layout", layout_times)
    report("  rows as HTML", render_times)
    rows = len(display.rows)
    print(
        f"  {display.change_count} changes, {display.left_line_count:,} / "
        f"{display.right_line_count:,} lines, {rows:,} rows shown folded; page "
        f"{len(html) / 1024:,.0f} KiB folded, {len(expanded) / 1024:,.0f} KiB unfolded"
    )
    if with_difflib:
        difflib_times = time_difflib(old.config, new.config)
        report("difflib on the pretty lines (for comparison)", difflib_times)

    median = statistics.median(page_times)
    verdict = "within" if median <= BUDGET_SECONDS else "OVER"
    print(f"median {median:.3f} s: {verdict} the budget of {BUDGET_SECONDS:.1f} s")
    return 0 if median <= BUDGET_SECONDS else 1


def time_difflib(old: Any, new: Any) -> list[float]:
    import difflib
    import json

    a = json.dumps(old, indent=2, sort_keys=True).split("\n")
    b = json.dumps(new, indent=2, sort_keys=True).split("\n")
    times, _ = timed(lambda: difflib.SequenceMatcher(None, a, b).get_opcodes(), 1)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="bytes per config")
    parser.add_argument("--fraction", type=float, default=0.01, help="share of values edited")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--difflib", action="store_true", help="also time difflib (slow)")
    args = parser.parse_args()
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        return run(args.size, args.fraction, args.repeat, args.difflib)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    sys.exit(main())
