"""Slugs are case-sensitive on every database: ``Bot`` and ``bot`` are two configs.

MariaDB used to compare them by the table's ``utf8mb4_unicode_ci`` collation, so there
``GET configs/Bot/`` found ``bot`` and creating ``Bot`` beside ``bot`` was refused;
migration 0004 gives the column a binary collation. Run on all three databases.
"""

from __future__ import annotations

import importlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from config_versions.models import BotConfig

pytestmark = pytest.mark.django_db

URL = "/api/configs/"
MIGRATION = importlib.import_module("config_versions.migrations.0004_slug_case_sensitive")
mysql_only = pytest.mark.skipif(
    connection.vendor != "mysql", reason="only MySQL/MariaDB collations ignore case"
)


def test_a_slug_in_another_case_is_another_config(admin_api, history_bot):
    assert admin_api.get(f"{URL}support-bot/").status_code == 200
    for other in ("Support-Bot", "SUPPORT-BOT", "support-Bot"):
        response = admin_api.get(f"{URL}{other}/")
        assert response.status_code == 404, other
        assert response.json() == {"detail": f"No bot config with the slug {other!r}."}
        assert admin_api.get(f"{URL}{other}/versions/").status_code == 404
    assert BotConfig.objects.filter(slug="SUPPORT-BOT").count() == 0


def test_creating_a_slug_in_another_case_makes_a_second_config(admin_api, history_bot):
    created = admin_api.post(
        URL, {"name": "Upper", "slug": "Support-Bot", "config": {"n": 1}}, format="json"
    )
    assert created.status_code == 201, created.content
    assert created.json()["slug"] == "Support-Bot"
    assert sorted(BotConfig.objects.values_list("slug", flat=True)) == [
        "Support-Bot",
        "support-bot",
    ]
    upper = admin_api.get(f"{URL}Support-Bot/").json()
    lower = admin_api.get(f"{URL}support-bot/").json()
    assert (upper["name"], upper["current_version"], upper["config"]) == ("Upper", 1, {"n": 1})
    assert (lower["name"], lower["current_version"]) == ("Support bot", 3)
    # The same slug in the same case is still taken.
    again = admin_api.post(URL, {"name": "x", "slug": "Support-Bot", "config": {}}, format="json")
    assert again.status_code == 400
    assert "slug" in again.json()


def test_the_unique_index_compares_exactly(db):
    BotConfig.objects.create(name="a", slug="bot")
    BotConfig.objects.create(name="b", slug="Bot")  # no IntegrityError
    assert BotConfig.objects.get(slug="Bot").name == "b"
    assert BotConfig.objects.get(slug="bot").name == "a"


def _slug_column() -> tuple[str, str, str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COLUMN_TYPE, CHARACTER_SET_NAME, COLLATION_NAME, IS_NULLABLE "
            "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
            "AND TABLE_NAME = %s AND COLUMN_NAME = 'slug'",
            [BotConfig._meta.db_table],
        )
        return cursor.fetchone()


def _slug_is_unique() -> bool:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, BotConfig._meta.db_table)
    return any(c["unique"] and c["columns"] == ["slug"] for c in constraints.values())


@mysql_only
def test_the_slug_column_has_a_binary_collation():
    column_type, charset, collation, nullable = _slug_column()
    assert (column_type, charset, nullable) == ("varchar(100)", "utf8mb4", "NO")
    assert collation == "utf8mb4_bin"
    assert _slug_is_unique()


@mysql_only
@pytest.mark.django_db(transaction=True)
def test_the_migration_is_reversible():
    executor = MigrationExecutor(connection)
    before = [("config_versions", "0003_index_versions_by_config_and_number_only")]
    # Back to where the test database was, later migrations included.
    after = executor.loader.graph.leaf_nodes("config_versions")
    try:
        executor.migrate(before)
        # Back to the table's collation, the one the test database was created with
        # (tests/settings.py: utf8mb4_unicode_ci), so case is ignored again.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT TABLE_COLLATION FROM information_schema.TABLES "
                "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
                [BotConfig._meta.db_table],
            )
            (table_collation,) = cursor.fetchone()
        assert not table_collation.endswith("_bin")
        assert _slug_column() == ("varchar(100)", "utf8mb4", table_collation, "NO")
        assert _slug_is_unique()
        # What the migration fixes: without it, "BOT" finds "bot". Raw SQL: the models
        # may use tables of later migrations, which are not there at 0003.
        table = BotConfig._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (name, slug, description, created_at, updated_at, "
                "current_version) VALUES ('a', 'bot', '', NOW(), NOW(), 0)"
            )
            cursor.execute(f"SELECT slug FROM {table} WHERE slug = 'BOT'")
            assert cursor.fetchall() == (("bot",),)
            cursor.execute(f"DELETE FROM {table}")
    finally:
        executor.loader.build_graph()
        executor.migrate(after)
    assert _slug_column()[2] == "utf8mb4_bin"
    assert _slug_is_unique()


def test_other_databases_are_left_alone():
    """The migration's functions do nothing on PostgreSQL and SQLite (no SQL at all)."""
    if connection.vendor == "mysql":
        pytest.skip("MySQL/MariaDB are the databases it changes")

    class Recorder:
        def __init__(self) -> None:
            self.connection = connection
            self.sql: list[str] = []

        def execute(self, sql: str, params: object = None) -> None:
            self.sql.append(sql)

    recorder = Recorder()
    MIGRATION.binary_collation(None, recorder)
    MIGRATION.table_collation(None, recorder)
    assert recorder.sql == []
