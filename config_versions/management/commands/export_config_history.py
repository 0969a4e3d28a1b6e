"""export_config_history: a config's whole history as evidence.

Format ``config_versions.history/2``: the ``ConfigVersionManager.to_dict()`` shape (every
recorded field of every version) plus the config's slug, name, description and schema,
each version's ``content_hash`` and ``chain_hash`` (and ``signature`` when it has one),
and the head: ``current_version`` and ``chain_hash``, the newest version's. Whoever gets
the file can recompute every hash; ``import_config_history`` does, and refuses a file
edited, reordered or cut. Versions are streamed a page at a time, so memory stays the
same for ten versions or a hundred thousand.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from config_versions.core.jsondata import GENESIS
from config_versions.integrity import ChainChecker, stored_rows
from config_versions.models import BotConfig, BotConfigVersion

FORMAT = "config_versions.history/2"


class Command(BaseCommand):
    help = (
        "Write a config's whole history as JSON (format config_versions.history/2): every "
        "recorded field of every version with its content and chain hashes, the head's "
        "chain hash, and the config's slug, name, description and schema."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="Slug of the bot config to export.")
        parser.add_argument("--output", "-o", default="-", help="File to write; - for stdout.")

    def handle(self, *args: Any, slug: str, output: str, **options: Any) -> None:
        try:
            bot = BotConfig.objects.get(slug=slug)
        except BotConfig.DoesNotExist:
            raise CommandError(f"No bot config with slug {slug!r}.") from None
        if output == "-":
            checker = export_history(bot, lambda text: self.stdout.write(text, ending=""))
        else:
            checker = self._to_file(bot, output)
            self.stderr.write(f"Exported {checker.rows} version(s) of {slug!r} to {output}.")
        if checker.breaks:
            self.stderr.write(
                f"Warning: the history does not verify ({checker.breaks[0]}); the export "
                "shows it as stored, and import_config_history will refuse it."
            )

    @staticmethod
    def _to_file(bot: BotConfig, output: str) -> ChainChecker:
        # Written beside the target and renamed: a failure leaves no half file behind.
        target = Path(output)
        try:
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as out:
                    checker = export_history(bot, out.write)
                os.replace(temporary, target)
            except BaseException:
                os.unlink(temporary)
                raise
        except OSError as exc:
            raise CommandError(f"Cannot write {output}: {exc.strerror}.") from None
        return checker


def export_history(bot: BotConfig, write: Callable[[str], Any]) -> ChainChecker:
    """Write ``bot``'s history to ``write`` as a history/2 document; the checker that
    recomputed its hashes on the way (its ``breaks`` say whether it verifies).

    The text is what ``json.dump(document, indent=2)`` would write, produced a version
    at a time. Only versions up to the ``current_version`` read first are written, so a
    version appended meanwhile cannot make the head and the versions disagree.
    """
    current = bot.current_version
    head = (
        BotConfigVersion.objects.using(bot._state.db)
        .filter(bot_config_id=bot.pk, version=current)
        .values_list("chain_hash", flat=True)
        .first()
    )
    header: dict[str, Any] = {
        "format": FORMAT,
        "slug": bot.slug,
        "name": bot.name,
        "description": bot.description,
        "schema": bot.schema,
        "current_version": current,
        "chain_hash": head if head is not None else GENESIS,
        "versions": [],
    }
    text = json.dumps(header, indent=2, ensure_ascii=False)
    closing = "[]\n}"
    assert text.endswith(closing)
    write(text[: -len(closing)] + "[")
    checker = ChainChecker(bot.slug)
    separator = "\n"
    for row in stored_rows(bot, upto=current):
        checker.feed(row)
        version: dict[str, Any] = {
            "version": row.version,
            "config": row.config,
            "timestamp": row.timestamp,
            "reason": row.reason,
            "previous_version": row.previous_version,
            "created_by": row.created_by,
            "metadata": row.metadata if row.metadata is not None else {},
            "content_hash": row.content_hash,
            "chain_hash": row.chain_hash,
        }
        if row.signature:
            version["signature"] = row.signature
        item = json.dumps(version, indent=2, ensure_ascii=False)
        # Not textwrap.indent: it also breaks at U+2028 and the like inside strings.
        write(separator + "    " + item.replace("\n", "\n    "))
        separator = ",\n"
    write("\n  ]\n}\n" if checker.rows else "]\n}\n")
    checker.finish(current)
    return checker
