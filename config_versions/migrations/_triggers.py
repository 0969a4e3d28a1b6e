"""Triggers that keep a history table's rows immutable, for the migrations that add one.

Not a migration (the loader skips modules starting with ``_``). Each table gets two
triggers: one refusing any UPDATE except ``<user column>`` going to NULL (the account
deleted), one refusing any DELETE unless a tombstone names the config
(``purge_config_history``), on PostgreSQL, SQLite and MySQL/MariaDB. Migration 0007 wrote
the same statements out for label moves; later tables use this.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

TOMBSTONES = "config_versions_purgedconfig"
PERMITTED = f"EXISTS (SELECT 1 FROM {TOMBSTONES} t WHERE t.config_id = OLD.bot_config_id)"


@dataclass(frozen=True)
class ImmutableTable:
    table: str
    name: str  # trigger and function names: config_versions_<name>_immutable ...
    frozen: Sequence[str]  # every column but the user column
    user_column: str
    message: str
    delete_message: str

    @property
    def triggers(self) -> tuple[str, str]:
        return (
            f"config_versions_{self.name}_immutable",
            f"config_versions_{self.name}_undeletable",
        )

    def user_cleared_only(self, same: str) -> str:
        c = self.user_column
        return f"(NEW.{c} IS NULL OR NEW.{c} {same} OLD.{c})"


def _postgresql(t: ImmutableTable) -> tuple[list[str], list[str]]:
    new = ", ".join(f"NEW.{c}" for c in t.frozen)
    old = ", ".join(f"OLD.{c}" for c in t.frozen)
    update, delete = t.triggers
    c = t.user_column
    install = [
        f"""
        CREATE OR REPLACE FUNCTION {update}_fn() RETURNS trigger AS $$
        BEGIN
            IF ROW({new}) IS DISTINCT FROM ROW({old})
               OR (NEW.{c} IS NOT NULL AND NEW.{c} IS DISTINCT FROM OLD.{c}) THEN
                RAISE EXCEPTION '{t.message}' USING ERRCODE = 'restrict_violation';
            END IF;
            RETURN NEW;
        END
        $$ LANGUAGE plpgsql
        """,
        f"""
        CREATE TRIGGER {update} BEFORE UPDATE ON {t.table}
        FOR EACH ROW EXECUTE FUNCTION {update}_fn()
        """,
        f"""
        CREATE OR REPLACE FUNCTION {delete}_fn() RETURNS trigger AS $$
        BEGIN
            IF NOT {PERMITTED} THEN
                RAISE EXCEPTION '{t.delete_message}' USING ERRCODE = 'restrict_violation';
            END IF;
            RETURN OLD;
        END
        $$ LANGUAGE plpgsql
        """,
        f"""
        CREATE TRIGGER {delete} BEFORE DELETE ON {t.table}
        FOR EACH ROW EXECUTE FUNCTION {delete}_fn()
        """,
    ]
    remove = [
        f"DROP TRIGGER IF EXISTS {update} ON {t.table}",
        f"DROP TRIGGER IF EXISTS {delete} ON {t.table}",
        f"DROP FUNCTION IF EXISTS {update}_fn()",
        f"DROP FUNCTION IF EXISTS {delete}_fn()",
    ]
    return install, remove


def _sqlite(t: ImmutableTable) -> tuple[list[str], list[str]]:
    same = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in t.frozen)
    update, delete = t.triggers
    install = [
        f"""
        CREATE TRIGGER {update} BEFORE UPDATE ON {t.table}
        WHEN NOT ({same} AND {t.user_cleared_only("IS")})
        BEGIN SELECT RAISE(ABORT, '{t.message}'); END
        """,
        f"""
        CREATE TRIGGER {delete} BEFORE DELETE ON {t.table}
        WHEN NOT {PERMITTED}
        BEGIN SELECT RAISE(ABORT, '{t.delete_message}'); END
        """,
    ]
    return install, [f"DROP TRIGGER IF EXISTS {update}", f"DROP TRIGGER IF EXISTS {delete}"]


def _mysql(t: ImmutableTable) -> tuple[list[str], list[str]]:
    same = " AND ".join(f"NEW.{c} <=> OLD.{c}" for c in t.frozen)
    update, delete = t.triggers
    install = [
        f"""
        CREATE TRIGGER {update} BEFORE UPDATE ON {t.table} FOR EACH ROW
        BEGIN
            IF NOT ({same} AND {t.user_cleared_only("<=>")}) THEN
                SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{t.message}';
            END IF;
        END
        """,
        f"""
        CREATE TRIGGER {delete} BEFORE DELETE ON {t.table} FOR EACH ROW
        BEGIN
            IF NOT {PERMITTED} THEN
                SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{t.delete_message}';
            END IF;
        END
        """,
    ]
    return install, [f"DROP TRIGGER IF EXISTS {update}", f"DROP TRIGGER IF EXISTS {delete}"]


VENDORS: dict[str, Callable[[ImmutableTable], tuple[list[str], list[str]]]] = {
    "postgresql": _postgresql,
    "sqlite": _sqlite,
    "mysql": _mysql,
}


def runner(table: ImmutableTable, which: int) -> Callable[[Any, Any], None]:
    """A RunPython function: install (``which`` 0, after removing) or remove (1)."""

    def run(apps: Any, schema_editor: Any) -> None:
        vendor = schema_editor.connection.vendor
        make = VENDORS.get(vendor)
        if make is None:
            raise RuntimeError(
                f"config_versions has no history triggers for {vendor}; "
                "supported: PostgreSQL, SQLite, MySQL/MariaDB."
            )
        steps = [1, 0] if which == 0 else [1]
        for step in steps:
            for statement in make(table)[step]:
                schema_editor.execute(statement, params=None)

    return run
