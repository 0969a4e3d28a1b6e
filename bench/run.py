"""Run the side-by-side benchmark on one database and write its results as JSON.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python -m bench.run
    python -m bench.run --quick          # every workload at toy sizes, as a smoke test

The database named by ``DATABASE_URL`` is only used to create the benchmark's own
(``CV_BENCH_DB_NAME``, default ``cv_bench``), which is dropped and created afresh; on
SQLite a temporary file is used. ``bench/report.py`` turns the JSON into RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

WORKLOADS = ("W1", "W2", "W2L", "W3", "W4", "W5", "W6", "W7")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def prepare_database() -> None:
    """Drop and create the benchmark's own database on a server; SQLite needs nothing."""
    import dj_database_url

    url = os.environ.get("DATABASE_URL")
    if not url:
        return
    config = dj_database_url.parse(url)
    name = os.environ.get("CV_BENCH_DB_NAME", "cv_bench")
    if not config["ENGINE"].endswith("postgresql"):
        raise SystemExit("The benchmark runs on SQLite and PostgreSQL only.")
    import psycopg

    with psycopg.connect(
        host=config["HOST"] or None,
        port=config["PORT"] or None,
        user=config["USER"] or None,
        password=config["PASSWORD"] or None,
        dbname=config["NAME"],
        autocommit=True,
    ) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def drop_database() -> None:
    from django.conf import settings
    from django.db import connection

    connection.close()
    name = settings.DATABASES["default"]["NAME"]
    if connection.vendor == "sqlite":
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{name}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    url_config = connection.settings_dict
    import dj_database_url

    base = dj_database_url.parse(os.environ["DATABASE_URL"])["NAME"]
    with psycopg.connect(
        host=url_config["HOST"] or None,
        port=url_config["PORT"] or None,
        user=url_config["USER"] or None,
        password=url_config["PASSWORD"] or None,
        dbname=base,
        autocommit=True,
    ) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def environment() -> dict[str, Any]:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            server = f"PostgreSQL {cursor.fetchone()[0]}"
        else:
            cursor.execute("SELECT sqlite_version()")
            server = f"SQLite {cursor.fetchone()[0]}"
    cpu = platform.processor() or "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kb = int(meminfo.read_text().split()[1])
        memory = f"{kb / 1024 / 1024:.0f} GB"
    packages = {}
    for name in ("Django", "django-reversion", "django-simple-history", "psycopg"):
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = "not installed"
    return {
        "database": connection.vendor,
        "server": server,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "packages": packages,
        # Other work on the machine shows here: the ratios hold up to it, absolute times not.
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="toy sizes: a smoke test")
    parser.add_argument("--only", default=",".join(WORKLOADS), help="e.g. W1,W2")
    parser.add_argument("--out", type=Path, help="JSON file to write (default: stdout)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--writers", type=int, help="W7's writer threads (default: 16)")
    args = parser.parse_args(argv)
    wanted = {w.strip().upper() for w in args.only.split(",") if w.strip()}

    prepare_database()
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from bench.contenders import CONTENDERS
    from bench.workloads import Bench, Plan

    started = time.perf_counter()
    try:
        call_command("migrate", verbosity=0)
        user = User.objects.create_superuser("bench", "bench@example.com", "bench")
        plan = Plan.quick() if args.quick else Plan()
        if args.writers:
            plan.contended_writers = args.writers
        bench = Bench([make(user) for make in CONTENDERS], plan, log)
        env = environment()
        log(f"== {env['server']}: {', '.join(sorted(wanted))}{' (quick)' if args.quick else ''}")
        from bench.admin_pages import admin_pages

        def w6() -> None:
            bench.results.update(admin_pages(bench, user, log))

        # W6 reads the histories W3 builds, before W5 empties every table.
        steps = [
            ("W1", bench.w1_updates),
            ("W2", bench.w2_read_current),
            # After W2: its moves leave the history (and W4's rollbacks) as they were.
            ("W2L", bench.w2l_read_label),
            ("W3", bench.w3_newest_page),
            ("W6", w6),
            ("W4", bench.w4_rollback),
            ("W5", bench.w5_storage),
            # Last: its history (one config, thousands of versions) is nobody else's.
            ("W7", bench.w7_contended_writes),
        ]
        needs = {"W2": "W1", "W2L": "W1", "W4": "W1", "W6": "W3"}
        done: set[str] = set()
        for name, step in steps:
            if name not in wanted:
                continue
            for needed_name, needed_step in steps:
                if needs.get(name) == needed_name and needed_name not in done | wanted:
                    needed_step()  # its history is needed, its result is not asked for
                    done.add(needed_name)
            t0 = time.perf_counter()
            step()
            done.add(name)
            log(f"{name} done in {time.perf_counter() - t0:.1f} s")
        output = {
            "environment": env,
            "quick": args.quick,
            "plan": vars(plan),
            "seconds": round(time.perf_counter() - started, 1),
            "load_average_end": [round(x, 2) for x in os.getloadavg()],
            "results": bench.results,
        }
    finally:
        if not args.keep:
            drop_database()
    write_json(output, args.out)
    return 0


def write_json(output: dict[str, Any], out: Path | None) -> None:
    """A run's results as JSON, to ``out`` or, without one, to standard output."""
    text = json.dumps(output, indent=1, default=str)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    raise SystemExit(main())
