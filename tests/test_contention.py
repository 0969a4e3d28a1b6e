"""Writers never give up (issue 12, item 2): many threads, busy CPUs, no error at all.

``update()`` and ``rollback()`` without ``expected_version`` wait their turn on the
config's lock instead of retrying a bounded number of times, so a machine whose CPUs
are busy elsewhere (here: one process spinning per CPU) slows writers down but never
makes one fail. Every round checks the history as a whole: numbers 1..N without a gap,
each version following the one before, the head at N, every write found at its number,
and the hash chain intact.

With ``-s`` each round prints its throughput and the p50/p99 time of one write; the
figures also go to ``build/test-reports/contention-<database>.txt``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from config_versions import VersionConflictError
from config_versions.integrity import verify_history
from config_versions.models import BotConfig
from tests.threads import in_thread

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]

REPORTS = Path(__file__).resolve().parent.parent / "build" / "test-reports"
UPDATES = 25  # per writer and round
ROUNDS = 5
MIXED_ROUNDS = 2
FIRST: dict[str, Any] = {"writer": None, "n": 0}


def _writers() -> int:
    # SQLite has one writer at a time for the whole file; 8 threads already queue on it.
    return 8 if connection.vendor == "sqlite" else 16


def _vendor() -> str:
    return "mariadb" if getattr(connection, "mysql_is_mariadb", False) else connection.vendor


@pytest.fixture
def busy_cpus() -> Iterator[int]:
    """One process per CPU spinning ``while True: pass`` for as long as the test runs."""
    spinners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"])
        for _ in range(os.cpu_count() or 2)
    ]
    try:
        time.sleep(0.2)  # let them get going
        assert all(p.poll() is None for p in spinners)
        yield len(spinners)
    finally:
        for process in spinners:
            process.kill()
        for process in spinners:
            process.wait()


_report_lines: list[str] = []


def _report(line: str) -> None:
    """Print a figure (seen with -s) and keep it for the file the run leaves."""
    print(line)
    _report_lines.append(line)
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / f"contention-{_vendor()}.txt").write_text("\n".join(_report_lines) + "\n")


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _check_history(bot: BotConfig, written: dict[int, dict[str, Any]]) -> int:
    """The whole history is sound; every write is found at the number it was given.

    Returns N, the number of versions."""
    rows = list(
        bot.versions.order_by("version").values_list("version", "previous_version", "config")
    )
    numbers = [number for number, _prev, _config in rows]
    count = len(rows)
    assert numbers == list(range(1, count + 1)), "version numbers have a gap or a repeat"
    assert all(prev == (n - 1 if n > 1 else None) for n, prev, _config in rows)
    configs = {number: config for number, _prev, config in rows}
    lost = {n: c for n, c in written.items() if configs.get(n) != c}
    assert not lost, f"writes not found at the number they were given: {sorted(lost)[:10]}"
    bot.refresh_from_db()
    assert bot.current_version == count
    found: Any = verify_history(bot)  # None, or (once it lists every break) a list
    assert found is None or found == [], found
    return count


def _run_round(
    bot: BotConfig,
    writers: int,
    round_index: int,
    *,
    rollback_every: int = 0,
) -> tuple[dict[int, dict[str, Any]], list[float], list[str], float, int]:
    """``writers`` threads, each making UPDATES writes without expected_version.

    With ``rollback_every`` (k), every k-th writer rolls back to version 1 on every
    other write instead of updating. Returns {version: config} of the writes that made
    a version, the seconds each write took, the errors, the wall time and the number of
    rollbacks that wrote nothing (the config already was version 1's)."""
    start = threading.Barrier(writers)
    lock = threading.Lock()
    written: dict[int, dict[str, Any]] = {}
    latencies: list[float] = []
    errors: list[str] = []
    unchanged = 0

    @in_thread
    def writer(index: int) -> None:
        nonlocal unchanged
        manager = BotConfig.objects.get(pk=bot.pk).version_manager
        rolls = rollback_every and index % rollback_every == rollback_every - 1
        mine: list[float] = []
        start.wait()
        for n in range(UPDATES):
            config: dict[str, Any] = {"writer": index, "n": n, "round": round_index}
            began = time.perf_counter()
            try:
                if rolls and n % 2:
                    result = manager.rollback(to_version=1, created_by=f"w{index}")
                    config = FIRST
                else:
                    result = manager.update(config, created_by=f"w{index}")
            except Exception as exc:  # every error counts, whatever its kind
                with lock:
                    errors.append(f"w{index} #{n}: {type(exc).__name__}: {exc}")
                continue
            mine.append(time.perf_counter() - began)
            with lock:
                if result.unchanged:
                    assert config == FIRST, "an update of a new config wrote nothing"
                    unchanged += 1
                else:
                    assert result.version not in written, f"version {result.version} twice"
                    assert result.config == config
                    written[result.version] = config
        with lock:
            latencies.extend(mine)

    began = time.perf_counter()
    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(writer, range(writers)))
    return written, latencies, errors, time.perf_counter() - began, unchanged


