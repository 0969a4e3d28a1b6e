"""Slugs compare case-sensitively on MySQL and MariaDB too, as on PostgreSQL and SQLite.

MySQL and MariaDB compare text by the column's collation, and the usual ones
(``utf8mb4_unicode_ci``, ``utf8mb4_0900_ai_ci`` ...) ignore case: there ``Bot`` found the
config ``bot``, and the unique index refused ``Bot`` beside ``bot``. This migration gives
the slug column the binary collation of its own character set (``utf8mb4_bin``), so that
lookups and the unique index compare slugs exactly, on every database.

The column keeps its type, length, NOT NULL and unique index; the model does not change
(no ``db_collation``: the name of a binary collation depends on the vendor and the
character set). Reversing restores the table's default collation. Other databases are
left alone: they already compare case-sensitively.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

TABLE = "config_versions_botconfig"
COLUMN = "slug"


def _column(schema_editor: Any) -> tuple[str, str, str, bool, str]:
    """The column's type, character set, collation, nullability and table collation."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.COLUMN_TYPE, c.CHARACTER_SET_NAME, c.COLLATION_NAME, c.IS_NULLABLE, "
            "t.TABLE_COLLATION "
            "FROM information_schema.COLUMNS c JOIN information_schema.TABLES t "
            "ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME "
            "WHERE c.TABLE_SCHEMA = DATABASE() AND c.TABLE_NAME = %s AND c.COLUMN_NAME = %s",
            [TABLE, COLUMN],
        )
        column_type, charset, collation, nullable, table_collation = cursor.fetchone()
    return column_type, charset, collation, nullable == "YES", table_collation


def _set_collation(schema_editor: Any, collation: str) -> None:
    column_type, charset, current, nullable, _ = _column(schema_editor)
    if current == collation:
        return
    qn = schema_editor.quote_name
    # Only letters, digits and "_" in a type, charset or collation name read back from
    # information_schema; MODIFY keeps the column's indexes (here the unique one).
    schema_editor.execute(
        f"ALTER TABLE {qn(TABLE)} MODIFY {qn(COLUMN)} {column_type} "
        f"CHARACTER SET {charset} COLLATE {collation} {'NULL' if nullable else 'NOT NULL'}",
        params=None,
    )


def binary_collation(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "mysql":
        return
    charset = _column(schema_editor)[1]
    _set_collation(schema_editor, f"{charset}_bin")


def table_collation(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "mysql":
        return
    _, charset, _, _, collation = _column(schema_editor)
    if not collation.startswith(f"{charset}_"):
        # The table's collation belongs to another character set: the column's default.
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT DEFAULT_COLLATE_NAME FROM information_schema.CHARACTER_SETS "
                "WHERE CHARACTER_SET_NAME = %s",
                [charset],
            )
            (collation,) = cursor.fetchone()
    _set_collation(schema_editor, collation)


class Migration(migrations.Migration):
    dependencies = [
        ("config_versions", "0003_index_versions_by_config_and_number_only"),
    ]

    operations = [
        # DDL: MySQL cannot roll it back, so Django refuses it inside a transaction.
        migrations.RunPython(binary_collation, table_collation, atomic=False, elidable=False),
    ]
