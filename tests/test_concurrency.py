"""Real threads, real connections: no lost writes, no duplicate or missing numbers."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from config_versions import VersionConflictError
from config_versions.models import BotConfig
from tests.threads import in_thread

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]

WRITERS = 8
UPDATES = 25


def test_writers_without_expected_version_all_succeed(bot):
    bot.version_manager.create({"writer": None, "n": 0})
    start = threading.Barrier(WRITERS)

    @in_thread
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

    @in_thread
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

    @in_thread
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


def test_writers_of_the_same_config_write_it_once(bot):
    """Concurrent saves of one config: one version, every other save a no-op, no error.

    The no-op check and the append are one atomic step, so no two writers can both
    decide "changed" for the same head, and none can call a real change a no-op.
    """
    bot.version_manager.create({"n": 0})
    rounds = 6
    start = threading.Barrier(WRITERS)

    @in_thread
    def writer(index):
        manager = BotConfig.objects.get(pk=bot.pk).version_manager
        outcomes = []
        for n in range(1, rounds + 1):
            start.wait()
            result = manager.update({"n": n}, created_by=f"w{index}")
            outcomes.append((n, result.unchanged, result.config))
        return outcomes

    with ThreadPoolExecutor(WRITERS) as pool:
        results = [o for outcomes in pool.map(writer, range(WRITERS)) for o in outcomes]

    # Each round's config was written once; every writer got that config back.
    assert all(config == {"n": n} for n, _unchanged, config in results)
    for n in range(1, rounds + 1):
        written = [o for o in results if o[0] == n and not o[1]]
        assert len(written) == 1, (n, written)
    configs = [v.config for v in reversed(bot.version_manager.get_history())]
    assert configs == [{"n": n} for n in range(rounds + 1)]


def test_rollbacks_racing_to_one_target_write_it_once(bot):
    manager = bot.version_manager
    manager.create({"n": 0})
    manager.update({"n": 1})
    start = threading.Barrier(WRITERS)

    @in_thread
    def writer(index):
        mine = BotConfig.objects.get(pk=bot.pk).version_manager
        start.wait()
        return mine.rollback(1).unchanged

    with ThreadPoolExecutor(WRITERS) as pool:
        unchanged = list(pool.map(writer, range(WRITERS)))
    assert unchanged.count(False) == 1
    assert bot.versions.count() == 3
    assert bot.version_manager.current_config == {"n": 0}
