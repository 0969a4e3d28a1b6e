"""Label moves under contention (issue 13): real threads, busy CPUs, every database.

A move is numbered and chained under the config's lock (``DatabaseStore.serialized``),
the same lock version writes take. So of several promotions of one label pinned to
the same ``expected_version`` exactly one wins and the others get VersionConflictError;
and moves of many labels made while versions are written never leave a gap, a repeat, a
move that does not start where its label was, or a broken chain. Each test checks the
whole record afterwards with ``check_history``.
"""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection

from config_versions.core.errors import VersionConflictError
from config_versions.core.labels import LabelMove
from config_versions.integrity import check_history
from config_versions.models import BotConfig, BotConfigLabelMove
from tests.test_contention import busy_cpus  # noqa: F401 - a fixture
from tests.threads import in_thread

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]

LABELS = {"staging": {}, "production": {"protected": True}, "canary": {}, "beta": {}}
ROUNDS = 4


@pytest.fixture(autouse=True)
def _labels(settings):
    settings.CONFIG_VERSIONS = {"LABELS": LABELS}


def _threads() -> int:
    # SQLite has one writer at a time for the whole file; 8 threads already queue on it.
    return 8 if connection.vendor == "sqlite" else 12


def _sound(bot: BotConfig, written: dict[int, LabelMove]) -> int:
    """The record as a whole: moves numbered 1..N, each move returned found at its number
    with its chain hash, every chain and every label's continuity intact. Returns N."""
    rows = list(
        BotConfigLabelMove.objects.filter(bot_config=bot)
        .order_by("sequence")
        .values_list("sequence", "label", "from_version", "to_version", "chain_hash")
    )
    assert [row[0] for row in rows] == list(range(1, len(rows) + 1)), "a gap or a repeat"
    by_number = {row[0]: row for row in rows}
    for sequence, move in written.items():
        assert by_number[sequence][1:] == (
            move.label,
            move.from_version,
            move.to_version,
            move.chain_hash,
        )
    bot.refresh_from_db()
    report = check_history(bot)
    assert report.ok, [str(b) for b in report.all_breaks]
    assert report.moves == len(rows)
    return len(rows)


def _history(versions: int) -> BotConfig:
    bot = BotConfig.objects.create(name="Released", slug="released")
    manager = bot.version_manager
    for n in range(1, versions + 1):
        manager.save({"n": n})
    return bot


@pytest.mark.usefixtures("busy_cpus")
@pytest.mark.parametrize("threads", [2, 8])
def test_promotions_pinned_to_the_same_version_have_exactly_one_winner(threads):
    bot = _history(5)
    bot.version_manager.set_label("production", 1)
    barrier = threading.Barrier(threads)
    lock = threading.Lock()
    outcomes: list[list[str]] = [[] for _ in range(ROUNDS)]
    winners: dict[int, LabelMove] = {}

    @in_thread
    def promoter(index: int) -> None:
        manager = BotConfig.objects.get(pk=bot.pk).version_manager
        for r in range(ROUNDS):
            expected = 1 + r % 5  # where every promoter saw production before the round
            # Half go on to the next version, half to another one: never where it is.
            target = 1 + (r + 1) % 5 if index % 2 else 1 + (r + 3) % 5
            barrier.wait()
            try:
                move = manager.set_label("production", target, expected_version=expected)
                result = f"won {move.to_version}"
                with lock:
                    winners[move.sequence] = move
            except VersionConflictError as exc:
                assert exc.expected_version == expected
                assert exc.actual_version != expected
                result = "conflict"
            except Exception as exc:
                result = f"{type(exc).__name__}: {exc}"
            with lock:
                outcomes[r].append(result)
            barrier.wait()
            if index == 0:  # the next round starts from the next version
                manager.set_label("production", 1 + (r + 1) % 5)
            barrier.wait()

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(promoter, range(threads)))

    for r, results in enumerate(outcomes):
        won = [result for result in results if result.startswith("won")]
        assert len(won) == 1, (r, results)
        assert results.count("conflict") == threads - 1, (r, results)
    # One move per round won; the resets between rounds wrote the rest (or nothing).
    count = _sound(bot, winners)
    assert len(winners) == ROUNDS
    assert count <= 1 + 2 * ROUNDS


@pytest.mark.usefixtures("busy_cpus")
def test_a_label_not_set_yet_is_set_once():
    threads = _threads()
    bot = _history(3)
    barrier = threading.Barrier(threads)
    lock = threading.Lock()
    results: list[str] = []

    @in_thread
    def setter(index: int) -> None:
        manager = BotConfig.objects.get(pk=bot.pk).version_manager
        barrier.wait()
        try:
            manager.set_label("canary", 1 + index % 3, expected_version=0)
            result = "won"
        except VersionConflictError as exc:
            assert exc.expected_version == 0
            assert exc.actual_version in (1, 2, 3)
            result = "conflict"
        except Exception as exc:
            result = f"{type(exc).__name__}: {exc}"
        with lock:
            results.append(result)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(setter, range(threads)))

    assert sorted(results) == ["conflict"] * (threads - 1) + ["won"], results
    assert BotConfigLabelMove.objects.filter(bot_config=bot).count() == 1
    assert _sound(bot, {}) == 1


@pytest.mark.usefixtures("busy_cpus")
def test_moves_of_many_labels_and_version_writes_interleaved_keep_the_record():
    """Half the threads move labels (several threads per label, without expected_version:
    the last one wins, each recording where the label was), half write versions."""
    threads = _threads()
    operations = 30
    bot = _history(2)
    names = sorted(LABELS)
    barrier = threading.Barrier(threads)
    lock = threading.Lock()
    moves: dict[int, LabelMove] = {}
    versions: set[int] = set()
    errors: list[str] = []
    unchanged = 0

    @in_thread
    def worker(index: int) -> None:
        nonlocal unchanged
        manager = BotConfig.objects.get(pk=bot.pk).version_manager
        pick = random.Random(index)
        barrier.wait()
        for n in range(operations):
            try:
                if index % 2:
                    written = manager.update({"by": index, "n": n})
                    with lock:
                        assert written.version not in versions
                        versions.add(written.version)
                    continue
                name = names[(index // 2 + n) % len(names)]
                move = manager.set_label(name, pick.randint(1, manager.current_version))
            except Exception as exc:  # every error counts, whatever its kind
                with lock:
                    errors.append(f"t{index} #{n}: {type(exc).__name__}: {exc}")
                continue
            with lock:
                if move.unchanged:
                    unchanged += 1
                else:
                    assert move.sequence not in moves, f"move {move.sequence} twice"
                    moves[move.sequence] = move

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(worker, range(threads)))

    assert not errors, errors[:5]
    movers = (threads + 1) // 2
    assert len(moves) + unchanged == movers * operations
    assert _sound(bot, moves) == len(moves)
    assert bot.current_version == 2 + len(versions) == 2 + (threads // 2) * operations
    # Where each label points is its last move's target.
    last: dict[str, Any] = {}
    for sequence in sorted(moves):
        last[moves[sequence].label] = moves[sequence].to_version
    assert bot.version_manager.labels == last
