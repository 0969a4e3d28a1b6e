"""Workloads W1-W5 (and W2L, W7): the same job for every contender, timed in one run.

Each sample runs every contender once, in an order that rotates from sample to sample,
so drift of the machine (another process, a checkpoint) spreads over all of them. A
workload reports the median of its samples and, from a separate untimed pass under
``CaptureQueriesContext``, the queries one operation sends.

W2L is config_versions alone beside the floor: reading a config through a label, as
``GET configs/{slug}/?label=production`` does, against reading its current config as
the plain GET does (the peers have no labels).

W7 is config_versions alone: many threads writing one config at once, against one
thread doing the same writes (the peers have no answer to concurrent writers, and the
floor numbers nothing).
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from bench.configs import config_size, make_bot_config, mutate
from bench.contenders import Contender
from bench.storage import storage_report, wipe


@dataclass
class Plan:
    """How much work each workload does; ``quick()`` is the smoke-test size."""

    small_bytes: int = 5_000
    large_bytes: int = 200_000
    variants: int = 40  # distinct configs cycled through by the writers
    updates: int = 1_000  # W1
    update_chunk: int = 100
    update_reps: int = 1
    read_batch: int = 200  # W2: reads per sample
    label_every: int = 10  # W2L: staging moves every 10 versions, production every 20
    reps: int = 7
    long_history: int = 10_000  # W3
    short_history: int = 100
    page: int = 50
    page_batch: int = 10
    # W4 at 200 KB: reading version 1 by its unique index does not depend on the length
    # of the history; 300 versions keep the set-up (60 MB per contender) short.
    large_history: int = 300
    rollback_batch: int = 40
    large_rollback_batch: int = 10
    rollback_reps: int = 9
    storage_versions: int = 1_000  # W5
    large_storage_versions: int = 100
    query_ops: int = 10
    # W7: writer threads updating one config at once, each this many updates.
    contended_writers: int = 16
    contended_updates: int = 50
    contended_reps: int = 3

    @classmethod
    def quick(cls) -> Plan:
        return cls(
            variants=5,
            updates=30,
            update_chunk=10,
            update_reps=2,
            read_batch=5,
            label_every=5,
            reps=2,
            long_history=120,
            short_history=12,
            page=10,
            page_batch=2,
            large_history=6,
            rollback_batch=2,
            large_rollback_batch=1,
            rollback_reps=2,
            storage_versions=20,
            large_storage_versions=4,
            query_ops=3,
            contended_updates=5,
            contended_reps=1,
        )


@dataclass
class Measured:
    title: str
    unit: str
    samples: dict[str, list[float]] = field(default_factory=dict)
    queries: dict[str, float] = field(default_factory=dict)
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "unit": self.unit,
            "note": self.note,
            "contenders": {
                key: {
                    "median": statistics.median(values),
                    "samples": values,
                    "queries": self.queries.get(key),
                }
                for key, values in self.samples.items()
            },
        }


def config_at(number: int, versions: int, configs: list[dict[str, Any]]) -> dict[str, Any]:
    return configs[(versions - number) % len(configs)]


def _rotated(items: Sequence[Contender], shift: int) -> list[Contender]:
    shift %= len(items)
    return [*items[shift:], *items[:shift]]


def _per_op_ms(run: Callable[[], None], ops: int) -> float:
    gc.collect()
    start = time.perf_counter()
    run()
    return (time.perf_counter() - start) * 1000 / ops


def _queries_per_op(run: Callable[[int], Any], ops: int) -> float:
    with CaptureQueriesContext(connection) as captured:
        for index in range(ops):
            run(index)
    return len(captured.captured_queries) / ops


class Bench:
    def __init__(self, contenders: Sequence[Contender], plan: Plan, log: Callable[[str], None]):
        self.contenders = list(contenders)
        self.plan = plan
        self.log = log
        base = make_bot_config(plan.small_bytes, seed=1)
        self.small = [base] + [mutate(base, 0.01, seed=s) for s in range(1, plan.variants)]
        large = make_bot_config(plan.large_bytes, seed=2)
        self.large = [large] + [mutate(large, 0.01, seed=s) for s in range(1, plan.variants)]
        self.small_size = config_size(base)
        self.large_size = config_size(large)
        self.serial = 0
        self.results: dict[str, dict[str, Any]] = {}
        # Objects with the W1 history (1,000 updates), kept for W2 and W4.
        self.after_updates: dict[str, Any] = {}
        # W3's objects by history length, kept for W6's admin pages.
        self.histories: dict[int, dict[str, Any]] = {}

    def slug(self, stem: str) -> str:
        self.serial += 1
        return f"{stem}-{self.serial}"

    def build(self, contender: Contender, versions: int, configs: list[dict[str, Any]]) -> Any:
        """An object with ``versions`` versions, written through the contender's own path.

        Version n gets ``config_at(n, versions, configs)``: the newest is always
        ``configs[0]`` and the one before ``configs[1]``, so pages and diffs of histories
        of any length show the same configs. One transaction around the whole build:
        on SQLite a commit per version would spend minutes in fsync.
        """
        ordered = [config_at(number, versions, configs) for number in range(1, versions + 1)]
        with transaction.atomic():
            obj = contender.build(self.slug(contender.key), ordered)
        if connection.vendor == "postgresql":
            # What autovacuum does soon after a bulk load; without it the planner may
            # still believe the table is empty.
            with connection.cursor() as cursor:
                for table in contender.history_tables():
                    cursor.execute(f"ANALYZE {table}")
        return obj

    def check(
        self, contender: Contender, obj: Any, expected: dict[str, Any], versions: int
    ) -> None:
        """The bench measures real work only if every contender really did it."""
        got = contender.read_current(obj)
        assert got == expected, f"{contender.key}: the current config is not the one written"
        count = contender.count(obj)
        assert count == versions, f"{contender.key}: {count} versions, expected {versions}"

    # W1 -----------------------------------------------------------------------------

    def w1_updates(self) -> None:
        plan = self.plan
        result = Measured(
            f"W1 {plan.updates:,} successive updates, {self.small_size / 1000:.1f} KB config",
            "ms per update",
            note=(
                "each update its own transaction (autocommit), as one request makes it; "
                f"contenders take turns every {plan.update_chunk} updates"
            ),
        )
        configs = self.small
        for rep in range(plan.update_reps):
            objects = {c.key: c.create(self.slug(c.key), configs[0]) for c in self.contenders}
            for turn, start in enumerate(range(2, plan.updates + 2, plan.update_chunk)):
                numbers = range(start, min(start + plan.update_chunk, plan.updates + 2))
                for contender in _rotated(self.contenders, turn):

                    def run(
                        contender: Contender = contender,
                        obj: Any = objects[contender.key],
                        numbers: range = numbers,
                    ) -> None:
                        for number in numbers:
                            contender.update(
                                obj, configs[(number - 1) % len(configs)], f"Update {number}"
                            )

                    result.samples.setdefault(contender.key, []).append(
                        _per_op_ms(run, len(numbers))
                    )
            for contender in self.contenders:
                last = configs[plan.updates % len(configs)]
                self.check(contender, objects[contender.key], last, plan.updates + 1)
            self.after_updates = objects
            self.log(f"  W1 round {rep + 1}/{plan.update_reps}")
        for contender in self.contenders:
            obj = self.after_updates[contender.key]
            result.queries[contender.key] = _queries_per_op(
                # small[0] is the current config after W1: an update to it writes nothing.
                lambda i, c=contender, o=obj: c.update(o, self.small[1 + i % 3], "Counted update"),
                plan.query_ops,
            )
            # Leave the object at a known head for W2: one more update with small[0].
            contender.update(obj, self.small[0], "Back to the first variant")
        self.results["W1"] = result.as_dict()

    # W2 -----------------------------------------------------------------------------

    def w2_read_current(self) -> None:
        plan = self.plan
        versions = plan.updates + 2 + plan.query_ops
        result = Measured(
            f"W2 read the current config, {versions:,} versions",
            "ms per read",
        )
        for contender in self.contenders:
            obj = self.after_updates[contender.key]
            assert contender.read_current(obj) == self.small[0]
        for rep in range(plan.reps):
            for contender in _rotated(self.contenders, rep):
                obj = self.after_updates[contender.key]

                def run(contender: Contender = contender, obj: Any = obj) -> None:
                    for _ in range(plan.read_batch):
                        contender.read_current(obj)

                result.samples.setdefault(contender.key, []).append(
                    _per_op_ms(run, plan.read_batch)
                )
        for contender in self.contenders:
            obj = self.after_updates[contender.key]
            result.queries[contender.key] = _queries_per_op(
                lambda _i, c=contender, o=obj: c.read_current(o), plan.query_ops
            )
        self.results["W2"] = result.as_dict()

    # W2L ----------------------------------------------------------------------------

    def w2l_read_label(self) -> None:
        """W2's read through a label: ``queries.load_label(slug, "production")``, the
        read of ``GET configs/{slug}/?label=production``, and the config decoded as a
        200 answer needs it. Timed in the same samples: ``queries.load_current(slug)``,
        the read of the plain GET (``current``), and W2's floor. The W1 object's labels
        are moved first as a site moves them over such a history: staging every 10
        versions, production every 20 (about 150 moves), production ending 2 behind.
        """
        from config_versions import queries

        plan = self.plan
        ours = self.after_updates["config_versions"]
        floor = next(c for c in self.contenders if c.key == "floor")
        floor_obj = self.after_updates["floor"]
        bot, manager = ours.bot, ours.manager
        bot.refresh_from_db()
        head = bot.current_version
        with transaction.atomic():
            for number in range(1, head + 1, max(1, plan.label_every)):
                manager.set_label("staging", number, reason=f"Try version {number}")
                if number > plan.label_every and (number - 1) % (2 * plan.label_every) == 0:
                    manager.set_label("production", number - plan.label_every, reason="Release")
            manager.set_label("staging", head, reason="Newest on staging")
            production = manager.set_label("production", head - 2, reason="Release").to_version
        if connection.vendor == "postgresql":
            # As build() does after a bulk load: what autovacuum does soon after.
            from config_versions.models import BotConfigLabelMove

            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {BotConfigLabelMove._meta.db_table}")
        moves = len(manager.label_history())
        expected = manager.get_version(production)
        assert expected is not None
        slug = bot.slug

        def by_label() -> dict[str, Any]:
            read = queries.load_label(slug, "production")
            assert read is not None
            version = read.config_version()
            assert version is not None
            return version.config

        def current() -> dict[str, Any]:
            found = queries.load_current(slug)
            assert found is not None
            version = found[1]
            assert version is not None
            return version.config

        def floor_read() -> dict[str, Any]:
            return floor.read_current(floor_obj)

        readers: list[tuple[str, Callable[[], dict[str, Any]]]] = [
            ("config_versions", by_label),
            ("current", current),
            ("floor", floor_read),
        ]
        assert by_label() == expected.config, "W2L: the label read is not production's config"
        assert current() == self.small[0] == floor_read(), "W2L: the current read is wrong"
        result = Measured(
            f"W2L read the config production points at, {head:,} versions, {moves} label moves",
            "ms per read",
            note=(
                "config_versions: queries.load_label(slug, 'production'), the read of "
                "GET ?label=production; current: queries.load_current(slug), the read of the "
                "plain GET, in the same samples; floor: W2's"
            ),
        )
        for rep in range(plan.reps):
            for key, read in [*readers[rep % 3 :], *readers[: rep % 3]]:

                def run(read: Callable[[], dict[str, Any]] = read) -> None:
                    for _ in range(plan.read_batch):
                        read()

                result.samples.setdefault(key, []).append(_per_op_ms(run, plan.read_batch))
        for key, read in readers:
            result.queries[key] = _queries_per_op(lambda _i, read=read: read(), plan.query_ops)
        self.results["W2L"] = result.as_dict()

    # W3 -----------------------------------------------------------------------------

    def w3_newest_page(self) -> None:
        plan = self.plan
        for versions, key in ((plan.long_history, "W3"), (plan.short_history, "W3-short")):
            self.log(f"  W3 building {versions:,}-version histories")
            objects = {}
            for contender in self.contenders:
                obj = self.build(contender, versions, self.small)
                self.check(contender, obj, self.small[0], versions)
                page = contender.newest(obj, plan.page)
                assert len(page) == plan.page, f"{contender.key}: short page"
                assert page[0][4] == self.small[0], f"{contender.key}: page not newest first"
                oldest = config_at(versions - plan.page + 1, versions, self.small)
                assert page[-1][4] == oldest, f"{contender.key}: page is not the newest {plan.page}"
                objects[contender.key] = obj
            self.histories[versions] = objects
            result = Measured(
                f"W3 newest {plan.page} versions (metadata and config), {versions:,} versions",
                "ms per page",
            )
            for rep in range(plan.reps):
                for contender in _rotated(self.contenders, rep):
                    obj = objects[contender.key]

                    def run(contender: Contender = contender, obj: Any = obj) -> None:
                        for _ in range(plan.page_batch):
                            contender.newest(obj, plan.page)

                    result.samples.setdefault(contender.key, []).append(
                        _per_op_ms(run, plan.page_batch)
                    )
            for contender in self.contenders:
                result.queries[contender.key] = _queries_per_op(
                    lambda _i, c=contender, o=objects[contender.key]: c.newest(o, plan.page),
                    plan.query_ops,
                )
            self.results[key] = result.as_dict()

    # W4 -----------------------------------------------------------------------------

    def w4_rollback(self) -> None:
        plan = self.plan
        small_versions = plan.updates + 2 + plan.query_ops
        self._rollback(
            "W4",
            f"W4 roll back to versions 2 and 1 in turn, {self.small_size / 1000:.1f} KB config, "
            f"{small_versions:,} versions",
            dict(self.after_updates),
            (self.small[0], self.small[1]),
            plan.rollback_batch,
        )
        self.log(f"  W4 building {plan.large_history:,}-version histories of the large config")
        objects = {}
        for contender in self.contenders:
            objects[contender.key] = self.build(contender, plan.large_history, self.large)
        self._rollback(
            "W4-large",
            f"W4 roll back to versions 2 and 1 in turn, {self.large_size / 1000:.0f} KB "
            f"config, {plan.large_history:,} versions",
            objects,
            (
                config_at(1, plan.large_history, self.large),
                config_at(2, plan.large_history, self.large),
            ),
            plan.large_rollback_batch,
        )

    def _rollback(
        self,
        key: str,
        title: str,
        objects: dict[str, Any],
        targets: tuple[dict[str, Any], dict[str, Any]],
        batch: int,
    ) -> None:
        """Rollbacks to version 2, then 1, then 2 ...: each one restores a config other
        than the current one (a rollback to the current config writes nothing)."""
        plan = self.plan
        result = Measured(title, "ms per rollback")
        turns = {key: itertools.cycle((2, 1)) for key in objects}

        def roll(contender: Contender, obj: Any) -> None:
            contender.rollback_to(obj, next(turns[contender.key]))

        # One untimed round first: the first rollbacks of a fresh history also warm the
        # server's caches, and a sample of them measured that instead.
        for contender in self.contenders:
            roll(contender, objects[contender.key])
        for rep in range(plan.rollback_reps):
            for contender in _rotated(self.contenders, rep):
                obj = objects[contender.key]

                def run(contender: Contender = contender, obj: Any = obj) -> None:
                    for _ in range(batch):
                        roll(contender, obj)

                result.samples.setdefault(contender.key, []).append(_per_op_ms(run, batch))
        for contender in self.contenders:
            obj = objects[contender.key]
            current = contender.read_current(obj)
            assert current in targets, f"{contender.key}: rollback lost versions 1 and 2"
            result.queries[contender.key] = _queries_per_op(
                lambda _i, c=contender, o=obj: roll(c, o), plan.query_ops
            )
        self.results[key] = result.as_dict()

    # W5 -----------------------------------------------------------------------------

    def w5_storage(self) -> None:
        """Bytes per version: each history alone in its tables, as written and vacuumed.

        The histories are written like W3's (one transaction; the peers' rows in bulk):
        every row is INSERTed once either way, so the layout on disk is the same.
        """
        plan = self.plan
        for key, versions, configs, size in (
            ("W5", plan.storage_versions, self.small, self.small_size),
            ("W5-large", plan.large_storage_versions, self.large, self.large_size),
        ):
            _purge_histories()
            wipe(self.contenders)
            self.log(f"  W5 writing {versions:,} versions of {size / 1000:.0f} KB per contender")
            for contender in self.contenders:
                self.build(contender, versions, configs)
            report = storage_report(self.contenders, versions)
            report["title"] = (
                f"W5 bytes stored per version, {size / 1000:.1f} KB config "
                f"({versions:,} versions, tables and their indexes)"
            )
            report["config_bytes"] = size
            self.results[key] = report

    # W7 -----------------------------------------------------------------------------

    def w7_contended_writes(self) -> None:
        """Writers without expected_version on one config: W threads x N updates at once,
        against one thread making the same W x N updates; alternately, ``contended_reps``
        times. Every update writes a new config (no no-ops), each in its own transaction
        on its thread's own connection. Reports throughput (the medians' ratio), p50/p99
        time of one update (all runs pooled) and errors, which must be 0."""
        from config_versions.integrity import verify_history
        from config_versions.models import BotConfig

        plan = self.plan
        writers = plan.contended_writers
        per_writer = plan.contended_updates
        total = writers * per_writer
        ours = next(c for c in self.contenders if c.key == "config_versions")
        bot = BotConfig.objects.create(name="W7", slug=self.slug("w7"))
        bot.get_version_manager(user=ours.user).create(self.small[0], created_by="bench")
        written = 1
        variants = self.small
        serial = itertools.count()

        def configs(threads: int, each: int) -> list[list[dict[str, Any]]]:
            # Made before the clock starts; a unique key makes every update a real write.
            return [
                [{**variants[(t + n) % len(variants)], "w7": next(serial)} for n in range(each)]
                for t in range(threads)
            ]

        runs: dict[str, dict[str, Any]] = {}
        for rep in range(plan.contended_reps):
            order = [(1, total), (writers, per_writer)]
            for threads, each in order if rep % 2 == 0 else order[::-1]:
                seconds, latencies, errors, sent = _write_burst(
                    bot.pk, ours.user, configs(threads, each)
                )
                written += len(latencies)  # the updates that succeeded
                run = runs.setdefault(
                    f"{threads} writer{'s' if threads > 1 else ''}",
                    {"threads": threads, "per_thread": each, "rates": [], "latencies_ms": []},
                )
                run["rates"].append(len(latencies) / seconds)
                run["statements"] = run.get("statements", 0) + sent
                run["latencies_ms"] += [t * 1000 for t in latencies]
                run.setdefault("errors", []).extend(errors)
            self.log(f"  W7 round {rep + 1}/{plan.contended_reps}")
        bot.refresh_from_db()
        numbers = list(bot.versions.order_by("version").values_list("version", flat=True))
        assert numbers == list(range(1, written + 1)), "W7: the history has gaps or repeats"
        assert bot.current_version == written, "W7: current_version is not the last version"
        found: Any = verify_history(bot)
        assert found is None or found == [], f"W7: the history does not verify: {found}"
        summary: dict[str, Any] = {}
        for name, run in runs.items():
            latencies = sorted(run.pop("latencies_ms"))
            errors = run.pop("errors")
            sent = run.pop("statements")
            summary[name] = {
                **run,
                # Statements sent per update that succeeded (Django's BEGIN/COMMIT not seen).
                "queries": sent / max(1, len(latencies)),
                "writes_per_s": statistics.median(run["rates"]),
                "p50_ms": _percentile(latencies, 0.50),
                "p99_ms": _percentile(latencies, 0.99),
                "max_ms": latencies[-1] if latencies else None,
                "errors": len(errors),
                "first_errors": errors[:5],
            }
        one, many = summary["1 writer"], summary[f"{writers} writers"]
        self.results["W7"] = {
            "title": (
                f"W7 {writers} writers x {per_writer} updates of one config at once, "
                f"{self.small_size / 1000:.1f} KB config, no expected_version"
            ),
            "unit": "writes per second",
            "note": (
                f"against 1 writer making the same {total:,} updates; "
                + (
                    f"median of {plan.contended_reps} runs each, latencies of all runs pooled"
                    if plan.contended_reps > 1
                    else "one run each"
                )
            ),
            "writers": writers,
            "updates_per_writer": per_writer,
            "runs": summary,
            "ratio": many["writes_per_s"] / one["writes_per_s"],
            "errors": one["errors"] + many["errors"],
        }


def _purge_histories() -> None:
    """Remove config_versions' histories the one way its DELETE trigger (migration 0006)
    lets through, so that ``wipe`` finds its tables empty (SQLite's DELETE would be
    refused; PostgreSQL's TRUNCATE fires no row trigger, but gets the same start)."""
    from config_versions.models import BotConfig
    from config_versions.purge import purge_history

    for bot in BotConfig.objects.all():
        purge_history(bot, reason="bench: W5 starts from empty tables")


def _percentile(ordered: list[float], fraction: float) -> float | None:
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _write_burst(
    bot_pk: int, user: Any, configs: list[list[dict[str, Any]]]
) -> tuple[float, list[float], list[str], int]:
    """One thread per list in ``configs``, each updating the config with its list.

    Each thread loads the config and opens its connection before a barrier; the clock
    runs from the barrier until the last thread is done. Returns the seconds, the time
    of each update that succeeded, one line per update (or thread) that failed, and the
    number of SQL statements the updates sent.
    """
    from config_versions.models import BotConfig

    threads = len(configs)
    start = threading.Barrier(threads + 1)
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    statements = 0

    def writer(index: int) -> None:
        nonlocal statements
        mine: list[float] = []
        sent = 0

        def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            nonlocal sent
            sent += 1
            return execute(sql, params, many, context)

        try:
            try:
                manager = BotConfig.objects.get(pk=bot_pk).get_version_manager(user=user)
            except Exception:
                start.abort()  # the run is void: every thread stops, the main one too
                raise
            start.wait()
            with connection.execute_wrapper(count):  # this thread's connection
                for number, config in enumerate(configs[index]):
                    began = time.perf_counter()
                    try:
                        manager.update(config, reason=f"W7 {number}", created_by="bench")
                    except Exception as exc:  # every failure counts, whatever its kind
                        with lock:
                            errors.append(f"writer {index}: {type(exc).__name__}: {exc}")
                        continue
                    mine.append(time.perf_counter() - began)
        except Exception as exc:
            with lock:
                errors.append(f"writer {index} did not run: {type(exc).__name__}: {exc}")
        finally:
            connections.close_all()  # this thread's connections only
            with lock:
                latencies.extend(mine)
                statements += sent

    workers = [threading.Thread(target=writer, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    # A writer that could not start breaks the barrier; it said why in ``errors``.
    with contextlib.suppress(threading.BrokenBarrierError):
        start.wait(timeout=60)
    began = time.perf_counter()
    for worker in workers:
        worker.join()
    return time.perf_counter() - began, latencies, errors, statements
