"""The four contenders, each doing the same jobs the way its documentation says to.

Every contender records the same facts per version: the config, who (a user) and why (a
reason). Objects are "in hand" the way a view has them after loading the row: writes go
through a warm manager or instance, reads fetch the config from the database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import reversion
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.db import connection
from django.utils import timezone
from reversion.models import Revision, Version
from reversion.revisions import _get_options

from bench.benchapp.models import FloorBot, FloorVersion, HistoryBot, ReversionBot
from config_versions.core.manager import ConfigVersionManager
from config_versions.models import BotConfig, BotConfigVersion

# (number or id, when, who, why, config): what a history page shows per version.
Row = tuple[Any, Any, Any, Any, dict[str, Any]]


def _compact(config: dict[str, Any]) -> str:
    return json.dumps(config, separators=(",", ":"), ensure_ascii=False)


def _batch(configs: Sequence[dict[str, Any]]) -> int:
    # About 4 MB of config per bulk INSERT statement.
    return max(1, 4_000_000 // max(1, len(_compact(configs[0]))))


def _decoded(value: Any) -> Any:
    # Django hands raw cursors JSON as text on every backend; decode as a view would.
    return json.loads(value) if isinstance(value, str | bytes) else value


class Contender:
    key = ""
    label = ""

    def __init__(self, user: User) -> None:
        self.user = user

    def create(self, slug: str, config: dict[str, Any]) -> Any:
        raise NotImplementedError

    def update(self, obj: Any, config: dict[str, Any], reason: str) -> None:
        raise NotImplementedError

    def build(self, slug: str, configs: Sequence[dict[str, Any]]) -> Any:
        """An object whose versions carry ``configs``, oldest first ("Update n" reasons).

        The default writes through the contender's own path; the peers and the floor
        insert the very rows their own path would write in bulk, to set up long
        histories in seconds instead of minutes. Setting up is not what is measured.
        """
        obj = self.create(slug, configs[0])
        for number, config in enumerate(configs[1:], start=2):
            self.update(obj, config, f"Update {number}")
        return obj

    def read_current(self, obj: Any) -> dict[str, Any]:
        raise NotImplementedError

    def newest(self, obj: Any, count: int) -> list[Row]:
        raise NotImplementedError

    def rollback_to(self, obj: Any, number: int) -> None:
        """Make version ``number``'s config current again, as a new version."""
        raise NotImplementedError

    def count(self, obj: Any) -> int:
        raise NotImplementedError

    def history_tables(self) -> list[str]:
        """The tables holding this contender's history (their indexes count too)."""
        raise NotImplementedError


# config_versions -------------------------------------------------------------------


@dataclass
class Bot:
    bot: BotConfig
    manager: ConfigVersionManager


class ConfigVersions(Contender):
    key = "config_versions"
    label = "config_versions"

    def create(self, slug: str, config: dict[str, Any]) -> Bot:
        bot = BotConfig.objects.create(name=slug, slug=slug)
        manager = bot.get_version_manager(user=self.user)
        manager.create(config, created_by=self.user.username)
        return Bot(bot, manager)

    def update(self, obj: Bot, config: dict[str, Any], reason: str) -> None:
        obj.manager.update(config, reason=reason, created_by=self.user.username)

    def read_current(self, obj: Bot) -> dict[str, Any]:
        config = obj.bot.version_manager.current_config
        assert config is not None
        return config

    def newest(self, obj: Bot, count: int) -> list[Row]:
        return [
            (v.version, v.timestamp, v.created_by, v.reason, v.config)
            for v in obj.bot.version_manager.get_history(limit=count)
        ]

    def rollback_to(self, obj: Bot, number: int) -> None:
        obj.manager.rollback(number, created_by=self.user.username)

    def count(self, obj: Bot) -> int:
        return len(obj.bot.version_manager)

    def history_tables(self) -> list[str]:
        return [BotConfigVersion._meta.db_table]


# django-reversion ------------------------------------------------------------------


