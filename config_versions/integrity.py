"""Recomputes the hash chain of a config's history to prove nobody edited it."""

from __future__ import annotations

from dataclasses import dataclass

from config_versions.core.jsondata import GENESIS, chain_hash, content_hash
from config_versions.core.version import VERSION_FIELDS
from config_versions.models import BotConfig


@dataclass(frozen=True)
class Break:
    """The first place where the recorded history no longer matches its hashes."""

    slug: str
    version: int
    problem: str

    def __str__(self) -> str:
        return f"{self.slug}: version {self.version}: {self.problem}"


def verify_history(bot_config: BotConfig) -> Break | None:
    """None if every version still hashes to what was recorded when it was written."""
    previous = GENESIS
    expected_number = 1
    rows = (
        bot_config.versions.order_by("version")
        .values_list(*VERSION_FIELDS, "content_hash", "chain_hash")
        .iterator(chunk_size=500)
    )
    for number, config, timestamp, reason, prev, created_by, metadata, content, link in rows:
        if number != expected_number:
            return Break(bot_config.slug, expected_number, f"missing (found {number} next)")
        if content_hash(config) != content:
            return Break(bot_config.slug, number, "the config does not match its content hash")
        recomputed = chain_hash(
            previous,
            content,
            version=number,
            timestamp=timestamp,
            reason=reason,
            previous_version=prev,
            created_by=created_by,
            metadata=metadata or {},
        )
        if recomputed != link:
            return Break(
                bot_config.slug,
                number,
                "its recorded fields or an earlier version do not match the chain hash",
            )
        previous = link
        expected_number += 1
    if expected_number - 1 != bot_config.current_version:
        return Break(
            bot_config.slug,
            bot_config.current_version,
            f"current_version is {bot_config.current_version} but the history ends at "
            f"{expected_number - 1}",
        )
    return None
