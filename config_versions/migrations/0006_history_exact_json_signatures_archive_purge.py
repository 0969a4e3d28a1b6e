"""Trust, on every database (issue 12).

- ``config`` and ``metadata`` become ``ExactJSONField``: on PostgreSQL the ``json``
  type, which keeps numbers as written (jsonb turned ``1e16`` into an int and ``-0.0``
  into ``0.0``, and verification then cried tamper). Other databases keep JSON text
  already; their column does not change.
- ``signature``: the HMAC of each version's chain hash, when a signing key is set.
- Archiving (``archived_at``/``archived_by``/``archive_reason``) instead of deleting, and
  ``PurgedConfig``, the tombstone the one permitted deletion leaves.
- The triggers of 0002 are replaced: UPDATE of a version row is refused as before (the
  new column included), and DELETE is now refused too, unless a tombstone names the
  config (``purge_config_history`` writes it first, in the same transaction); on
  PostgreSQL, TRUNCATE of a table that still holds versions is refused as well.

Not atomic, like 0002: MySQL cannot roll back DDL. SQLite rebuilds the version table to
alter its columns, which drops its triggers; they are installed again at the end.
"""

from typing import Any

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

import config_versions.jsonfield

TABLE = "config_versions_botconfigversion"
PARENT = "config_versions_botconfig"
TOMBSTONES = "config_versions_purgedconfig"
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
    "signature",
)
JSON_COLUMNS = ("config", "metadata")
MESSAGE = "config_versions: version rows are immutable"
DELETE_MESSAGE = (
    "config_versions: version rows cannot be deleted (archive the config; "
    "purge_config_history removes a history and leaves a tombstone)"
)
ARCHIVED_MESSAGE = "config_versions: the config is archived"
BUMP = (
    f"UPDATE {PARENT} SET current_version = NEW.version, updated_at = NEW.created_at "
    "WHERE id = NEW.bot_config_id AND current_version < NEW.version"
)
PERMITTED = f"EXISTS (SELECT 1 FROM {TOMBSTONES} t WHERE t.config_id = OLD.bot_config_id)"


