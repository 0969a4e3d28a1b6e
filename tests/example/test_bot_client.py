"""The example bot client against a live server: real HTTP, real API, real database.

It follows ``production`` (the example site declares it) unless told another label.
"""

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
THIRD = {"name": "SupportBot", "llm": {"model": "gpt-4.1", "temperature": 0.1}, "tools": ["a", "b"]}


@pytest.fixture(autouse=True)
def direct_moves(example_settings):
    """These tests move production directly, as a site without review does; a release
    through review (the example site's own way) has its test below."""
    example_settings.CONFIG_VERSIONS = {**example_settings.CONFIG_VERSIONS, "REVIEW": {}}


@pytest.fixture
def editor():
    return get_user_model().objects.create_user("marcus")


@pytest.fixture
def token():
    robot = get_user_model().objects.create_user("bot-runtime")
    robot.user_permissions.add(Permission.objects.get(codename="view_botconfig"))
    return Token.objects.create(user=robot).key


@pytest.fixture
def lead():
    return get_user_model().objects.create_user("priya")


@pytest.fixture
def support_bot(bot, editor):
    """support-bot at version 1, released: production points at it."""
    manager = bot.get_version_manager(user=editor)
    manager.create(FIRST, created_by="marcus")
    manager.set_label("production", 1, reason="Launch", created_by="priya")
    return bot


def promote(bot, version: int, reason: str) -> None:
    bot.get_version_manager(user=None).set_label(
        "production", version, reason=reason, created_by="priya"
    )


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

    def drain(self) -> list[str]:
        """The lines printed so far and not yet read."""
        while True:
            try:
                self.seen.append(self.lines.get_nowait())
            except queue.Empty:
                return self.seen

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def test_follows_production_and_prints_each_release_and_why(live_server, support_bot, token):
    client = Client("support-bot", "--url", live_server.url, "--token", token, "--interval", "0.1")
    try:
        client.wait_for("support-bot@production: loaded version 1 (llm, name, tools)")
        manager = support_bot.get_version_manager(user=None)
        manager.update(SECOND, reason="Lower temperature, add tool b", created_by="marcus")
        manager.update(THIRD, reason="Bigger model", created_by="sofia")
        time.sleep(0.5)  # a few polls: new versions alone are not a release
        assert not [line for line in client.drain() if "reloaded" in line], client.seen

        promote(support_bot, 3, "Passed a day on staging")

        client.wait_for("support-bot@production: version 1 -> 3, reloaded")
        assert client.wait_for("production moved by") == (
            "  production moved by priya: Passed a day on staging"
        )
        assert client.wait_for("v2 by") == "  v2 by marcus: Lower temperature, add tool b"
        assert client.wait_for("v3 by") == "  v3 by sofia: Bigger model"
        client.wait_for('~ /llm/model: "gpt-4o" -> "gpt-4.1"')
        client.wait_for("~ /llm/temperature: 0.3 -> 0.1")
        client.wait_for('+ /tools/1: "b"')

        promote(support_bot, 1, "Answers got long: back to version 1")

        client.wait_for("support-bot@production: version 3 -> 1 back, reloaded")
        client.wait_for("  production moved by priya: Answers got long: back to version 1")
        client.wait_for('~ /llm/model: "gpt-4.1" -> "gpt-4o"')
        client.wait_for("~ /llm/temperature: 0.1 -> 0.3")
        back = client.seen[
            client.seen.index("support-bot@production: version 3 -> 1 back, reloaded") :
        ]
        assert not [line for line in back if line.startswith("  v")]  # a move back brings none
    finally:
        client.stop()


def test_label_latest_follows_every_new_version(live_server, support_bot, token):
    client = Client(
        "support-bot", "--label", "latest", "--url", live_server.url, "--token", token,
        "--interval", "0.1",
    )  # fmt: skip
    try:
        client.wait_for("support-bot@latest: loaded version 1 (llm, name, tools)")

        support_bot.get_version_manager(user=None).update(
            SECOND, reason="Lower temperature, add tool b", created_by="priya"
        )

        client.wait_for("support-bot@latest: version 1 -> 2, reloaded")
        assert client.wait_for("v2 by priya") == "  v2 by priya: Lower temperature, add tool b"
        client.wait_for("~ /llm/temperature: 0.3 -> 0.1")
        client.wait_for('+ /tools/1: "b"')
    finally:
        client.stop()


def test_unchanged_release_costs_a_304(live_server, support_bot, token):
    follower = ConfigFollower(live_server.url, "support-bot", token)

    assert follower.poll() == (0, 1)
    assert follower.config == FIRST
    etag = follower.etag
    assert etag
    assert follower.poll() is None
    assert follower.last_status == 304

    support_bot.version_manager.update(SECOND)

    # A new version is not a release: the bot keeps version 1, and its polls stay 304.
    assert follower.poll() is None
    assert follower.last_status == 304
    assert follower.version == 1
    assert follower.config == FIRST
    assert follower.poll() is None
    assert follower.last_status == 304

    promote(support_bot, 2, "Release")

    assert follower.poll() == (1, 2)
    assert follower.last_status == 200
    assert follower.etag != etag
    assert follower.config == SECOND
    assert [describe_change(c) for c in follower.changes(1, 2)] == [
        "  ~ /llm/temperature: 0.3 -> 0.1",
        '  + /tools/1: "b"',
    ]


def test_a_release_through_review_is_followed_when_applied(
    live_server, support_bot, token, settings
):
    settings.CONFIG_VERSIONS = {**settings.CONFIG_VERSIONS, "REVIEW": {"labels": ["production"]}}
    follower = ConfigFollower(live_server.url, "support-bot", token)
    manager = support_bot.get_version_manager(user=None)
    assert follower.poll() == (0, 1)

    proposed = manager.propose(
        SECOND, 1, reason="Calmer, and tool b", created_by="marcus", label="production"
    )
    manager.review_proposal(proposed.id, "approve", reviewer="amara")

    # Proposed and approved is not released: the bot keeps version 1.
    assert follower.poll() is None
    assert follower.last_status == 304

    manager.apply_proposal(proposed.id, applied_by="priya")

    assert follower.poll() == (1, 2)
    assert follower.config == SECOND
    move = follower.last_move()
    assert move is not None
    assert (move["updated_by"], move["reason"]) == ("priya", "Proposal 1: Calmer, and tool b")


def test_unchanged_config_costs_a_304(live_server, support_bot, token):
    follower = ConfigFollower(live_server.url, "support-bot", token, label="latest")

    assert follower.poll() == (0, 1)
    etag = follower.etag
    assert follower.poll() is None
    assert follower.last_status == 304

    support_bot.version_manager.update(SECOND)

    assert follower.poll() == (1, 2)
    assert follower.etag != etag


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
    lines = result.stdout.splitlines()
    assert lines[0] == "support-bot@production: loaded version 1 (llm, name, tools)"
    assert '"temperature": 0.3' in result.stdout


@pytest.mark.parametrize(
    ("slug", "token_value", "label", "code", "message"),
    [
        ("support-bot", "wrong", "production", 2, "support-bot@production: HTTP 401: Invalid"),
        ("no-such-bot", None, "production", 1, "no-such-bot@production: HTTP 404"),
        ("support-bot", None, "staging", 1, "support-bot@staging: HTTP 404: The label 'staging'"),
        ("support-bot", None, "canary", 1, "support-bot@canary: HTTP 400"),
    ],
)
def test_errors_are_reported_and_end_the_client(
    live_server, support_bot, token, slug, token_value, label, code, message
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
            "--label",
            label,
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
