"""export_config_history: a config's whole history as evidence.

Format ``config_versions.history/4``: the ``ConfigVersionManager.to_dict()`` shape (every
recorded field of every version, label move and proposal event) plus the config's slug,
name, description and schema, each version's ``content_hash`` and ``chain_hash`` (and
``signature`` when it has one), and the head: ``current_version`` and ``chain_hash``, the
newest version's. ``label_moves`` lists the config's label moves by sequence (empty if
none), each with its ``chain_hash`` (and ``signature``), and ``label_chain_hash`` is the
last move's chain hash ("" if none). ``proposal_events`` lists every step of every
proposal (submitted, revised, reviewed, withdrawn, applied) by sequence, each with its
``data`` and ``chain_hash`` (and ``signature``), and ``proposal_chain_hash`` is the last
event's. Format ``/3`` was the same without the proposal events, ``/2`` without the
label moves too. Whoever gets the file can recompute every hash;
``import_config_history`` does, and refuses a file edited, reordered or cut. Versions,
moves and events are streamed a page at a time, so memory stays the same for ten
versions or a hundred thousand.
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
    counted,
    last_event,
    last_move,
    moves_of,
    stored_events,
    stored_moves,
    stored_rows,
    versions_of,
)
from config_versions.models import (
    BotConfig,
    BotConfigLabelMove,
    BotConfigProposalEvent,
    BotConfigVersion,
)
from config_versions.proposal_integrity import UNREADABLE, ProposalBreak, ProposalChecker

FORMAT = "config_versions.history/4"


class Command(BaseCommand):
    help = (
        "Write a config's whole history as JSON (format config_versions.history/4): every "
        "recorded field of every version with its content and chain hashes, the head's "
        "chain hash, every label move and proposal event with its chain hash, and the "
        "config's slug, name, description and schema."
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
            counts = counted(exported.versions.rows, exported.moves.rows, exported.events.rows)
            self.stderr.write(f"Exported {counts} of {slug!r} to {output}.")
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
    """The checkers that recomputed an export's hashes: its versions', moves', events'."""

    versions: ChainChecker
    moves: MoveChecker
    events: ProposalChecker

    @property
    def breaks(self) -> list[Break | MoveBreak | ProposalBreak]:
        return [*self.versions.breaks, *self.moves.breaks, *self.events.breaks]


def export_history(bot: BotConfig, write: Callable[[str], Any]) -> Exported:
    """Write ``bot``'s history to ``write`` as a history/4 document; the checkers that
    recomputed its hashes on the way (``breaks`` says whether it verifies).

    The text is what ``json.dump(document, indent=2)`` would write, produced a version
    (a move, an event) at a time. Only what was there when the export began is written:
    the events up to the last one then, the moves up to the last one read after that,
    and the versions up to the ``current_version`` read after those, so a version, move
    or event made meanwhile cannot make the heads and what they head disagree (an event
    names versions and moves; a move names a version).
    """
    alias = bot._state.db
    events_upto = last_event(bot)
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
    event_head = (
        BotConfigProposalEvent.objects.using(alias)
        .filter(bot_config_id=bot.pk, sequence=events_upto)
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
        "proposal_chain_hash": event_head if event_head is not None else GENESIS,
        "versions": [],
        "label_moves": [],
        "proposal_events": [],
    }
    text = json.dumps(header, indent=2, ensure_ascii=False)
    closing = '[],\n  "label_moves": [],\n  "proposal_events": []\n}'
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
    write('\n  ],\n  "proposal_events": [' if moves.rows else '],\n  "proposal_events": [')
    moves.finish()
    events = ProposalChecker(
        bot.slug, checker.last, versions_of=versions_of(bot), moves_of=moves_of(bot)
    )
    for step in stored_events(bot, upto=events_upto):
        events.feed(step)
        entry = step.event().to_dict()
        if step.data is UNREADABLE:  # shown as stored; the import refuses it
            entry["data"] = step.text
        entry["chain_hash"] = step.chain_hash
        if step.signature:
            entry["signature"] = step.signature
        _write_item(write, entry, first=events.rows == 1)
    write("\n  ]\n}\n" if events.rows else "]\n}\n")
    events.finish()
    return Exported(checker, moves, events)


def _write_item(write: Callable[[str], Any], item: dict[str, Any], *, first: bool) -> None:
    text = json.dumps(item, indent=2, ensure_ascii=False)
    # Not textwrap.indent: it also breaks at U+2028 and the like inside strings.
    write(("\n" if first else ",\n") + "    " + text.replace("\n", "\n    "))
