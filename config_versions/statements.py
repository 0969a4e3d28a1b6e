"""The SQL of the database store, built once per database alias and kept, and how its
rows read back as versions.

Plain statements rather than QuerySets: the store's hot reads and appends run one
precompiled statement each, and building and compiling a QuerySet on every call
costs more than running a one-row query.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from django.db import connections

from config_versions.core.version import VERSION_FIELDS, ConfigVersion
from config_versions.models import BotConfigVersion

CHAINED_FIELDS = (*VERSION_FIELDS, "chain_hash", "content_hash")
# The columns an append writes, in the order of _insert_sql's parameters.
_INSERT_COLUMNS = (
    "bot_config_id",
    "version",
    "config",
    "timestamp",
    "created_at",
    "reason",
    "previous_version",
    "created_by",
    "created_by_user_id",
    "metadata",
    "content_hash",
    "chain_hash",
)
_JSON_COLUMNS = frozenset({"config", "metadata"})


@lru_cache(maxsize=256)
def select_sql(using: str, fields: tuple[str, ...], tail: str) -> str:
    qn = connections[using].ops.quote_name
    columns = ", ".join(qn(field) for field in fields)
    table = qn(BotConfigVersion._meta.db_table)
    where = f"WHERE {qn('bot_config_id')} = %s " + tail.format(version=qn("version"))
    return f"SELECT {columns} FROM {table} {where}"


# The SHA-256 (hex) of a text, in the SQL of databases that can compute it.
SQL_SHA256 = {
    "postgresql": "encode(sha256(convert_to({}, 'UTF8')), 'hex')",
    "sqlite": "SHA256({})",  # registered on every connection by Django's backend
}


@lru_cache(maxsize=32)
def insert_statement(
    using: str, *, copy: bool, chain_in_sql: bool = False, unless: bool = False
) -> str:
    """One INSERT of a version; ``copy`` takes the config from another stored version.

    A rollback copies the stored config inside the database: no decoding, no
    re-encoding and no megabytes over the wire. ``chain_in_sql`` also copies the content
    hash and computes the chain hash from it (see ``DatabaseStore._append_copy``), and
    returns the chain and content hashes.

    ``unless`` adds the manager's no-op rule to the same statement, so that checking
    and appending are one atomic step: no row is written when the previous version is
    still the newest and has the same content hash (parameters: config id, previous
    number, [content hash,] config id, new number).
    """
    connection = connections[using]
    qn = connection.ops.quote_name
    table = qn(BotConfigVersion._meta.db_table)
    json_placeholder = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
    placeholders = {
        column: json_placeholder if column in _JSON_COLUMNS else "%s" for column in _INSERT_COLUMNS
    }
    column_sql = ", ".join(qn(column) for column in _INSERT_COLUMNS)
    bot, version, content = qn("bot_config_id"), qn("version"), qn("content_hash")
    if not copy:
        values = ", ".join(placeholders.values())
        if not unless:
            return f"INSERT INTO {table} ({column_sql}) VALUES ({values})"
        dual = " FROM DUAL" if connection.vendor == "mysql" else ""
        return (
            f"INSERT INTO {table} ({column_sql}) SELECT {values}{dual} WHERE "
            + _changed_condition(table, qn, "%s")
        )
    placeholders["config"] = f"src.{qn('config')}"
    returning = ""
    if chain_in_sql:
        placeholders["content_hash"] = f"src.{qn('content_hash')}"
        text = f"%s || src.{qn('content_hash')} || %s"
        placeholders["chain_hash"] = SQL_SHA256[connection.vendor].format(text)
        returning = f" RETURNING {qn('chain_hash')}, {qn('content_hash')}"
    select = ", ".join(placeholders.values())
    condition = f" AND {_changed_condition(table, qn, f'src.{content}')}" if unless else ""
    return (
        f"INSERT INTO {table} ({column_sql}) SELECT {select} FROM {table} src "
        f"WHERE src.{bot} = %s AND src.{version} = %s{condition}{returning}"
    )


def _changed_condition(table: str, qn: Callable[[str], str], new_content: str) -> str:
    """True unless the previous version is the newest and has ``new_content`` as hash."""
    bot, version, content = qn("bot_config_id"), qn("version"), qn("content_hash")
    return (
        f"(NOT EXISTS (SELECT 1 FROM {table} p WHERE p.{bot} = %s AND p.{version} = %s "
        f"AND p.{content} = {new_content}) "
        f"OR EXISTS (SELECT 1 FROM {table} n WHERE n.{bot} = %s AND n.{version} = %s))"
    )


def json_value(value: Any) -> Any:
    # Raw cursors hand JSON columns over as text on every backend Django supports.
    return json.loads(value) if isinstance(value, str | bytes | bytearray) else value


def version_from_row(row: tuple[Any, ...]) -> ConfigVersion:
    return ConfigVersion(
        version=row[0],
        config=json_value(row[1]),
        timestamp=row[2],
        reason=row[3],
        previous_version=row[4],
        created_by=row[5],
        metadata=json_value(row[6]) if row[6] is not None else {},
    )


# Version numbers are PositiveIntegerField values: a larger int cannot be stored, and
# SQLite would refuse to even compare with one (OverflowError).
MAX_VERSION = 2_147_483_647


def is_version_number(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_VERSION
