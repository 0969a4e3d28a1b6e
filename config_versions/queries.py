"""The read queries the API (and later delivery) share: a config by slug, with its head
or with the version one of its labels points at (now, or at a past time).

Raw SQL, precompiled per database: building and compiling a QuerySet on every poll
costs more than running the one-row query. Django still converts the model's columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.db import connections

from config_versions.core.labels import LATEST
from config_versions.core.version import VERSION_FIELDS, ConfigVersion
from config_versions.models import BotConfig, BotConfigLabelMove, BotConfigVersion
from config_versions.statements import version_from_row


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
    return bot, (version_from_row(current) if current[0] is not None else None)


_HEAD_ALIAS = "head_version_"


@lru_cache(maxsize=16)
def _bot_sql(using: str, *, joined: bool) -> str:
    """The SELECT of a BotConfig by slug, with its current version's fields if ``joined``."""
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


@dataclass(frozen=True)
class LabelRead:
    """What a label of a config serves: the config row, the version the label points
    at (None while it is not set, or was not at the time asked) and the move that
    pointed it there (``sequence``; None for ``latest``, which no move points).

    The version's config is decoded only when asked for (:meth:`config_version`): a
    conditional GET answered 304 never decodes it.
    """

    bot: BotConfig
    version: int | None
    sequence: int | None
    row: tuple[Any, ...] | None
    # When the label moved there (its move's timestamp); for ``latest``, when the
    # version was written. None while nothing is served.
    since: float | None = None

    def config_version(self) -> ConfigVersion | None:
        return None if self.row is None else version_from_row(self.row)


def load_label(
    slug: str, label: str, *, as_of: float | None = None, using: str = "default"
) -> LabelRead | None:
    """The BotConfig with ``slug``, where ``label`` points (pointed at Unix time
    ``as_of``) and that version's fields, together in one query. None if there is no
    such config.

    ``label`` must be a checked name (``releases.check_declared``). Where a label
    points is its last move, by then: the one with the highest sequence (of those
    with a timestamp <= ``as_of``). ``latest`` as of a time is the newest version
    written by then.
    """
    params: list[Any] = [] if label == LATEST else [label]
    params += [slug] if as_of is None else [as_of, slug]
    if label == LATEST and as_of is None:
        sql = _bot_sql(using, joined=True)
    else:
        sql = _label_sql(using, latest=label == LATEST, dated=as_of is not None)
    bot = next(iter(BotConfig.objects.using(using).raw(sql, params)), None)
    if bot is None:
        return None
    sequence = bot.__dict__.pop(_MOVE_ALIAS, None)
    moved = bot.__dict__.pop(_MOVED_ALIAS, None)
    values = tuple(bot.__dict__.pop(_HEAD_ALIAS + field) for field in VERSION_FIELDS)
    if values[0] is None:  # not set (then), or no version (yet)
        return LabelRead(bot, None, None, None)
    since = values[VERSION_FIELDS.index("timestamp")] if moved is None else moved
    return LabelRead(bot, values[0], sequence, values, float(since))


_MOVE_ALIAS = "label_move_sequence"
_MOVED_ALIAS = "label_move_timestamp"


@lru_cache(maxsize=16)
def _label_sql(using: str, *, latest: bool, dated: bool) -> str:
    """The SELECT of a BotConfig by slug with the version a label points at.

    A label (parameters: label, [as_of,] slug): its last move (by then) is found by
    the (config, label, sequence) index, and the version by the (config, version) one.
    ``latest`` as of a time (parameters: as_of, slug): the newest version by then.
    """
    qn = connections[using].ops.quote_name
    versions = qn(BotConfigVersion._meta.db_table)
    moves = qn(BotConfigLabelMove._meta.db_table)
    bot_id, config_id = f"b.{qn('id')}", qn("bot_config_id")
    columns = [f"b.{qn(str(field.column))}" for field in BotConfig._meta.concrete_fields]
    columns += [f"v.{qn(field)} AS {qn(_HEAD_ALIAS + field)}" for field in VERSION_FIELDS]
    source = f"{qn(BotConfig._meta.db_table)} b"
    by_then = f" AND x.{qn('timestamp')} <= %s" if dated else ""
    if latest:
        newest = (
            f"SELECT MAX(x.{qn('version')}) FROM {versions} x"
            f" WHERE x.{config_id} = {bot_id}{by_then}"
        )
        source += (
            f" LEFT JOIN {versions} v"
            f" ON v.{config_id} = {bot_id} AND v.{qn('version')} = ({newest})"
        )
    else:
        columns.append(f"m.{qn('sequence')} AS {qn(_MOVE_ALIAS)}")
        columns.append(f"m.{qn('timestamp')} AS {qn(_MOVED_ALIAS)}")
        last = (
            f"SELECT MAX(x.{qn('sequence')}) FROM {moves} x"
            f" WHERE x.{config_id} = {bot_id} AND x.{qn('label')} = %s{by_then}"
        )
        source += (
            f" LEFT JOIN {moves} m ON m.{config_id} = {bot_id} AND m.{qn('sequence')} = ({last})"
            f" LEFT JOIN {versions} v ON v.{config_id} = {bot_id}"
            f" AND v.{qn('version')} = m.{qn('to_version')}"
        )
    return f"SELECT {', '.join(columns)} FROM {source} WHERE b.{qn('slug')} = %s"
