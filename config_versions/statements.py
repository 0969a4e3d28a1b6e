"""The SQL of the database store, built once per database alias and kept, and how its
rows read back as versions.

Plain statements rather than QuerySets: the store's hot reads and appends run one
precompiled statement each, and building and compiling a QuerySet on every call
costs more than running a one-row query.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import connections
from django.utils import timezone

from config_versions.core.version import VERSION_FIELDS, ConfigVersion
from config_versions.models import BotConfig, BotConfigVersion

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
    "signature",
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
    using: str,
    *,
    copy: bool,
    chain_in_sql: bool = False,
    unless: bool = False,
    previous_in_sql: bool = False,
) -> str:
    """One INSERT of a version, which first locks the config's row; ``copy`` takes the
    config from another stored version.

    Every append is ``INSERT ... SELECT ... FROM`` the config's row ``WHERE`` its
    ``current_version`` is the one the new version follows and it is not archived,
    locking that row (``FOR UPDATE``; SQLite's writes are serialised anyway). So a
    writer that did not see the newest version writes no row, instead of colliding on
    the number, and every writer takes the config's lock before the version's index
    entry: a writer waiting in ``DatabaseStore.serialized`` and a one-statement append
    never deadlock. MySQL/MariaDB cannot (see ``_mysql_insert``). Parameters, after the
    columns': config id, [copied version,] previous number, [config id, previous
    number, [content hash]].

    A rollback copies the stored config inside the database: no decoding, no
    re-encoding and no megabytes over the wire. ``chain_in_sql`` also copies the content
    hash and computes the chain hash from it (see ``DatabaseStore._append_copy``), and
    returns the chain and content hashes.

    ``previous_in_sql`` (inside ``DatabaseStore.serialized``, where the head is the
    config's ``current_version``): the previous chain hash is read in the statement
    too, so the chain text's start is built in SQL (its only parameter is the part
    after the content hash), and the statement returns both hashes. Under the config's
    lock that saves reading the head first.

    ``unless`` adds the manager's no-op rule to the same statement: no row is written
    when the version it follows has the same content hash.
    """
    connection = connections[using]
    vendor = connection.vendor
    qn = connection.ops.quote_name
    table = qn(BotConfigVersion._meta.db_table)
    json_placeholder = "%s::json" if vendor == "postgresql" else "%s"
    placeholders = {
        column: json_placeholder if column in _JSON_COLUMNS else "%s" for column in _INSERT_COLUMNS
    }
    column_sql = ", ".join(qn(column) for column in _INSERT_COLUMNS)
    bot, version, content = qn("bot_config_id"), qn("version"), qn("content_hash")
    if vendor == "mysql":
        return _mysql_insert(table, column_sql, placeholders, qn, copy=copy, unless=unless)
    configs = qn(BotConfig._meta.db_table)
    source, key = f"{configs} b", f"b.{qn('id')}"
    head_is = f" AND b.{qn('current_version')} = %s AND b.{qn('archived_at')} IS NULL"
    # SKIP LOCKED: while another writer holds the row, write nothing at once and queue in
    # serialized() rather than wait here only to find the head moved on.
    lock = " FOR UPDATE OF b SKIP LOCKED" if vendor == "postgresql" else ""
    where = f"{key} = %s"
    new_content = "%s"
    returning = ""
    if copy:
        placeholders["config"] = f"src.{qn('config')}"
        source += f" JOIN {table} src ON src.{bot} = {key}"
        where += f" AND src.{version} = %s"
        new_content = f"src.{content}"
        if chain_in_sql or previous_in_sql:
            placeholders["content_hash"] = f"src.{content}"
    if chain_in_sql or previous_in_sql:
        # The chain text is canonical JSON: ["previous chain","content hash",...]; hex
        # hashes need no escaping, so SQL can join it (see jsondata.chain_text_around).
        start = "%s"
        if previous_in_sql:
            source += (
                f" JOIN {table} h ON h.{bot} = {key} AND h.{version} = b.{qn('current_version')}"
            )
            start = f"'[\"' || h.{qn('chain_hash')} || '\",\"'"
        placeholders["chain_hash"] = SQL_SHA256[vendor].format(f"{start} || {new_content} || %s")
        returning = f" RETURNING {qn('chain_hash')}, {qn('content_hash')}"
    where += head_is
    if unless:
        where += (
            f" AND NOT EXISTS (SELECT 1 FROM {table} p WHERE p.{bot} = %s"
            f" AND p.{version} = %s AND p.{content} = {new_content})"
        )
    select = ", ".join(placeholders.values())
    return (
        f"INSERT INTO {table} ({column_sql}) SELECT {select} FROM {source} "
        f"WHERE {where}{lock}{returning}"
    )


def _mysql_insert(
    table: str,
    column_sql: str,
    placeholders: dict[str, str],
    qn: Callable[[str], str],
    *,
    copy: bool,
    unless: bool,
) -> str:
    """MySQL/MariaDB: the INSERT alone, run inside ``DatabaseStore.serialized``.

    MySQL refuses a statement that reads the table its trigger updates (the config's
    row), and an insert's foreign-key check takes a shared lock on that row before the
    trigger asks for an exclusive one, so two one-statement appends can deadlock. There
    every append holds the config's row lock first, and the statement only writes.
    Parameters after the columns': [config id, copied version,] [config id, previous
    number, [content hash]].
    """
    bot, version, content = qn("bot_config_id"), qn("version"), qn("content_hash")
    condition = ""
    new_content = "%s"
    if copy:
        placeholders = {**placeholders, "config": f"src.{qn('config')}"}
        new_content = f"src.{content}"
    if unless:
        condition = (
            f"NOT EXISTS (SELECT 1 FROM {table} p WHERE p.{bot} = %s"
            f" AND p.{version} = %s AND p.{content} = {new_content})"
        )
    select = ", ".join(placeholders.values())
    if copy:
        where = f"src.{bot} = %s AND src.{version} = %s" + (f" AND {condition}" if unless else "")
        return f"INSERT INTO {table} ({column_sql}) SELECT {select} FROM {table} src WHERE {where}"
    if unless:
        return f"INSERT INTO {table} ({column_sql}) SELECT {select} FROM DUAL WHERE {condition}"
    return f"INSERT INTO {table} ({column_sql}) VALUES ({select})"


@lru_cache(maxsize=32)
def config_state_sql(using: str, *, locking: bool, hashes_of: bool | None = None) -> str:
    """The config's ``current_version`` and ``archived_at``. With ``hashes_of`` not None,
    also the content hash of the version given as first parameter (the head an append
    followed), and if True that of the second (the copied version); the config id comes
    last. ``locking`` takes the row's lock (``FOR UPDATE``) where the database has row
    locks."""
    connection = connections[using]
    qn = connection.ops.quote_name
    columns = f"b.{qn('current_version')}, b.{qn('archived_at')}"
    if hashes_of is not None:
        hash_of = (
            f"(SELECT v.{qn('content_hash')} FROM {qn(BotConfigVersion._meta.db_table)} v"
            f" WHERE v.{qn('bot_config_id')} = b.{qn('id')} AND v.{qn('version')} = %s)"
        )
        columns += f", {hash_of}" + (f", {hash_of}" if hashes_of else "")
    lock = " FOR UPDATE" if locking and connection.vendor != "sqlite" else ""
    return f"SELECT {columns} FROM {qn(BotConfig._meta.db_table)} b WHERE b.{qn('id')} = %s{lock}"


@lru_cache(maxsize=8)
def take_write_lock_sql(using: str) -> str:
    """SQLite: a no-op UPDATE of the config's row, as the first statement of a transaction,
    takes the database's write lock while SQLite may still wait for it (busy timeout);
    a transaction that read first is refused at once ("database is locked") instead."""
    qn = connections[using].ops.quote_name
    current = qn("current_version")
    return f"UPDATE {qn(BotConfig._meta.db_table)} SET {current} = {current} WHERE {qn('id')} = %s"


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


def created_at(timestamp: float) -> dt.datetime:
    """The ``created_at`` column's value for a recorded Unix ``timestamp`` (naive in UTC's
    wall time when the site does not use time zones)."""
    value = dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)
    return value if settings.USE_TZ else timezone.make_naive(value)