class Reversion(Contender):
    key = "reversion"
    label = "django-reversion"

    def create(self, slug: str, config: dict[str, Any]) -> ReversionBot:
        with reversion.create_revision():
            obj = ReversionBot.objects.create(name=slug, slug=slug, config=config)
            reversion.set_user(self.user)
            reversion.set_comment("Initial configuration")
        return obj

    def update(self, obj: ReversionBot, config: dict[str, Any], reason: str) -> None:
        with reversion.create_revision():
            obj.config = config
            obj.save()
            reversion.set_user(self.user)
            reversion.set_comment(reason)

    def build(self, slug: str, configs: Sequence[dict[str, Any]]) -> ReversionBot:
        # The rows create_revision() writes: a Revision, and a Version holding the
        # object serialized exactly as reversion serializes it.
        obj = self.create(slug, configs[0])
        options = _get_options(ReversionBot)
        content_type = ContentType.objects.get_for_model(ReversionBot)
        start = timezone.now()
        revisions = Revision.objects.bulk_create(
            [
                Revision(
                    date_created=start + dt.timedelta(microseconds=number),
                    user=self.user,
                    comment=f"Update {number}",
                )
                for number in range(2, len(configs) + 1)
            ],
            batch_size=1000,
        )
        versions = []
        for revision, config in zip(revisions, configs[1:], strict=True):
            obj.config = config
            obj.updated_at = revision.date_created
            versions.append(
                Version(
                    revision=revision,
                    content_type=content_type,
                    object_id=str(obj.pk),
                    db="default",
                    format=options.format,
                    serialized_data=serializers.serialize(
                        options.format, (obj,), fields=options.fields
                    ),
                    object_repr=str(obj),
                )
            )
        Version.objects.bulk_create(versions, batch_size=_batch(configs))
        ReversionBot.objects.filter(pk=obj.pk).update(config=obj.config, updated_at=obj.updated_at)
        return obj

    def read_current(self, obj: ReversionBot) -> dict[str, Any]:
        config: dict[str, Any] = ReversionBot.objects.get(pk=obj.pk).config
        return config

    def newest(self, obj: ReversionBot, count: int) -> list[Row]:
        versions = Version.objects.get_for_object(obj).select_related("revision")[:count]
        return [
            (
                v.pk,
                v.revision.date_created,
                v.revision.user_id,
                v.revision.comment,
                v.field_dict["config"],
            )
            for v in versions
        ]

    def rollback_to(self, obj: ReversionBot, number: int) -> None:
        # The documented revert: load the Version and save it back, inside a revision
        # so that the rollback is itself recorded.
        target = Version.objects.get_for_object(obj).order_by("pk")[number - 1]
        with reversion.create_revision():
            target.revert()
            reversion.set_user(self.user)
            reversion.set_comment(f"Rollback to version {number}")

    def count(self, obj: ReversionBot) -> int:
        return int(Version.objects.get_for_object(obj).count())

    def history_tables(self) -> list[str]:
        return ["reversion_revision", "reversion_version"]


# django-simple-history -------------------------------------------------------------


class SimpleHistory(Contender):
    key = "simple_history"
    label = "django-simple-history"

    def create(self, slug: str, config: dict[str, Any]) -> HistoryBot:
        obj = HistoryBot(name=slug, slug=slug, config=config)
        obj._change_reason = "Initial configuration"  # type: ignore[attr-defined]
        obj._history_user = self.user  # type: ignore[attr-defined]
        obj.save()
        return obj

    def update(self, obj: HistoryBot, config: dict[str, Any], reason: str) -> None:
        obj.config = config
        obj._change_reason = reason  # type: ignore[attr-defined]
        obj._history_user = self.user  # type: ignore[attr-defined]
        obj.save()

    def build(self, slug: str, configs: Sequence[dict[str, Any]]) -> HistoryBot:
        # The rows HistoricalRecords writes on save: a copy of every field plus the
        # history columns.
        obj = self.create(slug, configs[0])
        history = HistoryBot.history.model  # type: ignore[attr-defined]
        start = when = timezone.now()
        rows = []
        for number, config in enumerate(configs[1:], start=2):
            when = start + dt.timedelta(microseconds=number)
            fields = {f.attname: getattr(obj, f.attname) for f in HistoryBot._meta.fields}
            fields.update(config=config, updated_at=when)
            rows.append(
                history(
                    **fields,
                    history_date=when,
                    history_type="~",
                    history_user=self.user,
                    history_change_reason=f"Update {number}",
                )
            )
        history.objects.bulk_create(rows, batch_size=_batch(configs))
        obj.config = configs[-1]
        HistoryBot.objects.filter(pk=obj.pk).update(config=obj.config, updated_at=when)
        return obj

    def read_current(self, obj: HistoryBot) -> dict[str, Any]:
        config: dict[str, Any] = HistoryBot.objects.get(pk=obj.pk).config
        return config

    def newest(self, obj: HistoryBot, count: int) -> list[Row]:
        return [
            (h.history_id, h.history_date, h.history_user_id, h.history_change_reason, h.config)
            for h in obj.history.all()[:count]  # type: ignore[attr-defined]
        ]

    def rollback_to(self, obj: HistoryBot, number: int) -> None:
        # The documented revert (what its admin's "Revert" does): save the record's instance.
        history = obj.history.order_by("history_date", "history_id")  # type: ignore[attr-defined]
        instance = history[number - 1].instance
        instance._change_reason = f"Rollback to version {number}"
        instance._history_user = self.user
        instance.save()

    def count(self, obj: HistoryBot) -> int:
        return int(obj.history.count())  # type: ignore[attr-defined]

    def history_tables(self) -> list[str]:
        return [HistoryBot.history.model._meta.db_table]  # type: ignore[attr-defined]


# The raw-SQL floor -----------------------------------------------------------------


@dataclass
class FloorHead:
    bot_id: int
    version: int
    chain: str


