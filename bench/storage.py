"""W5's measuring tape: bytes a history takes on disk, and dead rows left as written.

PostgreSQL: ``pg_total_relation_size`` (heap, TOAST and every index) and ``pgstattuple``
for dead tuples, then again after ``VACUUM FULL``. SQLite: the ``dbstat`` virtual table
(pages of each table and its indexes), then again after ``VACUUM``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection

from bench.contenders import Contender

# Children before parents, so that SQLite's DELETEs meet no foreign key.
ALL_TABLES = (
    "config_versions_botconfigversion",
    "config_versions_botconfig",
    "reversion_version",
    "reversion_revision",
    "benchapp_historicalhistorybot",
    "benchapp_historybot",
    "benchapp_reversionbot",
    "benchapp_floorversion",
    "benchapp_floorbot",
)


def wipe(contenders: Sequence[Contender]) -> None:
    """Empty every contender's tables and give the space back, so W5 starts from zero."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(ALL_TABLES)} CASCADE")
        else:
            for table in ALL_TABLES:
                cursor.execute(f"DELETE FROM {table}")
            cursor.execute("VACUUM")


def _pg_relations(cursor: Any, table: str) -> list[str]:
    cursor.execute(
        "SELECT reltoastrelid::regclass::text FROM pg_class WHERE oid = %s::regclass "
        "AND reltoastrelid <> 0",
        [table],
    )
    return [table, *(row[0] for row in cursor.fetchall())]


def _pg_measure(tables: list[str]) -> tuple[int, int]:
    total = dead = 0
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute("SELECT pg_total_relation_size(%s::regclass)", [table])
            total += cursor.fetchone()[0]
            for relation in _pg_relations(cursor, table):
                cursor.execute("SELECT dead_tuple_count FROM pgstattuple(%s)", [relation])
                dead += cursor.fetchone()[0]
    return total, dead


def _sqlite_measure(tables: list[str]) -> int:
    with connection.cursor() as cursor:
        total = 0
        for table in tables:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE tbl_name = %s AND type IN ('table', 'index')",
                [table],
            )
            for (name,) in cursor.fetchall():
                cursor.execute(
                    "SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name = %s", [name]
                )
                total += cursor.fetchone()[0]
    return int(total)


def storage_report(contenders: Sequence[Contender], versions: int) -> dict[str, Any]:
    postgres = connection.vendor == "postgresql"
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pgstattuple")
    written: dict[str, tuple[int, int | None]] = {}
    for contender in contenders:
        tables = contender.history_tables()
        written[contender.key] = (
            _pg_measure(tables) if postgres else (_sqlite_measure(tables), None)
        )
    with connection.cursor() as cursor:
        if postgres:
            for contender in contenders:
                for table in contender.history_tables():
                    cursor.execute(f"VACUUM FULL {table}")
        else:
            cursor.execute("VACUUM")
    report: dict[str, Any] = {
        "unit": "bytes per version",
        "note": (
            "history tables with TOAST and indexes; as written, then after VACUUM FULL"
            if postgres
            else "history tables and their indexes (dbstat pages); as written, then after VACUUM"
        ),
        "contenders": {},
    }
    for contender in contenders:
        tables = contender.history_tables()
        after = _pg_measure(tables)[0] if postgres else _sqlite_measure(tables)
        as_written, dead = written[contender.key]
        report["contenders"][contender.key] = {
            "median": after / versions,
            "as_written": as_written / versions,
            "dead_rows": dead,
            "tables": tables,
            "queries": None,
        }
    return report
