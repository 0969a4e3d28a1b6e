"""DatabaseStore: a config's history in the site's database.

An append is one INSERT. The unique (bot_config, version) constraint is the
compare-and-set: a writer that did not see the newest version collides on its number
and is told the real head, and the manager retries or reports a conflict. A trigger
installed by migration 0002 keeps ``BotConfig.current_version`` in step inside the
same statement and refuses any UPDATE of a version row, so no code path (raw SQL
included) can rewrite history.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError, IntegrityError, OperationalError, connections, transaction
from django.utils import timezone

from config_versions import conf, signals
from config_versions.core.errors import StoreConflict
from config_versions.core.jsondata import chain_text_around, sha256_hex
from config_versions.core.jsondata import content_hash as config_content_hash
from config_versions.core.manager import ConfigVersionManager
from config_versions.core.version import ConfigVersion
from config_versions.models import BotConfig, BotConfigVersion
from config_versions.validation import validators_for

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
    from django.db.backends.base.base import BaseDatabaseWrapper

R = TypeVar("R")

GENESIS = ""  # the "previous chain hash" of version 1
# The columns a ConfigVersion is made of, in its field order.
VERSION_FIELDS = (
    "version",
    "config",
    "timestamp",
    "reason",
    "previous_version",
    "created_by",
    "metadata",
)
# How often a write that hit a transient lock error (SQLite busy, MySQL deadlock) is tried.
_LOCK_RETRIES = 5


def database_manager(
    bot_config: BotConfig, *, user: AbstractBaseUser | AnonymousUser | None = None
) -> ConfigVersionManager:
    return ConfigVersionManager(DatabaseStore(bot_config, user=user), **manager_options(bot_config))


def manager_options(bot_config: BotConfig) -> dict[str, Any]:
    """The rules a config's versions obey: its schema, the site's validators, the limits.

    ``ConfigVersionManager(**manager_options(bot)).validate(config)`` checks a config
    for a BotConfig that is not saved yet.
    """
    return {
        "validators": validators_for(bot_config),
        "max_config_bytes": conf.get("MAX_CONFIG_BYTES"),
        "max_depth": conf.get("MAX_DEPTH"),
    }


def load_bot(slug: str, *, using: str = "default") -> BotConfig | None:
    """The BotConfig with ``slug`` (None if there is none), in one precompiled SELECT."""
    rows = BotConfig.objects.using(using).raw(_bot_sql(using, joined=False), [slug])
    return next(iter(rows), None)


def load_current(
    slug: str, *, using: str = "default"
) -> tuple[BotConfig, ConfigVersion | None] | None:
    """The BotConfig with ``slug`` and its current version, together in one query.

    What a bot polling its config needs; None if there is no such config, and no
    version before the first one is written.
    """
    rows = BotConfig.objects.using(using).raw(_bot_sql(using, joined=True), [slug])
    bot = next(iter(rows), None)
    if bot is None:
        return None
    # The version's columns came as extra attributes of the instance: take them off.
    current = tuple(bot.__dict__.pop(_HEAD_ALIAS + field) for field in VERSION_FIELDS)
    return bot, (_version(current) if current[0] is not None else None)


class DatabaseStore:
    """The history of one BotConfig, read and appended with a query or two each."""

    def __init__(
        self,
        bot_config: BotConfig,
        *,
        user: AbstractBaseUser | AnonymousUser | None = None,
        using: str | None = None,
    ) -> None:
        if bot_config.pk is None:
            raise ValueError("Save the BotConfig before reading or writing its versions.")
        self.bot_config = bot_config
        self.user_id = user.pk if user is not None and user.is_authenticated else None
        self.using = using or bot_config._state.db or "default"
        # (version, chain_hash) of the newest version this object has seen.
        self._head: tuple[int, str] | None = None

    # Reading -------------------------------------------------------------------

    def _rows(self) -> Any:
        return BotConfigVersion.objects.using(self.using).filter(bot_config_id=self.bot_config.pk)

    copies_in_place = True  # INSERT ... SELECT, see _append_copy

    @property
    def keeps_key_order(self) -> bool:
        # jsonb stores objects with its own key order; the JSON text of other backends
        # keeps the writer's.
        return connections[self.using].vendor != "postgresql"

    def current_version(self) -> int:
        head = self._read_head()
        return head[0] if head else 0

    def last_known_version(self) -> int | None:
        return self._head[0] if self._head else None

    def latest(self) -> ConfigVersion | None:
        rows = self._select(_CHAINED_FIELDS, "ORDER BY {version} DESC LIMIT 1")
        if not rows:
            return None
        self._remember(rows[0][0], rows[0][-1])
        return _version(rows[0])

    def latest_config(self) -> dict[str, Any] | None:
        rows = self._select(("config",), "ORDER BY {version} DESC LIMIT 1")
        config: dict[str, Any] | None = _json(rows[0][0]) if rows else None
        return config

    def get(self, version: int) -> ConfigVersion | None:
        if not _is_version_number(version):
            return None
        rows = self._select(VERSION_FIELDS, "AND {version} = %s", version)
        return _version(rows[0]) if rows else None

    def content_hash(self, version: int) -> str | None:
        if not _is_version_number(version):
            return None
        rows = self._select(("content_hash",), "AND {version} = %s", version)
        return str(rows[0][0]) if rows else None

    def history(self, *, limit: int | None, since_version: int | None) -> list[ConfigVersion]:
        tail, params = "", []
        if since_version is not None:
            if since_version >= _MAX_VERSION:
                return []  # no version can come after it
            tail, params = "AND {version} > %s ", [since_version]
        tail += "ORDER BY {version} DESC"
        if limit is not None and limit < _MAX_VERSION:  # a larger one limits nothing
            tail += " LIMIT %s"
            params.append(limit)
        return [_version(row) for row in self._select(VERSION_FIELDS, tail, *params)]

    def _select(self, fields: tuple[str, ...], tail: str, *params: Any) -> list[tuple[Any, ...]]:
        # The hot reads in plain SQL: building and compiling a QuerySet costs more than
        # running a one-row SELECT of a 5 KB config.
        sql = _select_sql(self.using, fields, tail)
        with connections[self.using].cursor() as cursor:
            cursor.execute(sql, [self.bot_config.pk, *params])
            rows: list[tuple[Any, ...]] = cursor.fetchall()
        return rows

    def all_versions(self) -> list[ConfigVersion]:
        return [_version(row) for row in self.iter_versions()]

    def iter_versions(self) -> Iterator[tuple[Any, ...]]:
        """Oldest first, streamed in chunks, for exports of long histories."""
        rows: Iterator[tuple[Any, ...]] = (
            self._rows().order_by("version").values_list(*VERSION_FIELDS).iterator(chunk_size=500)
        )
        return rows

    def count(self) -> int:
        return int(self._rows().count())

    def to_async(self, func: Callable[..., R]) -> Callable[..., Any]:
        return sync_to_async(func, thread_sensitive=True)

    # Appending -----------------------------------------------------------------

    def append(
        self,
        version: ConfigVersion,
        *,
        encoded: str,
        copy_of: int | None = None,
        content_hash: str | None = None,
    ) -> None:
        previous_chain = self._previous_chain(version.version)
        before, after = chain_text_around(
            previous_chain,
            version=version.version,
            timestamp=version.timestamp,
            reason=version.reason,
            previous_version=version.previous_version,
            created_by=version.created_by,
            metadata=version.metadata,
        )
        if copy_of is not None and content_hash is None and not encoded:
            link = self._append_copy(version, copy_of, before, after)
        else:
            # Hash the canonical (sorted) form: key order is presentation, not content,
            # and PostgreSQL's jsonb does not keep it. The manager may bring the hash.
            content = content_hash or config_content_hash(version.config)
            link = sha256_hex(before + content + after)
            sql, params = self._insert_sql(version, encoded, (content, link), copy_of)
            if self._execute_insert(version.version, sql, params) is None:
                raise ValueError(f"Version {copy_of} not found")
        self._remember(version.version, link)
        self.bot_config.current_version = version.version
        self._announce(version, copy_of)

    def _append_copy(self, version: ConfigVersion, copy_of: int, before: str, after: str) -> str:
        """A copy the manager never read: config and content hash are copied in place.

        Where the database can hash (PostgreSQL, SQLite through the function Django
        registers), it also finishes the chain hash from the copied content hash: one
        statement in all. Elsewhere the content hash is read first.
        """
        if not _is_version_number(copy_of):
            raise ValueError(f"Version {copy_of} not found")
        connection = connections[self.using]
        if connection.vendor in _SQL_SHA256:
            sql, params = self._insert_sql(version, "", (before, after), copy_of, chain_in_sql=True)
            row = self._execute_insert(version.version, sql, params, returning=True)
            if row is None:
                raise ValueError(f"Version {copy_of} not found")
            return str(row[0])
        content = self.content_hash(copy_of)
        if content is None:
            raise ValueError(f"Version {copy_of} not found")
        link = sha256_hex(before + content + after)
        sql, params = self._insert_sql(version, "", (content, link), copy_of)
        if self._execute_insert(version.version, sql, params) is None:
            raise ValueError(f"Version {copy_of} not found")
        return link

    def _previous_chain(self, number: int) -> str:
        if number == 1:
            return GENESIS
        if self._head is None or self._head[0] != number - 1:
            self._head = None
            head = self._read_head()
            if head is None or head[0] != number - 1:
                raise StoreConflict(head[0] if head else 0)
        assert self._head is not None
        return self._head[1]

    def _read_head(self, *, locking: bool = False) -> tuple[int, str] | None:
        tail = "ORDER BY {version} DESC LIMIT 1" + (" FOR UPDATE" if locking else "")
        rows = self._select(("version", "chain_hash"), tail)
        self._head = (rows[0][0], rows[0][1]) if rows else None
        return self._head

    def _remember(self, number: int, link: str) -> None:
        if self._head is None or number >= self._head[0]:
            self._head = (number, link)

    def _insert_sql(
        self,
        version: ConfigVersion,
        encoded: str,
        hashes: tuple[str, str],
        copy_of: int | None,
        *,
        chain_in_sql: bool = False,
    ) -> tuple[str, list[Any]]:
        """The INSERT of ``version`` and its parameters.

        ``hashes`` are the content and chain hashes; with ``chain_in_sql`` (a copy) they
        are instead the two halves of the chain text, which the statement joins around
        the copied content hash and hashes itself.
        """
        connection = connections[self.using]
        created_at = dt.datetime.fromtimestamp(version.timestamp, tz=dt.UTC)
        if not settings.USE_TZ:
            created_at = timezone.make_naive(created_at)
        params: list[Any] = [
            self.bot_config.pk,
            version.version,
            float(version.timestamp),
            connection.ops.adapt_datetimefield_value(created_at),
            version.reason,
            version.previous_version,
            version.created_by,
            self.user_id,
            json.dumps(version.metadata),
            *hashes,
        ]
        if copy_of is None:
            params.insert(2, encoded)
            return _insert_statement(self.using, copy=False), params
        statement = _insert_statement(self.using, copy=True, chain_in_sql=chain_in_sql)
        return statement, [*params, self.bot_config.pk, copy_of]

    def _execute_insert(
        self, number: int, sql: str, params: list[Any], *, returning: bool = False
    ) -> tuple[Any, ...] | None:
        """Run one INSERT; the row it returned (``returning``), or None if it wrote none.

        Without ``returning`` the row is ``()``. Only an INSERT ... SELECT of a version
        that does not exist writes nothing.
        """
        connection = connections[self.using]
        for attempt in range(_LOCK_RETRIES):
            try:
                with self._savepoint(connection), connection.cursor() as cursor:
                    cursor.execute(sql, params)
                    if returning:
                        row: tuple[Any, ...] | None = cursor.fetchone()
                        return row
                    return () if cursor.rowcount != 0 else None
            except IntegrityError:
                head = self._read_head(locking=_needs_locking_read(connection))
                if head is not None and head[0] >= number:
                    raise StoreConflict(head[0]) from None
                if not BotConfig.objects.using(self.using).filter(pk=self.bot_config.pk).exists():
                    raise ValueError("The bot config was deleted meanwhile.") from None
                raise
            except OperationalError as exc:
                if connection.in_atomic_block or not _is_transient_lock_error(connection, exc):
                    raise
                time.sleep(min(0.01 * (attempt + 1), 0.2))
                head = self._read_head()
                if head is not None and head[0] >= number:
                    raise StoreConflict(head[0]) from None
        raise OperationalError("The database stayed locked; the version was not written.")

    @staticmethod
    @contextmanager
    def _savepoint(connection: BaseDatabaseWrapper) -> Iterator[None]:
        # Inside the caller's transaction a failed INSERT must not poison it; in
        # autocommit the single statement is atomic on its own and needs no wrapper.
        if connection.in_atomic_block:
            with transaction.atomic(using=connection.alias):
                yield
        else:
            yield

    def _announce(self, version: ConfigVersion, copy_of: int | None) -> None:
        bot_config = self.bot_config
        transaction.on_commit(
            partial(
                signals.version_created.send,
                sender=BotConfig,
                bot_config=bot_config,
                version=version,
            ),
            using=self.using,
        )
        if copy_of is not None:
            transaction.on_commit(
                partial(
                    signals.config_rolled_back.send,
                    sender=BotConfig,
                    bot_config=bot_config,
                    version=version,
                    to_version=copy_of,
                ),
                using=self.using,
            )


_CHAINED_FIELDS = (*VERSION_FIELDS, "chain_hash")
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
def _select_sql(using: str, fields: tuple[str, ...], tail: str) -> str:
    qn = connections[using].ops.quote_name
    columns = ", ".join(qn(field) for field in fields)
    table = qn(BotConfigVersion._meta.db_table)
    where = f"WHERE {qn('bot_config_id')} = %s " + tail.format(version=qn("version"))
    return f"SELECT {columns} FROM {table} {where}"


_HEAD_ALIAS = "head_version_"


@lru_cache(maxsize=16)
def _bot_sql(using: str, *, joined: bool) -> str:
    """The SELECT of a BotConfig by slug, with its current version's fields if ``joined``.

    A raw query (Django still converts the model's columns) skips building and compiling
    a QuerySet on every request, which costs more than running the query.
    """
    qn = connections[using].ops.quote_name
    columns = [f"b.{qn(str(field.column))}" for field in BotConfig._meta.concrete_fields]
    source = f"{qn(BotConfig._meta.db_table)} b"
    if joined:
        columns += [f"v.{qn(field)} AS {qn(_HEAD_ALIAS + field)}" for field in VERSION_FIELDS]
        source += (
            f" LEFT JOIN {qn(BotConfigVersion._meta.db_table)} v"
            f" ON v.{qn('bot_config_id')} = b.{qn('id')}"
            f" AND v.{qn('version')} = b.{qn('current_version')}"
        )
    return f"SELECT {', '.join(columns)} FROM {source} WHERE b.{qn('slug')} = %s"


# The SHA-256 (hex) of a text, in the SQL of databases that can compute it.
_SQL_SHA256 = {
    "postgresql": "encode(sha256(convert_to({}, 'UTF8')), 'hex')",
    "sqlite": "SHA256({})",  # registered on every connection by Django's backend
}


@lru_cache(maxsize=16)
def _insert_statement(using: str, *, copy: bool, chain_in_sql: bool = False) -> str:
    """One INSERT of a version; ``copy`` takes the config from another stored version.

    A rollback copies the stored config inside the database: no decoding, no
    re-encoding and no megabytes over the wire. ``chain_in_sql`` also copies the content
    hash and computes the chain hash from it (see ``DatabaseStore._append_copy``), and
    returns the chain hash.
    """
    connection = connections[using]
    qn = connection.ops.quote_name
    table = qn(BotConfigVersion._meta.db_table)
    json_placeholder = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
    placeholders = {
        column: json_placeholder if column in _JSON_COLUMNS else "%s" for column in _INSERT_COLUMNS
    }
    column_sql = ", ".join(qn(column) for column in _INSERT_COLUMNS)
    if not copy:
        values = ", ".join(placeholders.values())
        return f"INSERT INTO {table} ({column_sql}) VALUES ({values})"
    placeholders["config"] = f"src.{qn('config')}"
    returning = ""
    if chain_in_sql:
        placeholders["content_hash"] = f"src.{qn('content_hash')}"
        text = f"%s || src.{qn('content_hash')} || %s"
        placeholders["chain_hash"] = _SQL_SHA256[connection.vendor].format(text)
        returning = f" RETURNING {qn('chain_hash')}"
    select = ", ".join(placeholders.values())
    return (
        f"INSERT INTO {table} ({column_sql}) SELECT {select} FROM {table} src "
        f"WHERE src.{qn('bot_config_id')} = %s AND src.{qn('version')} = %s{returning}"
    )


# Version numbers are PositiveIntegerField values: a larger int cannot be stored, and
# SQLite would refuse to even compare with one (OverflowError).
_MAX_VERSION = 2_147_483_647


def _is_version_number(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= _MAX_VERSION


def _json(value: Any) -> Any:
    # Raw cursors hand JSON columns over as text on every backend Django supports.
    return json.loads(value) if isinstance(value, str | bytes | bytearray) else value


def _version(row: tuple[Any, ...]) -> ConfigVersion:
    return ConfigVersion(
        version=row[0],
        config=_json(row[1]),
        timestamp=row[2],
        reason=row[3],
        previous_version=row[4],
        created_by=row[5],
        metadata=_json(row[6]) if row[6] is not None else {},
    )


def _needs_locking_read(connection: BaseDatabaseWrapper) -> bool:
    # InnoDB's REPEATABLE READ keeps showing a transaction its first snapshot; only a
    # locking read sees the version that beat us.
    return connection.vendor == "mysql" and connection.in_atomic_block


def _is_transient_lock_error(connection: BaseDatabaseWrapper, exc: DatabaseError) -> bool:
    if connection.vendor == "sqlite":
        return "locked" in str(exc) or "busy" in str(exc)
    if connection.vendor == "mysql":
        code = exc.args[0] if exc.args else None
        return code in (1205, 1213)
    return False