class Floor(Contender):
    """One INSERT per version through the cursor: what the database itself allows.

    It stores the same columns with values of the same size (two SHA-256 digests from
    hashlib), keeps its head in hand and checks nothing, so it is the lower bound.
    """

    key = "floor"
    label = "raw SQL floor"

    def __init__(self, user: User) -> None:
        super().__init__(user)
        qn = connection.ops.quote_name
        self.table = qn(FloorVersion._meta.db_table)
        cast = "::json" if connection.vendor == "postgresql" else ""
        self.columns = (
            "bot_id, version, config, timestamp, created_at, reason, previous_version, "
            "created_by, created_by_user_id, metadata, content_hash, chain_hash"
        )
        self.insert_sql = (
            f"INSERT INTO {self.table} ({self.columns}) "
            f"VALUES (%s, %s, %s{cast}, %s, %s, %s, %s, %s, %s, %s{cast}, %s, %s)"
        )
        self.copy_sql = (
            f"INSERT INTO {self.table} ({self.columns}) "
            f"SELECT %s, %s, src.config, %s, %s, %s, %s, %s, %s, %s{cast}, src.content_hash, %s "
            f"FROM {self.table} src WHERE src.bot_id = %s AND src.version = %s"
        )
        self.current_sql = (
            f"SELECT config FROM {self.table} WHERE bot_id = %s ORDER BY version DESC LIMIT 1"
        )
        self.newest_sql = (
            f"SELECT version, config, timestamp, reason, previous_version, created_by, metadata "
            f"FROM {self.table} WHERE bot_id = %s ORDER BY version DESC LIMIT %s"
        )

    def _stamp(self) -> tuple[float, Any]:
        now = time.time()
        when = dt.datetime.fromtimestamp(now, tz=dt.UTC)
        return now, connection.ops.adapt_datetimefield_value(when)

    def create(self, slug: str, config: dict[str, Any]) -> FloorHead:
        bot = FloorBot.objects.create(name=slug, slug=slug)
        head = FloorHead(bot.pk, 0, "")
        self._insert(head, config, "Initial configuration")
        return head

    def build(self, slug: str, configs: Sequence[dict[str, Any]]) -> FloorHead:
        head = self.create(slug, configs[0])
        rows = [
            self._row(head, config, f"Update {number}")
            for number, config in enumerate(configs[1:], start=2)
        ]
        size = _batch(configs)
        with connection.cursor() as cursor:
            for first in range(0, len(rows), size):
                cursor.executemany(self.insert_sql, rows[first : first + size])
        return head

    def _insert(self, head: FloorHead, config: dict[str, Any], reason: str) -> None:
        params = self._row(head, config, reason)
        with connection.cursor() as cursor:
            cursor.execute(self.insert_sql, params)

    def _row(self, head: FloorHead, config: dict[str, Any], reason: str) -> list[Any]:
        """The next row's parameters; moves ``head`` on."""
        encoded = _compact(config)
        content = hashlib.sha256(encoded.encode()).hexdigest()
        chain = hashlib.sha256((head.chain + content).encode()).hexdigest()
        number = head.version + 1
        now, created_at = self._stamp()
        params = [
            head.bot_id,
            number,
            encoded,
            now,
            created_at,
            reason,
            head.version or None,
            self.user.username,
            self.user.pk,
            "{}",
            content,
            chain,
        ]
        head.version, head.chain = number, chain
        return params

    def update(self, obj: FloorHead, config: dict[str, Any], reason: str) -> None:
        self._insert(obj, config, reason)

    def read_current(self, obj: FloorHead) -> dict[str, Any]:
        with connection.cursor() as cursor:
            cursor.execute(self.current_sql, [obj.bot_id])
            row = cursor.fetchone()
        config: dict[str, Any] = _decoded(row[0])
        return config

    def newest(self, obj: FloorHead, count: int) -> list[Row]:
        with connection.cursor() as cursor:
            cursor.execute(self.newest_sql, [obj.bot_id, count])
            rows = cursor.fetchall()
        return [_floor_row(*row) for row in rows]

    def rollback_to(self, obj: FloorHead, target: int) -> None:
        number = obj.version + 1
        chain = hashlib.sha256(f"{obj.chain}{number}".encode()).hexdigest()
        now, created_at = self._stamp()
        metadata = json.dumps({"rollback_from": obj.version, "rollback_to": target})
        params = [
            obj.bot_id,
            number,
            now,
            created_at,
            f"Rollback to version {target}",
            obj.version,
            self.user.username,
            self.user.pk,
            metadata,
            chain,
            obj.bot_id,
            target,
        ]
        with connection.cursor() as cursor:
            cursor.execute(self.copy_sql, params)
        obj.version, obj.chain = number, chain

    def count(self, obj: FloorHead) -> int:
        return int(FloorVersion.objects.filter(bot_id=obj.bot_id).count())

    def history_tables(self) -> list[str]:
        return [FloorVersion._meta.db_table]


def _floor_row(
    number: int, config: Any, stamp: float, why: str, _prev: Any, who: str, meta: Any
) -> Row:
    # The metadata is decoded like config_versions decodes it, though no column shows it.
    _decoded(meta)
    return (number, stamp, who, why, _decoded(config))


CONTENDERS: tuple[type[Contender], ...] = (Floor, ConfigVersions, SimpleHistory, Reversion)
