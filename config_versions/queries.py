"""The read queries the API (and later delivery) share: a config by slug, with its head.

Raw SQL, precompiled per database: building and compiling a QuerySet on every poll
costs more than running the one-row query. Django still converts the model's columns.
"""

from __future__ import annotations

from functools import lru_cache

from django.db import connections

from config_versions.core.version import VERSION_FIELDS, ConfigVersion
from config_versions.models import BotConfig, BotConfigVersion
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
