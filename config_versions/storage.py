"""DatabaseStore: a config's history in the site's database. Reads and appends only.

An append is one INSERT ... SELECT from the config's row, which it locks, written only
if the config's ``current_version`` is still the version the new one follows: a writer
that did not see the newest version writes nothing and is told the real head. A writer
who lost that race waits its turn in :meth:`DatabaseStore.serialized` (the config's row
lock, held for one read of the head and one append), so no writer ever gives up because
others write. Triggers (migration 0006) keep ``BotConfig.current_version`` in step
inside the same statement, refuse any UPDATE of a version row and any DELETE but a
purge's, so no code path (raw SQL included) can rewrite history.

Reads go to ``router.db_for_read``, appends (and the reads an append needs) to
``router.db_for_write``, so a config loaded from a replica is never written there.

Long because an append is one atomic statement whose outcomes (written, unchanged,
head moved, archived, deleted, copied version missing, connection lost after the
commit) the store must tell apart itself, next to the reads that share its SQL.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple, ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.db import (
    DatabaseError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    connections,
    router,
    transaction,
)

from config_versions.conf import settings as cv_settings
from config_versions.core.errors import (
    ConfigArchivedError,
    NoConfigError,
    StoreConflict,
    VersionNotFoundError,
)
from config_versions.core.jsondata import GENESIS, chain_text_around, sha256_hex
from config_versions.core.jsondata import content_hash as config_content_hash
from config_versions.core.signing import sign_chain_hash
from config_versions.core.stores import StoreBase
from config_versions.core.version import VERSION_FIELDS, ConfigVersion
from config_versions.label_storage import DatabaseLabels
from config_versions.models import BotConfig, BotConfigVersion
from config_versions.proposal_storage import DatabaseProposals
from config_versions.statements import (
    CHAINED_FIELDS,
    MAX_VERSION,
    SQL_SHA256,
    config_state_sql,
    created_at,
    insert_statement,
    is_version_number,
    json_value,
    select_sql,
    take_write_lock_sql,
    version_from_row,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
    from django.db.backends.base.base import BaseDatabaseWrapper

P = ParamSpec("P")
R = TypeVar("R")


class _Head(NamedTuple):
    """What an append needs of the version it follows."""

    version: int
    chain_hash: str | None  # None: not read; an append under the lock reads it in SQL
    content_hash: str | None  # None: not known (a copy whose hash the database made)


class DatabaseStore(DatabaseLabels, DatabaseProposals, StoreBase):
    """The history of one BotConfig, read and appended with a query or two each; its
    label moves come from ``DatabaseLabels``, its proposals from ``DatabaseProposals``."""

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
        # The newest version this object has seen.
        self._head: _Head | None = None
        # Inside serialized(): appends need no lock of their own.
        self._serializing = False
        # How to tell whether what serialized() wrote (a version or a label move) was
        # committed after all, should its COMMIT fail.
        self._landed: Callable[[], bool] | None = None

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

    serializes_writers = True

    @contextmanager
    def serialized(self) -> Iterator[int]:
        """Hold every other writer of this config off until the block ends.

        One transaction that first locks the config's row (SQLite: takes the database's
        write lock), then reads the head; yields its number. Appends always lock that
        row first too (see ``statements.insert_statement``), so inside the block an
        append cannot lose its number, and waiting writers are served in turn.
        """
        connection = connections[self.using]
        outermost = not connection.in_atomic_block
        self._landed = None
        block_done = False
        try:
            with transaction.atomic(using=self.using):
                yield from self._serialized_block(connection)
                block_done = True
        except (OperationalError, InterfaceError):
            # The block ran and only the COMMIT failed: the connection may have been lost
            # after the server committed. A version that landed is a success.
            landed = self._landed
            if not (block_done and outermost and landed is not None):
                raise
            if not landed():
                raise

    def _serialized_block(self, connection: BaseDatabaseWrapper) -> Iterator[int]:
        """Lock the config, check it may be written, and yield its head's number."""
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute(take_write_lock_sql(self.using), [self.bot_config.pk])
            cursor.execute(config_state_sql(self.using, locking=True), [self.bot_config.pk])
            state = cursor.fetchone()
        if state is None:
            raise NoConfigError("The bot config was deleted meanwhile.")
        if state[1] is not None:
            raise ConfigArchivedError()
        self._serializing = True
        try:
            # Versions never change: a head already known by number needs no read.
            # Where the database can hash, the append reads it in its own statement.
            if self._head is None or self._head.version != state[0]:
                if self._chain_in_sql() and state[0] > 0:
                    self._head = _Head(state[0], None, None)
                else:
                    self._read_head(locking=connection.vendor == "mysql")
            yield self._head.version if self._head else 0
        finally:
            self._serializing = False

    def _chain_in_sql(self) -> bool:
        # Not with a signing key: a signature needs the chain hash before the INSERT.
        return connections[self.using].vendor in SQL_SHA256 and not cv_settings.SIGNING_KEY

    def append(
        self,
        version: ConfigVersion,
        *,
        encoded: str,
        copy_of: int | None = None,
        content_hash: str | None = None,
        unless_unchanged: bool = False,
    ) -> bool:
        if not self._serializing and connections[self.using].vendor == "mysql":
            # No one-statement append there (see statements._mysql_insert).
            with self.serialized() as current:
                if current != version.version - 1:
                    raise StoreConflict(current)
                return self.append(
                    version,
                    encoded=encoded,
                    copy_of=copy_of,
                    content_hash=content_hash,
                    unless_unchanged=unless_unchanged,
                )
        previous_chain = self._previous_chain(version.version)
        unless = unless_unchanged and version.version > 1
        before, after = chain_text_around(
            previous_chain or GENESIS,
            version=version.version,
            timestamp=version.timestamp,
            reason=version.reason,
            previous_version=version.previous_version,
            created_by=version.created_by,
            metadata=version.metadata,
        )
        key = cv_settings.SIGNING_KEY
        content: str | None
        if copy_of is not None and content_hash is None and not encoded:
            link, content = self._append_copy(
                version,
                copy_of,
                None if previous_chain is None else before,
                after,
                unless=unless,
                key=key,
            )
        elif previous_chain is None:  # under the lock: the statement reads the head
            content = content_hash or config_content_hash(version.config)
            sql, params = self._insert_sql(
                version,
                encoded,
                (content, content, after),
                copy_of,
                unless=unless,
                previous_in_sql=True,
            )
            row = self._execute_insert(
                version,
                sql,
                params,
                copy_of=copy_of,
                unless=unless,
                content=content,
                returning=True,
            )
            link = None if row is None else str(row[0])
        else:
            # Hash the canonical (sorted) form: key order is presentation, not content.
            # The manager may bring the hash.
            content = content_hash or config_content_hash(version.config)
            link = sha256_hex(before + content + after)
            unless = unless and not self._differs_from_head(content)
            sql, params = self._insert_sql(
                version,
                encoded,
                (content, link),
                copy_of,
                signature=sign_chain_hash(key, link) if key else None,
                unless=unless,
            )
            written = self._execute_insert(
                version, sql, params, copy_of=copy_of, unless=unless, content=content
            )
            if written is None:
                link = None  # nothing changed
        if link is None:
            return False
        self._remember(version.version, link, content)
        self._landed = partial(self._landed_after_error, connections[self.using], version)
        # What the trigger just did to the row, so callers need not read it back.
        self.bot_config.current_version = version.version
        self.bot_config.updated_at = created_at(version.timestamp)
        return True

    def _append_copy(
        self,
        version: ConfigVersion,
        copy_of: int,
        before: str | None,
        after: str,
        *,
        unless: bool,
        key: str | None,
    ) -> tuple[str | None, str | None]:
        """A copy the manager never read: config and content hash are copied in place.

        Where the database can hash (PostgreSQL, SQLite through the function Django
        registers), it also finishes the chain hash from the copied content hash: one
        statement in all. Elsewhere, and when versions are signed (the key never goes
        to the database), the content hash is read first. ``before`` None: the
        statement reads the previous chain hash too (under the lock, see serialized).
        Returns the chain and content hashes written, (None, None) when nothing changed.
        """
        if not is_version_number(copy_of):
            raise VersionNotFoundError(copy_of)
        if self._chain_in_sql():
            hashes = (after,) if before is None else (before, after)
            sql, params = self._insert_sql(
                version,
                "",
                hashes,
                copy_of,
                chain_in_sql=before is not None,
                previous_in_sql=before is None,
                unless=unless,
            )
            row = self._execute_insert(
                version, sql, params, copy_of=copy_of, unless=unless, returning=True
            )
            if row is None:
                return None, None  # nothing changed
            return str(row[0]), str(row[1])
        content = self.content_hash(copy_of)
        if content is None:
            raise VersionNotFoundError(copy_of)
        assert before is not None  # only where the database cannot hash: see serialized
        link = sha256_hex(before + content + after)
        unless = unless and not self._differs_from_head(content)
        signature = sign_chain_hash(key, link) if key else None
        sql, params = self._insert_sql(
            version, "", (content, link), copy_of, signature=signature, unless=unless
        )
        if (
            self._execute_insert(
                version, sql, params, copy_of=copy_of, unless=unless, content=content
            )
            is None
        ):
            return None, None  # nothing changed
        return link, content

    def _previous_chain(self, number: int) -> str | None:
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
        append writes nothing and says so. Unknown content (None) or the same content:
        the statement checks.
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
        hashes: tuple[str, ...],
        copy_of: int | None,
        *,
        signature: str | None = None,
        chain_in_sql: bool = False,
        previous_in_sql: bool = False,
        unless: bool = False,
    ) -> tuple[str, list[Any]]:
        """The INSERT of ``version`` and its parameters.

        ``hashes`` are the content and chain hashes; with ``chain_in_sql`` (a copy) they
        are instead the two halves of the chain text, which the statement joins around
        the copied content hash and hashes itself. ``unless``: the statement writes no
        row if the version it follows holds the same content.
        """
        connection = connections[self.using]
        written_at = created_at(version.timestamp)
        params: list[Any] = [
            self.bot_config.pk,
            version.version,
            float(version.timestamp),
            connection.ops.adapt_datetimefield_value(written_at),
            version.reason,
            version.previous_version,
            version.created_by,
            self.user_id,
            json.dumps(version.metadata),
            *hashes,
            signature,
        ]
        pk, number = self.bot_config.pk, version.version
        mysql = connection.vendor == "mysql"  # no lock in the statement: see serialized()
        if copy_of is None:
            params.insert(2, encoded)
            if not mysql:
                params += [pk, number - 1]
        else:
            params += [pk, copy_of] if mysql else [pk, copy_of, number - 1]
        if unless:
            params += [pk, number - 1]
            if copy_of is None:
                params.append(hashes[0])
        statement = insert_statement(
            self.using,
            copy=copy_of is not None,
            chain_in_sql=chain_in_sql,
            previous_in_sql=previous_in_sql,
            unless=unless,
        )
        return statement, params

    def _execute_insert(
        self,
        version: ConfigVersion,
        sql: str,
        params: list[Any],
        *,
        copy_of: int | None,
        unless: bool,
        content: str | None = None,
        returning: bool = False,
    ) -> tuple[Any, ...] | None:
        """Run one INSERT; the row it returned (``returning``, else ``()``), or None if it
        wrote none because nothing changed.

        A statement that wrote no row for another reason raises what that reason is:
        the head moved on or another writer holds the config's row (StoreConflict: the
        manager then waits in ``serialized``), the config was archived or deleted, the
        copied version does not exist. Outside ``serialized``, an append that could not
        be a no-op and wrote nothing goes there without asking why (``serialized``
        checks). A connection lost while the statement ran is checked: if the version
        landed anyway, that is a success, not an error.
        """
        connection = connections[self.using]
        try:
            with self._savepoint(connection), connection.cursor() as cursor:
                cursor.execute(sql, params)
                row: tuple[Any, ...] | None = cursor.fetchone() if returning else ()
                if not returning and cursor.rowcount == 0:
                    row = None
        except IntegrityError:
            # Only a writer that does not lock the config first (an import, raw SQL)
            # can take the number: report the head it reached.
            self._why_not_written(version.version, copy_of, None)
            raise
        except OperationalError as exc:
            if _is_archived_refusal(exc):
                raise ConfigArchivedError() from None
            if not connection.in_atomic_block and _is_transient_lock_error(connection, exc):
                head = self._read_head()
                raise StoreConflict(head.version if head else 0) from None
            if self._landed_after_error(connection, version):
                return ()
            raise
        except InterfaceError:
            if self._landed_after_error(connection, version):
                return ()
            raise
        if row is None:
            if not (unless or self._serializing):
                raise StoreConflict(version.version - 1)
            self._why_not_written(version.version, copy_of, content if unless else None)
        return row

    def _why_not_written(self, number: int, copy_of: int | None, unchanged: str | None) -> None:
        """Raise why an append of version ``number`` wrote no row; return if it was a
        no-op: ``unchanged`` is the content hash it would have written (the copied
        version's when None and ``copy_of`` is given), if it could be one."""
        connection = connections[self.using]
        sql = config_state_sql(
            self.using, locking=_needs_locking_read(connection), hashes_of=copy_of is not None
        )
        params: list[Any] = [number - 1]
        if copy_of is not None:
            params.append(copy_of)
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, self.bot_config.pk])
            state = cursor.fetchone()
        if state is None:
            raise NoConfigError("The bot config was deleted meanwhile.")
        current, archived, head_hash = state[0], state[1], state[2]
        if archived is not None:
            raise ConfigArchivedError()
        if current != number - 1:
            self._head = None
            raise StoreConflict(int(current))
        if copy_of is not None:
            if state[3] is None:
                raise VersionNotFoundError(copy_of)
            unchanged = unchanged or state[3]
        if unchanged is not None and head_hash == unchanged:
            return  # a no-op
        # Another writer held the config's row (SKIP LOCKED): wait for it.
        raise StoreConflict(int(current))

    def _landed_after_error(self, connection: BaseDatabaseWrapper, version: ConfigVersion) -> bool:
        """After the connection failed during an append outside a transaction: whether
        the version was committed all the same (the COMMIT may reach the server and
        its answer be lost). Asked on a new connection; False if that fails too."""
        if connection.in_atomic_block:
            return False
        connection.close()
        try:
            rows = self._select(
                ("timestamp", "reason", "created_by"),
                "AND {version} = %s",
                version.version,
                db=self.using,
            )
        except DatabaseError:
            return False
        return bool(rows) and tuple(rows[0]) == (
            float(version.timestamp),
            version.reason,
            version.created_by,
        )

    @contextmanager
    def _savepoint(self, connection: BaseDatabaseWrapper) -> Iterator[None]:
        # Inside the caller's transaction a failed INSERT must not poison it; in
        # autocommit the single statement is atomic on its own and needs no wrapper,
        # and inside serialized() a failure ends the transaction anyway.
        if connection.in_atomic_block and not self._serializing:
            with transaction.atomic(using=connection.alias):
                yield
        else:
            yield


def _needs_locking_read(connection: BaseDatabaseWrapper) -> bool:
    # InnoDB's REPEATABLE READ keeps showing a transaction its first snapshot; only a
    # locking read sees the version that beat us.
    return connection.vendor == "mysql" and connection.in_atomic_block


def _is_archived_refusal(exc: DatabaseError) -> bool:
    # MySQL/MariaDB: the insert trigger of migration 0006 refuses archived configs.
    return "config_versions: the config is archived" in str(exc)


def _is_transient_lock_error(connection: BaseDatabaseWrapper, exc: DatabaseError) -> bool:
    if connection.vendor == "sqlite":
        return "locked" in str(exc) or "busy" in str(exc)
    if connection.vendor == "mysql":
        code = exc.args[0] if exc.args else None
        return code in (1205, 1213)
    return False
