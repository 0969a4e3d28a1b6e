"""Drop the index on bot_config alone: the unique (bot_config, version) index covers it.

Every read of a history filters by config and orders by number, which the unique index
answers directly. The single-column index only slowed every append, and PostgreSQL's
planner chose it on freshly loaded tables (before ANALYZE) and then sorted the whole
history to find the newest version.

The index is dropped by name rather than by ``AlterField``, which on SQLite rebuilds the
table and with it would drop the history triggers of migration 0002. MySQL/MariaDB keep
whatever index InnoDB made for the foreign key: Django never created one there.
"""

from __future__ import annotations

from typing import Any

import django.db.models.deletion
from django.db import migrations, models

TABLE = "config_versions_botconfigversion"
COLUMN = "bot_config_id"
INDEX = "config_versions_botconfigversion_bot_config_id_idx"  # when recreated on reverse


def _single_column_indexes(schema_editor: Any) -> list[str]:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, TABLE)
    return [
        name
        for name, info in constraints.items()
        if info["columns"] == [COLUMN]
        and info["index"]
        and not info["unique"]
        and not info["primary_key"]
        and not info.get("foreign_key")
    ]


def drop_index(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "mysql":
        return
    for name in _single_column_indexes(schema_editor):
        schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}", params=None)


def restore_index(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "mysql" or _single_column_indexes(schema_editor):
        return
    qn = schema_editor.quote_name
    schema_editor.execute(f"CREATE INDEX {qn(INDEX)} ON {qn(TABLE)} ({qn(COLUMN)})", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("config_versions", "0002_history_triggers"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="botconfigversion",
                    name="bot_config",
                    field=models.ForeignKey(
                        db_index=False,
                        help_text="The config this version belongs to.",
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="versions",
                        to="config_versions.botconfig",
                        verbose_name="bot config",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop_index, restore_index)],
        ),
    ]