def _postgresql() -> tuple[list[str], list[str]]:
    # json has no equality operator: compare its text (which is what it keeps).
    def column(prefix: str, name: str) -> str:
        return f"{prefix}.{name}::text" if name in JSON_COLUMNS else f"{prefix}.{name}"

    new = ", ".join(column("NEW", c) for c in FROZEN)
    old = ", ".join(column("OLD", c) for c in FROZEN)
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
        CREATE OR REPLACE FUNCTION config_versions_refuse_delete() RETURNS trigger AS $$
        BEGIN
            IF NOT {PERMITTED} THEN
                RAISE EXCEPTION '{DELETE_MESSAGE}' USING ERRCODE = 'restrict_violation';
            END IF;
            RETURN OLD;
        END
        $$ LANGUAGE plpgsql
        """,
        f"""
        CREATE TRIGGER config_versions_undeletable BEFORE DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION config_versions_refuse_delete()
        """,
        # TRUNCATE fires no DELETE trigger: refuse it unless the table is empty already
        # (Django's flush truncates every table, after purge_history emptied this one).
        f"""
        CREATE OR REPLACE FUNCTION config_versions_refuse_truncate() RETURNS trigger AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM {TABLE}) THEN
                RAISE EXCEPTION '{DELETE_MESSAGE}' USING ERRCODE = 'restrict_violation';
            END IF;
            RETURN NULL;
        END
        $$ LANGUAGE plpgsql
        """,
        f"""
        CREATE TRIGGER config_versions_untruncatable BEFORE TRUNCATE ON {TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION config_versions_refuse_truncate()
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
        f"DROP TRIGGER IF EXISTS config_versions_undeletable ON {TABLE}",
        f"DROP TRIGGER IF EXISTS config_versions_untruncatable ON {TABLE}",
        f"DROP TRIGGER IF EXISTS config_versions_head ON {TABLE}",
        "DROP FUNCTION IF EXISTS config_versions_refuse_update()",
        "DROP FUNCTION IF EXISTS config_versions_refuse_delete()",
        "DROP FUNCTION IF EXISTS config_versions_refuse_truncate()",
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
        f"""
        CREATE TRIGGER config_versions_undeletable BEFORE DELETE ON {TABLE}
        WHEN NOT {PERMITTED}
        BEGIN SELECT RAISE(ABORT, '{DELETE_MESSAGE}'); END
        """,
        f"CREATE TRIGGER config_versions_head AFTER INSERT ON {TABLE} BEGIN {BUMP}; END",
    ]
    remove = [
        "DROP TRIGGER IF EXISTS config_versions_immutable",
        "DROP TRIGGER IF EXISTS config_versions_undeletable",
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
        f"""
        CREATE TRIGGER config_versions_undeletable BEFORE DELETE ON {TABLE} FOR EACH ROW
        BEGIN
            IF NOT {PERMITTED} THEN
                SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{DELETE_MESSAGE}';
            END IF;
        END
        """,
        # MySQL refuses an INSERT that reads the config's row its trigger updates, so
        # appends cannot check "not archived" themselves there: the trigger does.
        f"""
        CREATE TRIGGER config_versions_head AFTER INSERT ON {TABLE} FOR EACH ROW
        BEGIN
            IF (SELECT archived_at FROM {PARENT} WHERE id = NEW.bot_config_id) IS NOT NULL THEN
                SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{ARCHIVED_MESSAGE}';
            END IF;
            {BUMP};
        END
        """,
    ]
    remove = [
        "DROP TRIGGER IF EXISTS config_versions_immutable",
        "DROP TRIGGER IF EXISTS config_versions_undeletable",
        "DROP TRIGGER IF EXISTS config_versions_head",
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
    _run(schema_editor, 1)  # those of 0002 first, or a re-run of this one
    _run(schema_editor, 0)


def remove(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, 1)


def _triggers_of_0002() -> Any:
    from importlib import import_module

    return import_module("config_versions.migrations.0002_history_triggers")


def drop_0002(apps: Any, schema_editor: Any) -> None:
    _triggers_of_0002().remove(apps, schema_editor)


def restore_0002(apps: Any, schema_editor: Any) -> None:
    _triggers_of_0002().install(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("config_versions", "0005_bot_config_changes")]

    atomic = False

    operations = [
        # Old triggers out first: 0002's UPDATE guard compares config as jsonb.
        migrations.RunPython(drop_0002, restore_0002, atomic=False, elidable=False),
        migrations.CreateModel(
            name="PurgedConfig",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "config_id",
                    models.BigIntegerField(
                        db_index=True,
                        help_text="Primary key the config had.",
                        verbose_name="config id",
                    ),
                ),
                ("slug", models.CharField(max_length=100, verbose_name="slug")),
                ("name", models.CharField(max_length=200, verbose_name="name")),
                (
                    "versions",
                    models.PositiveIntegerField(
                        help_text="How many versions the history had.", verbose_name="versions"
                    ),
                ),
                (
                    "last_chain_hash",
                    models.CharField(
                        blank=True,
                        help_text="Chain hash of its newest version: what the history added up to.",
                        max_length=64,
                        verbose_name="last chain hash",
                    ),
                ),
                (
                    "purged_by",
                    models.CharField(
                        blank=True, max_length=255, null=True, verbose_name="purged by"
                    ),
                ),
                (
                    "purged_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="purged at"
                    ),
                ),
                ("reason", models.TextField(blank=True, verbose_name="reason")),
            ],
            options={
                "verbose_name": "purged config",
                "verbose_name_plural": "purged configs",
                "ordering": ["-purged_at"],
            },
        ),
        migrations.AddField(
            model_name="botconfig",
            name="archive_reason",
            field=models.TextField(blank=True, editable=False, verbose_name="archive reason"),
        ),
        migrations.AddField(
            model_name="botconfig",
            name="archived_at",
            field=models.DateTimeField(
                blank=True,
                editable=False,
                help_text="When the config was archived: it left the API and the changelist, and its history is kept. Empty while the config is in use.",
                null=True,
                verbose_name="archived at",
            ),
        ),
        migrations.AddField(
            model_name="botconfig",
            name="archived_by",
            field=models.CharField(
                blank=True, editable=False, max_length=255, null=True, verbose_name="archived by"
            ),
        ),
        migrations.AddField(
            model_name="botconfigversion",
            name="signature",
            field=models.CharField(
                blank=True,
                editable=False,
                help_text="HMAC-SHA256 of the chain hash with CONFIG_VERSIONS['SIGNING_KEY'], which the database never sees: re-chaining an edited history cannot forge it.",
                max_length=64,
                null=True,
                verbose_name="signature",
            ),
        ),
        migrations.AlterField(
            model_name="botconfigversion",
            name="bot_config",
            field=models.ForeignKey(
                db_index=False,
                help_text="The config this version belongs to.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="versions",
                to="config_versions.botconfig",
                verbose_name="bot config",
            ),
        ),
        migrations.AlterField(
            model_name="botconfigversion",
            name="config",
            field=config_versions.jsonfield.ExactJSONField(
                help_text="The whole configuration at this version.", verbose_name="config"
            ),
        ),
        migrations.AlterField(
            model_name="botconfigversion",
            name="metadata",
            field=config_versions.jsonfield.ExactJSONField(
                blank=True,
                default=dict,
                help_text="Free-form details; rollbacks record rollback_from and rollback_to.",
                verbose_name="metadata",
            ),
        ),
        migrations.RunPython(install, remove, atomic=False, elidable=False),
    ]