def _contended_rounds(bot: BotConfig, rounds: int, label: str, *, rollback_every: int = 0) -> None:
    writers = _writers()
    bot.version_manager.create(FIRST)
    written: dict[int, dict[str, Any]] = {1: FIRST}
    for r in range(rounds):
        got, latencies, errors, seconds, unchanged = _run_round(
            bot, writers, r, rollback_every=rollback_every
        )
        assert not errors, f"round {r + 1}: {len(errors)} errors, first: {errors[:3]}"
        written.update(got)
        count = _check_history(bot, written)
        assert count == len(written)
        assert len(got) + unchanged == writers * UPDATES
        _report(
            f"{_vendor()} {label} round {r + 1}/{rounds}: {writers} threads x {UPDATES}, "
            f"{len(got)} versions ({unchanged} no-op rollbacks) in {seconds:.2f} s = "
            f"{len(got) / seconds:.0f} writes/s; per write p50 "
            f"{statistics.median(latencies) * 1000:.1f} ms, p99 "
            f"{_percentile(latencies, 0.99) * 1000:.1f} ms, max {max(latencies) * 1000:.0f} ms; "
            "0 errors"
        )


def test_writers_without_expected_version_never_fail_on_busy_cpus(bot, busy_cpus):
    _contended_rounds(bot, ROUNDS, f"updates, {busy_cpus} CPUs busy")


def test_updates_and_rollbacks_mixed_never_fail_on_busy_cpus(bot, busy_cpus):
    """A quarter of the writers roll back to version 1 on every other write."""
    _contended_rounds(
        bot, MIXED_ROUNDS, f"updates + rollbacks, {busy_cpus} CPUs busy", rollback_every=4
    )
    # Filtered here: PostgreSQL's json type (what the history is kept in) has no "=".
    rollbacks = [v for v in bot.versions.all() if (v.metadata or {}).get("rollback_to") == 1]
    assert rollbacks
    for version in rollbacks:
        assert version.config == FIRST
        assert version.metadata == {"rollback_from": version.version - 1, "rollback_to": 1}


def test_stale_expected_version_exactly_one_winner_per_round_on_busy_cpus(bot, busy_cpus):
    """Pinned writes still conflict: of the writers that read the same head, one wins."""
    writers = _writers()
    bot.version_manager.create({"round": 0})
    barrier = threading.Barrier(writers)
    outcomes: list[list[str]] = [[] for _ in range(ROUNDS)]
    lock = threading.Lock()

    @in_thread
    def writer(index: int) -> None:
        manager = BotConfig.objects.get(pk=bot.pk).version_manager
        for r in range(ROUNDS):
            barrier.wait()
            expected = r + 1  # every writer read the same head before the round
            try:
                manager.update({"round": r + 1, "by": index}, expected_version=expected)
                result = "won"
            except VersionConflictError as exc:
                assert exc.expected_version == expected
                assert exc.actual_version == expected + 1
                result = "conflict"
            except Exception as exc:
                result = f"{type(exc).__name__}: {exc}"
            with lock:
                outcomes[r].append(result)
            barrier.wait()

    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(writer, range(writers)))

    for results in outcomes:
        assert sorted(results) == ["conflict"] * (writers - 1) + ["won"], results
    assert _check_history(bot, {}) == ROUNDS + 1
