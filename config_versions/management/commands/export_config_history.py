"""export_config_history: a config's whole history as evidence.

Format ``config_versions.history/3``: the ``ConfigVersionManager.to_dict()`` shape (every
recorded field of every version, and of every label move) plus the config's slug, name,
description and schema, each version's ``content_hash`` and ``chain_hash`` (and
``signature`` when it has one), and the head: ``current_version`` and ``chain_hash``, the
newest version's. ``label_moves`` lists the config's label moves by sequence (empty if
none), each with its ``chain_hash`` (and ``signature``), and ``label_chain_hash`` is the
last move's chain hash ("" if none). Format ``/2`` was the same without the moves.
Whoever gets the file can recompute every hash; ``import_config_history`` does, and
refuses a file edited, reordered or cut. Versions and moves are streamed a page at a
time, so memory stays the same for ten versions or a hundred thousand.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from config_versions.core.jsondata import GENESIS
from config_versions.integrity import (
    Break,
    ChainChecker,
    MoveBreak,
    MoveChecker,
    last_move,
    stored_moves,
    stored_rows,
)
from config_versions.models import BotConfig, BotConfigLabelMove, BotConfigVersion

FORMAT = "config_versions.history/3"


class Command(BaseCommand):
    help = (
        "Write a config's whole history as JSON (format config_versions.history/3): every "
        "recorded field of every version with its content and chain hashes, the head's "
        "chain hash, every label move with its chain hash, and the config's slug, name, "
        "description and schema."
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
            exported = export_history(bot, lambda text: self.stdout.write(text, ending=""))
        else:
            exported = self._to_file(bot, output)
            moves = exported.moves.rows
            self.stderr.write(
                f"Exported {exported.versions.rows} version(s)"
                + (f" and {moves} label move(s)" if moves else "")
                + f" of {slug!r} to {output}."
            )
        if exported.breaks:
            self.stderr.write(
                f"Warning: the history does not verify ({exported.breaks[0]}); the export "
                "shows it as stored, and import_config_history will refuse it."
            )

    @staticmethod
    def _to_file(bot: BotConfig, output: str) -> Exported:
        # Written beside the target and renamed: a failure leaves no half file behind.
        target = Path(output)
        try:
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as out:
                    exported = export_history(bot, out.write)
                os.replace(temporary, target)
            except BaseException:
                os.unlink(temporary)
                raise
        except OSError as exc:
            raise CommandError(f"Cannot write {output}: {exc.strerror}.") from None
        return exported


@dataclass
class Exported:
    """The checkers that recomputed an export's hashes: its versions', its moves'."""

    versions: ChainChecker
    moves: MoveChecker

    @property
    def breaks(self) -> list[Break | MoveBreak]:
        return [*self.versions.breaks, *self.moves.breaks]


def export_history(bot: BotConfig, write: Callable[[str], Any]) -> Exported:
    """Write ``bot``'s history to ``write`` as a history/3 document; the checkers that
    recomputed its hashes on the way (``breaks`` says whether it verifies).

    The text is what ``json.dump(document, indent=2)`` would write, produced a version
    (a move) at a time. Only what was there when the export began is written: the moves
    up to the last one then, and the versions up to the ``current_version`` read after
    it, so a version or a move made meanwhile cannot make the heads, the versions and
    the moves disagree.
    """
    alias = bot._state.db
    moves_upto = last_move(bot)
    current = (
        BotConfig.objects.using(alias)
        .filter(pk=bot.pk)
        .values_list("current_version", flat=True)
        .first()
    )
    if current is None:  # purged meanwhile
        current = bot.current_version
    head = (
        BotConfigVersion.objects.using(alias)
        .filter(bot_config_id=bot.pk, version=current)
        .values_list("chain_hash", flat=True)
        .first()
    )
    move_head = (
        BotConfigLabelMove.objects.using(alias)
        .filter(bot_config_id=bot.pk, sequence=moves_upto)
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
        "label_chain_hash": move_head if move_head is not None else GENESIS,
        "versions": [],
        "label_moves": [],
    }
    text = json.dumps(header, indent=2, ensure_ascii=False)
    closing = '[],\n  "label_moves": []\n}'
    assert text.endswith(closing)
    write(text[: -len(closing)] + "[")
    checker = ChainChecker(bot.slug)
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
        _write_item(write, version, first=checker.rows == 1)
    write('\n  ],\n  "label_moves": [' if checker.rows else '],\n  "label_moves": [')
    checker.finish(current)
    moves = MoveChecker(bot.slug, checker.last)
    for move in stored_moves(bot, upto=moves_upto):
        moves.feed(move)
        entry = move.move().to_dict()
        entry["chain_hash"] = move.chain_hash
        if move.signature:
            entry["signature"] = move.signature
        _write_item(write, entry, first=moves.rows == 1)
    write("\n  ]\n}\n" if moves.rows else "]\n}\n")
    moves.finish()
    return Exported(checker, moves)


def _write_item(write: Callable[[str], Any], item: dict[str, Any], *, first: bool) -> None:
    text = json.dumps(item, indent=2, ensure_ascii=False)
    # Not textwrap.indent: it also breaks at U+2028 and the like inside strings.
    write(("\n" if first else ",\n") + "    " + text.replace("\n", "\n    "))
