"""DatabaseStore: a config's history in the site's database. Reads and appends only.

An append is one INSERT. The unique (bot_config, version) constraint is the
compare-and-set: a writer that did not see the newest version collides on its number
and is told the real head, and the manager retries or reports a conflict. A trigger
installed by migration 0002 keeps ``BotConfig.current_version`` in step inside the
same statement and refuses any UPDATE of a version row, so no code path (raw SQL
included) can rewrite history.

Reads go to ``router.db_for_read``, appends (and the reads an append needs) to
``router.db_for_write``, so a config loaded from a replica is never written there.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NamedTuple, ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import (
    DatabaseError,
    IntegrityError,
    OperationalError,
    connections,
    router,
    transaction,
)
from django.utils import timezone

from config_versions.core.errors import NoConfigError, StoreConflict, VersionNotFoundError
from config_versions.core.jsondata import GENESIS, chain_text_around, sha256_hex
from config_versions.core.jsondata import content_hash as config_content_hash
from config_versions.core.stores import StoreBase
from config_versions.core.version import VERSION_FIELDS, ConfigVersion
from config_versions.models import BotConfig, BotConfigVersion
from config_versions.statements import (
    CHAINED_FIELDS,
    MAX_VERSION,
    SQL_SHA256,
    insert_statement,
    is_version_number,
    json_value,
    select_sql,
    version_from_row,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
    from django.db.backends.base.base import BaseDatabaseWrapper

P = ParamSpec("P")
R = TypeVar("R")

# How often a write that hit a transient lock error (SQLite busy, MySQL deadlock) is tried.
_LOCK_RETRIES = 5


class _Head(NamedTuple):
    """What an append needs of the version it follows."""

    version: int
    chain_hash: str
    content_hash: str | None  # None: not known (a copy whose hash the database made)


class DatabaseStore(StoreBase):
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
        # ``using`` pins both (a test, a command run against one database).
        hints = {"instance": bot_config}
        self.read_db = using or router.db_for_read(BotConfigVersion, **hints)
        self.using = using or router.db_for_write(BotConfigVersion, **hints)
        # jsonb stores objects with its own key order; the JSON text of other backends
        # keeps the writer's.
        self.keeps_key_order = connections[self.using].vendor != "postgresql"
        # The newest version this object has seen.
        self._head: _Head | None = None

    # Reading -------------------------------------------------------------------

    def _rows(self) -> Any:
        return BotConfigVersion.objects.using(self.read_db).filter(bot_config_id=self.bot_config.pk)

    copies_in_place = True  # INSERT ... SELECT, see _append_copy

    def current_version(self) -> int:
        head = self._read_head()
        return head[0] if head else 0

    def last_known_version(self) -> int | None:
        return self._head.version if self._head else None

    def latest(self) -> ConfigVersion | None:
        rows = self._select(CHAINED_FIELDS, "ORDER BY {version} DESC LIMIT 1", db=self.using)
        if not rows:
            return None
        self._remember(rows[0][0], rows[0][-2], rows[0][-1])
        return version_from_row(rows[0])

    def latest_config(self) -> dict[str, Any] | None:
        rows = self._select(("config",), "ORDER BY {version} DESC LIMIT 1")
        config: dict[str, Any] | None = json_value(rows[0][0]) if rows else None
        return config

    def get(self, version: int) -> ConfigVersion | None:
        if not is_version_number(version):
            return None
        rows = self._select(VERSION_FIELDS, "AND {version} = %s", version)
        return version_from_row(rows[0]) if rows else None

    def content_hash(self, version: int) -> str | None:
        if not is_version_number(version):
            return None
        rows = self._select(("content_hash",), "AND {version} = %s", version, db=self.using)
        return str(rows[0][0]) if rows else None

    def history(self, *, limit: int | None, since_version: int | None) -> list[ConfigVersion]:
        tail, params = "", []
        if since_version is not None:
            if since_version >= MAX_VERSION:
                return []  # no version can come after it
            tail, params = "AND {version} > %s ", [since_version]
        tail += "ORDER BY {version} DESC"
        if limit is not None and limit < MAX_VERSION:  # a larger one limits nothing
            tail += " LIMIT %s"
            params.append(limit)
        return [version_from_row(row) for row in self._select(VERSION_FIELDS, tail, *params)]

    def _select(
        self, fields: tuple[str, ...], tail: str, *params: Any, db: str | None = None
    ) -> list[tuple[Any, ...]]:
        # The hot reads in plain SQL: building and compiling a QuerySet costs more than
        # running a one-row SELECT of a 5 KB config. ``db``: the write alias, for the
        # reads an append relies on.
        alias = db or self.read_db
        sql = select_sql(alias, fields, tail)
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, [self.bot_config.pk, *params])
            rows: list[tuple[Any, ...]] = cursor.fetchall()
        return rows

    def all_versions(self) -> list[ConfigVersion]:
        return [version_from_row(row) for row in self.iter_versions()]

    def iter_versions(self) -> Iterator[tuple[Any, ...]]:
        """Oldest first, streamed in chunks, for exports of long histories."""
        rows: Iterator[tuple[Any, ...]] = (
            self._rows().order_by("version").values_list(*VERSION_FIELDS).iterator(chunk_size=500)
        )
        return rows

    def count(self) -> int:
        return int(self._rows().count())

    def to_async(self, func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
        return sync_to_async(func, thread_sensitive=True)

    # Appending -----------------------------------------------------------------

    def append(
        self,
        version: ConfigVersion,
        *,
        encoded: str,
        copy_of: int | None = None,
        content_hash: str | None = None,
        unless_unchanged: bool = False,
    ) -> bool:
        previous_chain = self._previous_chain(version.version)
        unless = unless_unchanged and version.version > 1
        before, after = chain_text_around(
            previous_chain,
            version=version.version,
            timestamp=version.timestamp,
            reason=version.reason,
            previous_version=version.previous_version,
            created_by=version.created_by,
            metadata=version.metadata,
        )
        content: str | None
        if copy_of is not None and content_hash is None and not encoded:
            link, content = self._append_copy(version, copy_of, before, after, unless=unless)
        else:
            # Hash the canonical (sorted) form: key order is presentation, not content,
            # and PostgreSQL's jsonb does not keep it. The manager may bring the hash.
            content = content_hash or config_content_hash(version.config)
            link = sha256_hex(before + content + after)
            sql, params = self._insert_sql(
                version,
                encoded,
                (content, link),
                copy_of,
                unless=unless and not self._differs_from_head(content),
            )
            if self._execute_insert(version.version, sql, params) is None:
                self._require_source(copy_of)
                link = None  # nothing changed
        if link is None:
            return False
        self._remember(version.version, link, content)
        # What the trigger just did to the row, so callers need not read it back.
        self.bot_config.current_version = version.version
        self.bot_config.updated_at = _created_at(version.timestamp)
        return True

    def _append_copy(
        self, version: ConfigVersion, copy_of: int, before: str, after: str, *, unless: bool
    ) -> tuple[str | None, str | None]:
        """A copy the manager never read: config and content hash are copied in place.

        Where the database can hash (PostgreSQL, SQLite through the function Django
        registers), it also finishes the chain hash from the copied content hash: one
        statement in all. Elsewhere the content hash is read first. Returns the chain
        and content hashes written, (None, None) when nothing changed.
        """
        if not is_version_number(copy_of):
            raise VersionNotFoundError(copy_of)
        connection = connections[self.using]
        if connection.vendor in SQL_SHA256:
            sql, params = self._insert_sql(
                version, "", (before, after), copy_of, chain_in_sql=True, unless=unless
            )
            row = self._execute_insert(version.version, sql, params, returning=True)
            if row is None:
                self._require_source(copy_of)
                return None, None  # nothing changed
            return str(row[0]), str(row[1])
        content = self.content_hash(copy_of)
        if content is None:
            raise VersionNotFoundError(copy_of)
        link = sha256_hex(before + content + after)
        unless = unless and not self._differs_from_head(content)
        sql, params = self._insert_sql(version, "", (content, link), copy_of, unless=unless)
        if self._execute_insert(version.version, sql, params) is None:
            return None, None  # the source exists (its hash was just read): nothing changed
        return link, content

    def _require_source(self, copy_of: int | None) -> None:
        """After an INSERT that wrote no row: the copied version is missing, or nothing
        changed; raise in the first case."""
        if copy_of is not None and self.content_hash(copy_of) is None:
            raise VersionNotFoundError(copy_of)

    def _previous_chain(self, number: int) -> str:
        if number == 1:
            return GENESIS
        if self._head is None or self._head.version != number - 1:
            self._head = None
            head = self._read_head()
            if head is None or head.version != number - 1:
                raise StoreConflict(head.version if head else 0)
        assert self._head is not None
        return self._head.chain_hash

    def _differs_from_head(self, content: str) -> bool:
        """Whether ``content`` surely differs from the head an append is about to follow.

        Versions never change, so a head known by number is known by content: an append
        whose content differs from it needs no check in SQL. If the head moved on, the
        plain INSERT collides on the number and the manager tries again from the new
        head. Unknown content (None) or the same content: the statement checks.
        """
        head = self._head
        return head is not None and head.content_hash not in (None, content)

    def _read_head(self, *, locking: bool = False) -> _Head | None:
        tail = "ORDER BY {version} DESC LIMIT 1" + (" FOR UPDATE" if locking else "")
        rows = self._select(("version", "chain_hash", "content_hash"), tail, db=self.using)
        self._head = _Head(*rows[0]) if rows else None
        return self._head

    def _remember(self, number: int, link: str, content: str | None) -> None:
        if self._head is None or number >= self._head.version:
            self._head = _Head(number, link, content)

    def _insert_sql(
        self,
        version: ConfigVersion,
        encoded: str,
        hashes: tuple[str, str],
        copy_of: int | None,
        *,
        chain_in_sql: bool = False,
        unless: bool = False,
    ) -> tuple[str, list[Any]]:
        """The INSERT of ``version`` and its parameters.

        ``hashes`` are the content and chain hashes; with ``chain_in_sql`` (a copy) they
        are instead the two halves of the chain text, which the statement joins around
        the copied content hash and hashes itself. ``unless``: the statement writes no
        row if the version it follows is still the newest and holds the same content.
        """
        connection = connections[self.using]
        created_at = _created_at(version.timestamp)
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
        pk, number = self.bot_config.pk, version.version
        if copy_of is None:
            params.insert(2, encoded)
            statement = insert_statement(self.using, copy=False, unless=unless)
            if unless:
                params += [pk, number - 1, hashes[0], pk, number]
            return statement, params
        statement = insert_statement(
            self.using, copy=True, chain_in_sql=chain_in_sql, unless=unless
        )
        params += [pk, copy_of]
        if unless:
            params += [pk, number - 1, pk, number]
        return statement, params

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
                    raise NoConfigError("The bot config was deleted meanwhile.") from None
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


def _created_at(timestamp: float) -> dt.datetime:
    created_at = dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)
    return created_at if settings.USE_TZ else timezone.make_naive(created_at)


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
