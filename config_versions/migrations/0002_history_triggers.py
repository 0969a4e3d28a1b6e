"""Database triggers that guard version history, per vendor.

- ``config_versions_immutable``: refuses any UPDATE of a version row, so not even raw
  SQL can rewrite history. The one change let through is the user foreign key going
  to NULL, which is what deleting a user account does (on_delete=SET_NULL).
- ``config_versions_head``: after each INSERT, moves BotConfig.current_version and
  updated_at forward inside the same statement, so an append is one round trip.

SQLite drops triggers when Django rebuilds a table: a later migration that alters
BotConfigVersion on SQLite must re-run ``install``.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

TABLE = "config_versions_botconfigversion"
PARENT = "config_versions_botconfig"
# Every column but created_by_user_id, which may only go from a user to NULL.
FROZEN = (
    "id",
    "bot_config_id",
    "version",
    "config",
    "timestamp",
    "created_at",
    "reason",
    "previous_version",
    "created_by",
    "metadata",
    "content_hash",
    "chain_hash",
)
MESSAGE = "config_versions: version rows are immutable"
BUMP = (
    f"UPDATE {PARENT} SET current_version = NEW.version, updated_at = NEW.created_at "
    "WHERE id = NEW.bot_config_id AND current_version < NEW.version"
)


def _postgresql() -> tuple[list[str], list[str]]:
    new = ", ".join(f"NEW.{c}" for c in FROZEN)
    old = ", ".join(f"OLD.{c}" for c in FROZEN)
    install = [
        f"""
        CREATE OR REPLACE FUNCTION config_versions_refuse_update() RETURNS trigger AS $$
        BEGIN
            IF ROW({new}) IS DISTINCT FROM ROW({old})
               OR (NEW.created_by_user_id IS NOT NULL
                   AND NEW.created_by_user_id IS DISTINCT FROM OLD.created_by_user_id) THEN
                RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation';
            END IF;
            RETURN NEW;
        END
        $$ LANGUAGE plpgsql
        """,
        f"""
        CREATE TRIGGER config_versions_immutable BEFORE UPDATE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION config_versions_refuse_update()
        """,
        f"""
        CREATE OR REPLACE FUNCTION config_versions_bump_head() RETURNS trigger AS $$
        BEGIN
            {BUMP};
            RETURN NULL;
        END
        $$ LANGUAGE plpgsql
        """,
        f"""
        CREATE TRIGGER config_versions_head AFTER INSERT ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION config_versions_bump_head()
        """,
    ]
    remove = [
        f"DROP TRIGGER IF EXISTS config_versions_immutable ON {TABLE}",
        f"DROP TRIGGER IF EXISTS config_versions_head ON {TABLE}",
        "DROP FUNCTION IF EXISTS config_versions_refuse_update()",
        "DROP FUNCTION IF EXISTS config_versions_bump_head()",
    ]
    return install, remove


def _sqlite() -> tuple[list[str], list[str]]:
    same = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in FROZEN)
    install = [
        f"""
        CREATE TRIGGER config_versions_immutable BEFORE UPDATE ON {TABLE}
        WHEN NOT ({same} AND (NEW.created_by_user_id IS NULL
                              OR NEW.created_by_user_id IS OLD.created_by_user_id))
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
        """,
        f"CREATE TRIGGER config_versions_head AFTER INSERT ON {TABLE} BEGIN {BUMP}; END",
    ]
    remove = [
        "DROP TRIGGER IF EXISTS config_versions_immutable",
        "DROP TRIGGER IF EXISTS config_versions_head",
    ]
    return install, remove


def _mysql() -> tuple[list[str], list[str]]:
    same = " AND ".join(f"NEW.{c} <=> OLD.{c}" for c in FROZEN)
    install = [
        f"""
        CREATE TRIGGER config_versions_immutable BEFORE UPDATE ON {TABLE} FOR EACH ROW
        BEGIN
            IF NOT ({same} AND (NEW.created_by_user_id IS NULL
                                OR NEW.created_by_user_id <=> OLD.created_by_user_id)) THEN
                SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{MESSAGE}';
            END IF;
        END
        """,
        f"CREATE TRIGGER config_versions_head AFTER INSERT ON {TABLE} FOR EACH ROW {BUMP}",
    ]
    remove = [
        "DROP TRIGGER IF EXISTS config_versions_immutable",
        "DROP TRIGGER IF EXISTS config_versions_head",
    ]
    return install, remove


VENDORS = {"postgresql": _postgresql, "sqlite": _sqlite, "mysql": _mysql}


def install(apps: Any, schema_editor: Any) -> None:
    make = VENDORS.get(schema_editor.connection.vendor)
    if make is None:
        raise RuntimeError(
            f"config_versions has no history triggers for {schema_editor.connection.vendor}; "
            "supported: PostgreSQL, SQLite, MySQL/MariaDB."
        )
    for statement in make()[0]:
        schema_editor.execute(statement, params=None)


def remove(apps: Any, schema_editor: Any) -> None:
    make = VENDORS.get(schema_editor.connection.vendor)
    if make is not None:
        for statement in make()[1]:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("config_versions", "0001_initial")]

    # Not atomic: MySQL cannot roll back DDL, so Django refuses it inside a transaction.
    operations = [migrations.RunPython(install, remove, atomic=False, elidable=False)]
