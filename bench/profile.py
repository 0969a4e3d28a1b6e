"""Profile one contender's operation with pyinstrument, to find where a target is missed.

    python -m bench.profile read --contender config_versions [--size 5000] [--ops 2000]

Operations: ``update`` (W1), ``read`` (W2), ``page`` (W3), ``rollback`` (W4). The history
is built first (``--versions``), then ``--ops`` operations run under the profiler and
the call tree is printed (``--html FILE`` writes pyinstrument's HTML view as well).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("operation", choices=["update", "read", "page", "rollback"])
    parser.add_argument("--contender", default="config_versions")
    parser.add_argument("--size", type=int, default=5_000, help="config bytes")
    parser.add_argument("--versions", type=int, default=1_000)
    parser.add_argument("--ops", type=int, default=1_000)
    parser.add_argument("--html", type=Path)
    parser.add_argument("--all", action="store_true", help="show library frames too")
    args = parser.parse_args(argv)

    from bench.run import drop_database, prepare_database

    prepare_database()
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from pyinstrument import Profiler

    from bench.contenders import CONTENDERS
    from bench.workloads import Bench, Plan

    try:
        call_command("migrate", verbosity=0)
        user = User.objects.create_superuser("bench", "bench@example.com", "bench")
        chosen = [make(user) for make in CONTENDERS if make.key == args.contender]
        if not chosen:
            raise SystemExit(f"No contender {args.contender!r}")
        contender = chosen[0]
        plan = Plan(small_bytes=args.size, variants=10)
        bench = Bench([contender], plan, lambda message: print(message, file=sys.stderr))
        obj = bench.build(contender, args.versions, bench.small)
        operations: dict[str, Any] = {
            "update": lambda i: contender.update(obj, bench.small[i % 10], "Profiled"),
            "read": lambda _i: contender.read_current(obj),
            "page": lambda _i: contender.newest(obj, 50),
            "rollback": lambda i: contender.rollback_to(obj, 1 + i % 2),
        }
        run = operations[args.operation]
        run(0)  # warm
        profiler = Profiler(interval=0.0002)
        profiler.start()
        for index in range(args.ops):
            run(index)
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=args.all))
        if args.html:
            args.html.write_text(profiler.output_html())
    finally:
        drop_database()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
