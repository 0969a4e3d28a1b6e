"""Releases (issue 13): label moves, and the permissions to make them.

``BotConfigLabelMove`` keeps every move of a label, immutable like versions: the
triggers installed here refuse any UPDATE of a move (but ``created_by_user_id`` going
to NULL when the account is deleted) and any DELETE unless a tombstone names the config
(``purge_config_history``), on PostgreSQL, SQLite and MySQL/MariaDB.

Not atomic, like 0006: MySQL cannot roll back DDL.
"""

from typing import Any

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

TABLE = "config_versions_botconfiglabelmove"
TOMBSTONES = "config_versions_purgedconfig"
FROZEN = (
    "id",
    "bot_config_id",
    "sequence",
    "label",
    "from_version",
    "to_version",
    "timestamp",
    "created_at",
    "reason",
    "created_by",
    "chain_hash",
    "signature",
)
MESSAGE = "config_versions: label moves are immutable (move the label again)"
DELETE_MESSAGE = "config_versions: label moves cannot be deleted"
PERMITTED = f"EXISTS (SELECT 1 FROM {TOMBSTONES} t WHERE t.config_id = OLD.bot_config_id)"
USER_CLEARED_ONLY = (
    "(NEW.created_by_user_id IS NULL OR NEW.created_by_user_id {same} OLD.created_by_user_id)"
)


def _postgresql() -> tuple[list[str], list[str]]:
    new = ", ".join(f"NEW.{c}" for c in FROZEN)
    old = ", ".join(f"OLD.{c}" for c in FROZEN)
    install = [
        f"""
        CREATE OR REPLACE FUNCTION config_versions_refuse_move_update() RETURNS trigger AS $$
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
        CREATE TRIGGER config_versions_moves_immutable BEFORE UPDATE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION config_versions_refuse_move_update()
        """,
        f"""
        CREATE OR REPLACE FUNCTION config_versions_refuse_move_delete() RETURNS trigger AS $$
        BEGIN
            IF NOT {PERMITTED} THEN
                RAISE EXCEPTION '{DELETE_MESSAGE}' USING ERRCODE = 'restrict_violation';
            END IF;
            RETURN OLD;
        END
        $$ LANGUAGE plpgsql
        """,
        f"""
        CREATE TRIGGER config_versions_moves_undeletable BEFORE DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION config_versions_refuse_move_delete()
        """,
    ]
    remove = [
        f"DROP TRIGGER IF EXISTS config_versions_moves_immutable ON {TABLE}",
        f"DROP TRIGGER IF EXISTS config_versions_moves_undeletable ON {TABLE}",
        "DROP FUNCTION IF EXISTS config_versions_refuse_move_update()",
        "DROP FUNCTION IF EXISTS config_versions_refuse_move_delete()",
    ]
    return install, remove


def _sqlite() -> tuple[list[str], list[str]]:
    same = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in FROZEN)
    install = [
        f"""
        CREATE TRIGGER config_versions_moves_immutable BEFORE UPDATE ON {TABLE}
        WHEN NOT ({same} AND {USER_CLEARED_ONLY.format(same="IS")})
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
        """,
        f"""
        CREATE TRIGGER config_versions_moves_undeletable BEFORE DELETE ON {TABLE}
        WHEN NOT {PERMITTED}
        BEGIN SELECT RAISE(ABORT, '{DELETE_MESSAGE}'); END
        """,
    ]
    remove = [
        "DROP TRIGGER IF EXISTS config_versions_moves_immutable",
        "DROP TRIGGER IF EXISTS config_versions_moves_undeletable",
    ]
    return install, remove


def _mysql() -> tuple[list[str], list[str]]:
    same = " AND ".join(f"NEW.{c} <=> OLD.{c}" for c in FROZEN)
    install = [
        f"""
        CREATE TRIGGER config_versions_moves_immutable BEFORE UPDATE ON {TABLE} FOR EACH ROW
        BEGIN
            IF NOT ({same} AND {USER_CLEARED_ONLY.format(same="<=>")}) THEN
                SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{MESSAGE}';
            END IF;
        END
        """,
        f"""
        CREATE TRIGGER config_versions_moves_undeletable BEFORE DELETE ON {TABLE} FOR EACH ROW
        BEGIN
            IF NOT {PERMITTED} THEN
                SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{DELETE_MESSAGE}';
            END IF;
        END
        """,
    ]
    remove = [
        "DROP TRIGGER IF EXISTS config_versions_moves_immutable",
        "DROP TRIGGER IF EXISTS config_versions_moves_undeletable",
    ]
    return install, remove


VENDORS = {"postgresql": _postgresql, "sqlite": _sqlite, "mysql": _mysql}


def _run(schema_editor: Any, which: int) -> None:
    make = VENDORS.get(schema_editor.connection.vendor)
    if make is None:
        raise RuntimeError(
            f"config_versions has no history triggers for {schema_editor.connection.vendor}; "
            "supported: PostgreSQL, SQLite, MySQL/MariaDB."
        )
    for statement in make()[which]:
        schema_editor.execute(statement, params=None)


def install(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, 1)
    _run(schema_editor, 0)


def remove(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, 1)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("config_versions", "0006_history_exact_json_signatures_archive_purge"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="botconfig",
            options={
                "ordering": ["name"],
                "permissions": [
                    ("rollback_botconfig", "Can roll back bot config"),
                    ("promote_botconfig", "Can move bot config labels"),
                    ("promote_protected_botconfig", "Can move protected bot config labels"),
                ],
                "verbose_name": "bot config",
                "verbose_name_plural": "bot configs",
            },
        ),
        migrations.CreateModel(
            name="BotConfigLabelMove",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "sequence",
                    models.PositiveIntegerField(
                        help_text="Number of this move among the config's moves: 1, 2, 3 ...",
                        verbose_name="sequence",
                    ),
                ),
                ("label", models.CharField(max_length=50, verbose_name="label")),
                (
                    "from_version",
                    models.PositiveIntegerField(
                        blank=True,
                        help_text="Empty when first set.",
                        null=True,
                        verbose_name="from version",
                    ),
                ),
                ("to_version", models.PositiveIntegerField(verbose_name="to version")),
                (
                    "timestamp",
                    models.FloatField(
                        help_text="The exact Unix time recorded.", verbose_name="timestamp"
                    ),
                ),
                ("created_at", models.DateTimeField(verbose_name="moved at")),
                ("reason", models.TextField(blank=True, verbose_name="reason")),
                (
                    "created_by",
                    models.CharField(
                        blank=True, max_length=255, null=True, verbose_name="moved by"
                    ),
                ),
                ("chain_hash", models.CharField(max_length=64, verbose_name="chain hash")),
                (
                    "signature",
                    models.CharField(
                        blank=True,
                        editable=False,
                        max_length=64,
                        null=True,
                        verbose_name="signature",
                    ),
                ),
                (
                    "bot_config",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="label_moves",
                        to="config_versions.botconfig",
                        verbose_name="bot config",
                    ),
                ),
                (
                    "created_by_user",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="moved by user",
                    ),
                ),
            ],
            options={
                "verbose_name": "label move",
                "verbose_name_plural": "label moves",
                "ordering": ["bot_config", "-sequence"],
                "indexes": [
                    models.Index(
                        fields=["bot_config", "label", "sequence"],
                        name="config_versions_label_head",
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("bot_config", "sequence"), name="config_versions_unique_label_move"
                    )
                ],
            },
        ),
        migrations.RunPython(install, remove, atomic=False, elidable=False),
    ]
