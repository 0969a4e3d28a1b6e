"""Fault injection on a real server: database connections killed under write load.

The example site runs under gunicorn (sync workers, persistent connections with health
checks, as its settings have them) on loopback, against the test database. Writers PUT
distinct configs, each request with its own reason, while every connection to the
database is terminated again and again, as a failover or a restart does. Then:

- every answer is 200, or a JSON 503 with Retry-After: never a 500, never HTML;
- a 503 wrote no version, a 200 exactly one (looked up by the request's reason);
- every history still verifies.

PostgreSQL only: ``pg_terminate_backend`` is how the connections are killed.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections
from rest_framework.authtoken.models import Token

from config_versions.integrity import verify_history
from config_versions.models import BotConfig, BotConfigVersion
from tests.example.conftest import EXAMPLE_DIR
from tests.example.test_settings import run_site
from tests.threads import in_thread

GUNICORN = Path(sys.executable).with_name("gunicorn")
SITE = "cv_fault_site"  # application_name of the site's connections
WORKERS = 3
WRITERS = 8
KILLS = 20
KILL_EVERY = 0.3  # seconds between two kills


def faults(test: Callable[..., Any]) -> Callable[..., Any]:
    """A fault-injection test: PostgreSQL and gunicorn needed."""
    marks = [
        pytest.mark.django_db(transaction=True),
        pytest.mark.concurrency,
        pytest.mark.skipif(
            connection.vendor != "postgresql",
            reason="kills connections with pg_terminate_backend: PostgreSQL only",
        ),
        pytest.mark.skipif(not GUNICORN.exists(), reason="gunicorn is not installed"),
    ]
    for mark in marks:
        test = mark(test)
    return test


@dataclass(frozen=True)
class Answer:
    reason: str
    status: int
    content_type: str
    retry_after: str | None
    body: dict[str, Any]


@dataclass(frozen=True)
class Site:
    url: str
    token: str
    log: Path

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Answer:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Token {self.token}", "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(
            f"{self.url}{path}", data=data, method=method, headers=headers
        )
        reason = (body or {}).get("reason", "")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return _answer(reason, response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            return _answer(reason, error.code, error.headers, error.read())
        except OSError as error:  # no answer at all: status 0, and what happened
            return Answer(reason, 0, "", None, {"error": repr(error)})


def _answer(reason: str, status: int, headers: Any, content: bytes) -> Answer:
    content_type = headers.get("Content-Type", "")
    try:
        body = json.loads(content) if content_type == "application/json" else {}
    except ValueError:
        body = {}
    return Answer(reason, status, content_type, headers.get("Retry-After"), body)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _database_url() -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    port = db["PORT"] or 5432
    return f"postgres://{credentials}@{host}:{port}/{db['NAME']}?application_name={SITE}"


@pytest.fixture
def site(transactional_db: None, tmp_path: Path) -> Iterator[Site]:
    user = get_user_model().objects.create_superuser("fault-admin", password=None)
    token = Token.objects.create(user=user).key
    for index in range(WRITERS):
        bot = BotConfig.objects.create(name=f"Fault {index}", slug=f"fault-{index}")
        bot.version_manager.create({"writer": index, "n": -1})
    port, log = _free_port(), tmp_path / "gunicorn.log"
    output = log.open("wb")  # the server's log and the site's, for failures to show
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE"))}
    env.update(
        DJANGO_SETTINGS_MODULE="example_project.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=f"faults-only-{time.time_ns()}",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=_database_url(),
    )
    server = subprocess.Popen(
        [
            str(GUNICORN),
            "example_project.wsgi",
            "--chdir",
            str(EXAMPLE_DIR),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(WORKERS),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    try:
        running = Site(f"http://127.0.0.1:{port}", token, log)
        _wait_until_up(running, server)
        yield running
    finally:
        server.terminate()
        server.wait(timeout=30)
        output.close()
        connections.close_all()  # this thread's connection may have been killed too


def _wait_until_up(site: Site, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert server.poll() is None, site.log.read_text()
        if site.request("GET", "/api/configs/").status == 200:
            return
        time.sleep(0.1)
    raise AssertionError(f"gunicorn did not answer: {site.log.read_text()}")


def _kill_backends() -> int:
    """Terminate every other connection to the test database; how many there were."""
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [connection.settings_dict["NAME"]],
        )
        (killed,) = cursor.fetchone()
    return int(killed)


def _site_connections() -> int:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name = %s",
            [connection.settings_dict["NAME"], SITE],
        )
        (count,) = cursor.fetchone()
    return int(count)


def _assert_json_503(answer: Answer) -> None:
    assert answer.content_type == "application/json", answer
    assert answer.retry_after is not None, answer
    assert int(answer.retry_after) > 0, answer
    assert "database is not available" in answer.body["detail"], answer


@faults
def test_killed_connections_under_write_load_fail_only_unwritten_requests(site, capsys):
    answers: list[Answer] = []
    killed: list[int] = []
    done = threading.Event()

    @in_thread
    def killer() -> None:
        try:
            for _ in range(KILLS):
                time.sleep(KILL_EVERY)
                killed.append(_kill_backends())
        finally:
            time.sleep(KILL_EVERY)
            done.set()

    def writer(index: int) -> None:
        n = 0
        while not done.is_set():
            body = {
                "config": {"writer": index, "n": n, "tools": ["search", "ticket"]},
                "reason": f"w{index}-r{n}",
            }
            answers.append(site.request("PUT", f"/api/configs/fault-{index}/", body))
            n += 1

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    threads.append(threading.Thread(target=killer))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    connection.close()  # killed with the rest

    written = Counter(
        BotConfigVersion.objects.filter(bot_config__slug__startswith="fault-")
        .exclude(version=1)
        .values_list("reason", flat=True)
    )
    statuses = Counter(answer.status for answer in answers)
    by_status: Counter[int] = Counter()
    for answer in answers:
        by_status[answer.status] += written[answer.reason]
    with capsys.disabled():
        print(f"\n\nFault injection: {WRITERS} writers, {WORKERS} gunicorn workers, ")
        print(f"{len(killed)} kills terminating {sum(killed)} connections in all")
        print(f"{'status':>8} {'requests':>9} {'versions written':>17}")
        for status in sorted(statuses):
            print(f"{status:>8} {statuses[status]:>9} {by_status[status]:>17}")
        print(f"{'total':>8} {len(answers):>9} {sum(written.values()):>17}\n")

    assert len(killed) == KILLS
    assert sum(killed) > 0
    assert set(statuses) <= {200, 503}, (statuses, site.log.read_text()[-5000:])
    for answer in answers:
        if answer.status == 200:
            assert written[answer.reason] == 1, answer
            assert answer.body["version_created"] is True, answer
        else:
            _assert_json_503(answer)
            assert written[answer.reason] == 0, f"a 503 wrote its version: {answer}"
    # No version was written that no request was answered 200 for.
    assert sum(written.values()) == statuses[200]
    for bot in BotConfig.objects.filter(slug__startswith="fault-"):
        assert not verify_history(bot), bot.slug


@faults
def test_each_workers_first_request_after_a_restart_succeeds(site):
    """Every connection killed at once with no load (a database restart): each worker's
    next request must not fail (CONN_HEALTH_CHECKS replaces the dead connection)."""
    path = "/api/configs/fault-0/"

    def burst() -> list[int]:
        statuses: list[int] = []
        threads = [
            threading.Thread(target=lambda: statuses.append(site.request("GET", path).status))
            for _ in range(WRITERS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        return statuses

    deadline = time.monotonic() + 30
    while _site_connections() < WORKERS:  # every worker holds its connection
        assert time.monotonic() < deadline, "the workers did not all connect"
        assert burst() == [200] * WRITERS
    assert _kill_backends() >= WORKERS
    while _site_connections():  # the backends are gone once they have exited
        assert time.monotonic() < deadline + 10, "the killed backends did not exit"
        time.sleep(0.05)

    after: list[int] = []
    deadline = time.monotonic() + 30
    while _site_connections() < WORKERS:  # until every worker has served a request
        assert time.monotonic() < deadline, "not every worker served a request"
        after += burst()
    assert after
    assert set(after) == {200}, Counter(after)


def test_the_example_site_checks_its_connections_and_signs_in_debug():
    check = (
        "from django.conf import settings as s; db = s.DATABASES['default']; "
        "print(db['CONN_HEALTH_CHECKS'], db['CONN_MAX_AGE'], s.CONFIG_VERSIONS['SIGNING_KEY'])"
    )
    for url in ("", "postgres://u:p@db.internal:5432/bots", "mysql://u:p@db.internal/bots"):
        demo = _run_example(check, DATABASE_URL=url)
        assert demo[:2] == ["True", "60"], url
        assert len(demo[2]) >= 32  # the public demo key: DEBUG is on
    production = {"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "s" * 50}
    assert _run_example(check, **production) == ["True", "60", "None"]
    key = "k" * 40
    given = _run_example(check, **production, CONFIG_VERSIONS_SIGNING_KEY=key)
    assert given == ["True", "60", key]


def _run_example(code: str, **env: str) -> list[str]:
    env.setdefault("CONFIG_VERSIONS_SIGNING_KEY", "")  # an empty one counts as unset
    result = run_site("-c", f"import django; django.setup(); {code}", **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()
