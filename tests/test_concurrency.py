"""Real threads, real connections: no lost writes, no duplicate or missing numbers."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from config_versions import VersionConflictError
from config_versions.models import BotConfig

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]

WRITERS = 8
UPDATES = 25


def _in_thread(func):
    def run(*args):
        try:
            return func(*args)
        finally:
            connections.close_all()

    return run


def test_writers_without_expected_version_all_succeed(bot):
    bot.version_manager.create({"writer": None, "n": 0})
    start = threading.Barrier(WRITERS)

    @_in_thread
    def writer(index):
        manager = BotConfig.objects.get(pk=bot.pk).version_manager
        start.wait()
        return [
            manager.update({"writer": index, "n": n}, created_by=f"w{index}").version
            for n in range(UPDATES)
        ]

    with ThreadPoolExecutor(WRITERS) as pool:
        results = list(pool.map(writer, range(WRITERS)))

    written = sorted(v for versions in results for v in versions)
    assert written == list(range(2, WRITERS * UPDATES + 2))
    numbers = list(bot.versions.order_by("version").values_list("version", flat=True))
    assert numbers == list(range(1, WRITERS * UPDATES + 2))
    bot.refresh_from_db()
    assert bot.current_version == WRITERS * UPDATES + 1
    # previous_version always names the version right before
    pairs = bot.versions.values_list("version", "previous_version")
    assert all(prev == (number - 1 if number > 1 else None) for number, prev in pairs)


def test_stale_expected_version_exactly_one_winner_per_round(bot):
    bot.version_manager.create({"round": 0})
    rounds = 5
    barrier = threading.Barrier(WRITERS)
    outcomes: list[list[str]] = [[] for _ in range(rounds)]
    lock = threading.Lock()

    @_in_thread
    def writer(index):
        manager = BotConfig.objects.get(pk=bot.pk).version_manager
        for r in range(rounds):
            barrier.wait()
            expected = r + 1  # every writer read the same head before the round
            try:
                manager.update({"round": r + 1, "by": index}, expected_version=expected)
                result = "won"
            except VersionConflictError as exc:
                assert exc.expected_version == expected
                assert exc.actual_version == expected + 1
                result = "conflict"
            with lock:
                outcomes[r].append(result)
            barrier.wait()

    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(writer, range(WRITERS)))

    for results in outcomes:
        assert sorted(results) == ["conflict"] * (WRITERS - 1) + ["won"]
    assert list(bot.versions.order_by("version").values_list("version", flat=True)) == list(
        range(1, rounds + 2)
    )


def test_concurrent_creates_one_wins(bot):
    barrier = threading.Barrier(4)

    @_in_thread
    def creator(index):
        manager = BotConfig.objects.get(pk=bot.pk).version_manager
        barrier.wait()
        try:
            manager.create({"by": index})
            return "created"
        except ValueError as exc:
            assert "already exists" in str(exc)
            return "refused"

    with ThreadPoolExecutor(4) as pool:
        assert sorted(pool.map(creator, range(4))) == ["created"] + ["refused"] * 3
    assert bot.versions.count() == 1
    assert connection.vendor in {"sqlite", "postgresql", "mysql"}
