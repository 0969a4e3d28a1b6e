"""The example bot client against a live server: real HTTP, real API, real database."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from typing import IO

import pytest
from bot_client import ConfigFollower, describe_change
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token

from tests.example.conftest import EXAMPLE_DIR

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("example_project.urls"),
    pytest.mark.usefixtures("example_settings"),
]

FIRST = {"name": "SupportBot", "llm": {"model": "gpt-4o", "temperature": 0.3}, "tools": ["a"]}
SECOND = {"name": "SupportBot", "llm": {"model": "gpt-4o", "temperature": 0.1}, "tools": ["a", "b"]}


@pytest.fixture
def editor():
    return get_user_model().objects.create_user("marcus")


@pytest.fixture
def token():
    robot = get_user_model().objects.create_user("bot-runtime")
    robot.user_permissions.add(Permission.objects.get(codename="view_botconfig"))
    return Token.objects.create(user=robot).key


@pytest.fixture
def support_bot(bot, editor):
    bot.get_version_manager(user=editor).create(FIRST, created_by="marcus")
    return bot


class Client:
    """bot_client.py in its own process; its output lines arrive on a queue."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(EXAMPLE_DIR / "bot_client.py"), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={k: v for k, v in os.environ.items() if k != "CONFIG_API_TOKEN"},
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        assert self.process.stdout is not None
        threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True).start()

    def _read(self, stdout: IO[str]) -> None:
        for line in stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"{text!r} not printed; got {self.seen}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def test_follows_its_config_and_prints_what_changed_and_why(live_server, support_bot, token):
    client = Client("support-bot", "--url", live_server.url, "--token", token, "--interval", "0.1")
    try:
        client.wait_for("support-bot: loaded version 1 (llm, name, tools)")

        support_bot.get_version_manager(user=None).update(
            SECOND, reason="Lower temperature, add tool b", created_by="priya"
        )

        client.wait_for("support-bot: version 1 -> 2, reloaded")
        assert client.wait_for("v2 by priya") == "  v2 by priya: Lower temperature, add tool b"
        client.wait_for("~ /llm/temperature: 0.3 -> 0.1")
        client.wait_for('+ /tools/1: "b"')
    finally:
        client.stop()


def test_unchanged_config_costs_a_304(live_server, support_bot, token):
    follower = ConfigFollower(live_server.url, "support-bot", token)

    assert follower.poll() == (0, 1)
    assert follower.config == FIRST
    etag = follower.etag
    assert etag
    assert follower.poll() is None
    assert follower.last_status == 304

    support_bot.version_manager.update(SECOND)

    assert follower.poll() == (1, 2)
    assert follower.last_status == 200
    assert follower.etag != etag
    assert [describe_change(c) for c in follower.changes(1, 2)] == [
        "  ~ /llm/temperature: 0.3 -> 0.1",
        '  + /tools/1: "b"',
    ]


def test_once_prints_the_config_and_exits(live_server, support_bot, token):
    result = subprocess.run(
        [
            sys.executable,
            str(EXAMPLE_DIR / "bot_client.py"),
            "support-bot",
            "--once",
            "--url",
            live_server.url,
        ],
        env={**os.environ, "CONFIG_API_TOKEN": token},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "support-bot: loaded version 1 (llm, name, tools)"
    assert '"temperature": 0.3' in result.stdout


@pytest.mark.parametrize(
    ("slug", "token_value", "code", "message"),
    [
        ("support-bot", "wrong", 2, "support-bot: HTTP 401: Invalid token."),
        ("no-such-bot", None, 1, "no-such-bot: HTTP 404"),
    ],
)
def test_errors_are_reported_and_end_the_client(
    live_server, support_bot, token, slug, token_value, code, message
):
    result = subprocess.run(
        [
            sys.executable,
            str(EXAMPLE_DIR / "bot_client.py"),
            slug,
            "--url",
            live_server.url,
            "--token",
            token_value or token,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == code
    assert result.stderr.startswith(message), result.stderr


def test_an_unreachable_server_is_retried_not_fatal(token):
    client = Client(
        "support-bot", "--url", "http://127.0.0.1:9", "--token", token, "--interval", "0.1"
    )
    try:
        client.wait_for("cannot reach")
        client.wait_for("cannot reach")  # still polling after the first failure
        assert client.process.poll() is None
    finally:
        client.stop()
