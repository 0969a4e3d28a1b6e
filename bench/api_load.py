"""The API under load: the example project under gunicorn, wrk against it, on loopback.

    DATABASE_URL=... python -m bench.api_load --out bench/results/api-postgresql.json

Sets up the benchmark's own database (as ``bench.run`` does), a config with 1,000
versions of a ~5 KB config, a bot account with view and change permissions and its
token, then serves ``bench.api_settings`` (the example site plus the bare floor views)
with gunicorn on 127.0.0.1 and runs each scenario with wrk for a fixed time:

- bare GET: ``bare/configs/{slug}/``, one query, no authentication (the floor)
- bare GET + token auth: the same after the token and permission check the API does
- API GET: ``api/configs/{slug}/`` with the bot's token (200)
- API GET, If-None-Match: the same with the ETag of the current version (304)
- API GET ``?label=production``: the version production points at (200), and with its
  ETag (304); the config's labels were moved as W2L moves them (about 150 moves)
- API PUT with ``expected_version``: each wrk thread writes to a config of its own
- bare PUT: one INSERT per request, nothing checked (the floor for writes)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LUA = ROOT / "bench" / "wrk" / "load.lua"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def set_up(connections: int, versions: int) -> dict[str, Any]:
    """Migrate and create the data; returns what the scenarios need."""
    import django

    django.setup()
    from django.contrib.auth.models import Permission, User
    from django.core.management import call_command
    from django.db import transaction
    from rest_framework.authtoken.models import Token

    from bench.configs import make_bot_config, mutate
    from config_versions.core.proposals import ReviewPolicy
    from config_versions.models import BotConfig

    call_command("migrate", verbosity=0)
    bot_user = User.objects.create_user("configbot", password=None)
    bot_user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="config_versions",
            codename__in=["view_botconfig", "change_botconfig"],
        )
    )
    token = Token.objects.create(user=bot_user).key
    base = make_bot_config(5_000, seed=1)
    variants = [base] + [mutate(base, 0.01, seed=s) for s in range(1, 10)]
    with transaction.atomic():
        bot = BotConfig.objects.create(name="Load bot", slug="load-bot")
        manager = bot.version_manager
        # The example site reviews production; the bench only needs the shape of the
        # label history W2L makes, so its set-up moves labels directly.
        manager.review_policy = ReviewPolicy()
        manager.create(variants[0])
        for number in range(2, versions + 1):
            manager.update(variants[number % len(variants)], reason=f"Update {number}")
        # Releases as W2L makes them: staging every 10 versions, production every 20,
        # production ending 2 versions behind the newest.
        for number in range(1, versions + 1, 10):
            manager.set_label("staging", number, reason=f"Try version {number}")
            if number > 10 and (number - 1) % 20 == 0:
                manager.set_label("production", number - 10, reason="Release")
        manager.set_label("staging", versions, reason="Newest on staging")
        manager.set_label("production", max(1, versions - 2), reason="Release")
        for index in range(connections):
            for prefix in ("put-bot-", "bare-put-"):
                writer = BotConfig.objects.create(name=f"{prefix}{index}", slug=f"{prefix}{index}")
                writer.version_manager.create(variants[0])
    return {"token": token, "configs": variants[:2], "versions": versions}


def wait_until_up(url: str, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer {url} within {seconds} s")


def fetch_etag(url: str, token: str) -> str:
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        etag = response.headers["ETag"]
    assert etag, "the API sent no ETag"
    return str(etag)


def run_wrk(url: str, args: list[str], *, threads: int, seconds: int, wrk: str) -> dict[str, Any]:
    command = [
        wrk,
        f"-t{threads}",
        f"-c{threads}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        url,
        "--",
        *args,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    line = done.stdout.strip().splitlines()[-1]
    result: dict[str, Any] = json.loads(line)
    seconds_run = result["duration_us"] / 1e6
    result["rps"] = result["requests"] / seconds_run if seconds_run else 0.0
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of each run")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--connections", type=int, default=4, help="wrk threads = connections")
    parser.add_argument("--versions", type=int, default=1_000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)

    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    workdir = Path(tempfile.mkdtemp(prefix="cv_bench_api_"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.api_settings"
    os.environ.setdefault("CV_BENCH_DB_NAME", "cv_bench_api")
    os.environ.setdefault("CV_BENCH_SQLITE_FILE", str(workdir / "api.sqlite3"))
    sys.path.insert(0, str(ROOT / "example_project"))

    from bench.run import drop_database, environment, prepare_database, write_json

    prepare_database()
    server: subprocess.Popen[bytes] | None = None
    try:
        data = set_up(args.connections, args.versions)
        config_files = []
        for index, config in enumerate(data["configs"]):
            path = workdir / f"config-{index}.json"
            path.write_text(json.dumps(config, separators=(",", ":")))
            config_files.append(str(path))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        gunicorn = Path(sys.executable).with_name("gunicorn")
        server = subprocess.Popen(
            [
                str(gunicorn),
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.workers),
                "--pythonpath",
                f"{ROOT},{ROOT / 'example_project'}",
                "--log-level",
                "warning",
                "django.core.wsgi:get_wsgi_application()",
            ],
            cwd=ROOT,
            env=os.environ.copy(),
        )
        wait_until_up(f"{base}/bare/configs/load-bot/", server)
        token = data["token"]
        etag = fetch_etag(f"{base}/api/configs/load-bot/", token)
        get = f"{base}/api/configs/load-bot/"
        by_label = f"{get}?label=production"
        label_etag = fetch_etag(by_label, token)
        assert label_etag != etag, "production and latest answered with the same ETag"
        scenarios = [
            ("bare GET", f"{base}/bare/configs/load-bot/", ["get", "200", "-", "-"]),
            (
                "bare GET + token auth",
                f"{base}/bare-auth/configs/load-bot/",
                ["get", "200", token, "-"],
            ),
            ("API GET", get, ["get", "200", token, "-"]),
            ("API GET, If-None-Match (304)", get, ["get", "304", token, etag]),
            ("API GET ?label=production", by_label, ["get", "200", token, "-"]),
            (
                "API GET ?label=production, If-None-Match (304)",
                by_label,
                ["get", "304", token, label_etag],
            ),
            ("API PUT, expected_version", f"{base}/api/configs/put-bot-", ["put", "200", token]),
            ("bare PUT", f"{base}/bare/configs/bare-put-", ["put", "200", "-"]),
        ]
        # Warm every worker (imports, connections, caches) before anything is timed.
        run_wrk(get, ["get", "200", token, "-"], threads=args.connections, seconds=2, wrk=wrk)
        results: dict[str, Any] = {}
        for name, url, wrk_args in scenarios:
            if wrk_args[0] == "put":
                wrk_args = [*wrk_args, "-", *config_files]
            result = run_wrk(url, wrk_args, threads=args.connections, seconds=args.seconds, wrk=wrk)
            log(
                f"  {name}: {result['rps']:.0f} requests/s, p50 {result['p50_us'] / 1000:.1f} ms, "
                f"p99 {result['p99_us'] / 1000:.1f} ms, unexpected {result['unexpected_status']}"
            )
            results[name] = result
        env = environment()
        output = {
            "environment": env,
            "setup": {
                "workers": args.workers,
                "connections": args.connections,
                "seconds": args.seconds,
                "versions": args.versions,
                "config_bytes": len(json.dumps(data["configs"][0], separators=(",", ":"))),
            },
            "results": results,
        }
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        drop_database()
        shutil.rmtree(workdir, ignore_errors=True)
    write_json(output, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
