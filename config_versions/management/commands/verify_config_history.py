"""verify_config_history: recompute every hash of every config's versions, label moves
and proposal events, check that each move and proposal step follows the ones before it
(and proposals' summary rows their events), check signatures and compare with a
checkpoint; every break, exit 1 if any."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from config_versions import checkpoints
from config_versions.checkpoints import (
    Checkpoint,
    CheckpointError,
    Gone,
    gone_since,
    read_checkpoint,
)
from config_versions.conf import settings
from config_versions.integrity import HistoryReport, check_history
from config_versions.models import BotConfig, PurgedConfig

FORMAT = "config_versions.verification/1"
NO_KEY = "Signatures not checked: CONFIG_VERSIONS['SIGNING_KEY'] is not set."


class Command(BaseCommand):
    help = (
        "Recompute the hashes of every version, label move and proposal event of every "
        "config (archived ones too), check that each label move follows the label's "
        "previous one and points at a version held, that each proposal event is a step a "
        "manager could have written (and an apply the version it names), that proposals' "
        "summary rows match their events, check signatures when "
        "CONFIG_VERSIONS['SIGNING_KEY'] is set, and compare with a checkpoint; list every "
        "break and exit 1 if there is any. Purged histories (tombstones) are listed, not "
        "counted as failures."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", nargs="?", help="Only this bot config (default: all).")
        parser.add_argument(
            "--format",
            choices=["text", "json"],
            default="text",
            help="json: one document on stdout, for monitoring.",
        )
        parser.add_argument(
            "--against",
            metavar="FILE",
            help="A checkpoint written earlier: histories cut short or re-chained since "
            "are breaks, configs gone without a tombstone too.",
        )
        parser.add_argument(
            "--write-checkpoint",
            metavar="FILE",
            help="Record where each history stands now (when nothing is broken).",
        )

    def handle(
        self,
        *args: Any,
        slug: str | None,
        format: str,
        against: str | None,
        write_checkpoint: str | None,
        **options: Any,
    ) -> None:
        key = settings.SIGNING_KEY or None
        checkpoint = None
        if against is not None:
            try:
                checkpoint = read_checkpoint(against, key=key)
            except CheckpointError as exc:
                raise CommandError(str(exc)) from None
        configs = BotConfig.objects.order_by("slug", "pk")
        tombstones = PurgedConfig.objects.order_by("purged_at", "pk")
        if slug is not None:
            configs = configs.filter(slug=slug)
            tombstones = tombstones.filter(slug=slug)
            if not configs.exists() and not tombstones.exists():
                raise CommandError(f"No bot config with slug {slug!r}.")
        text = format == "text"

        reports: list[HistoryReport] = []
        for bot in configs.iterator():
            mark = checkpoint.marks.get(bot.pk) if checkpoint else None
            report = check_history(bot, signing_key=key, checkpoint=mark)
            if text:
                self._write_report(report)
            reports.append(report)
        gone = self._gone(checkpoint, reports, slug)
        purged = list(tombstones)

        failures = _failures(reports, gone)
        written = None
        if write_checkpoint is not None and not failures:
            created_at = timezone.now().isoformat()
            try:
                checkpoints.write_checkpoint(
                    write_checkpoint, [r.mark() for r in reports], created_at=created_at, key=key
                )
            except CheckpointError as exc:
                raise CommandError(str(exc)) from None
            written = write_checkpoint

        if text:
            self._write_text_footer(reports, purged, checkpoint, gone, key, written)
        else:
            document = _document(reports, purged, checkpoint, gone, key, written)
            self.stdout.write(json.dumps(document, indent=2, ensure_ascii=False))
        if failures:
            broken = [r.slug for r in reports if not r.ok] + [
                g.mark.slug for g in gone if g.problem
            ]
            shown = ", ".join(broken[:10]) + (", ..." if len(broken) > 10 else "")
            message = f"History broken: {failures} break(s) in {len(broken)} config(s): {shown}."
            if write_checkpoint is not None:
                message += " Checkpoint not written."
            raise CommandError(message)

    @staticmethod
    def _gone(
        checkpoint: Checkpoint | None, reports: list[HistoryReport], slug: str | None
    ) -> list[Gone]:
        if checkpoint is None:
            return []
        seen = {r.config_id for r in reports}
        marks = [
            m
            for m in checkpoint.marks.values()
            if m.config_id not in seen and (slug is None or m.slug == slug)
        ]
        # Still in the database under another slug: not gone (the slug filter hid it).
        present = set(
            BotConfig.objects.filter(pk__in=[m.config_id for m in marks]).values_list(
                "pk", flat=True
            )
        )
        return gone_since([m for m in marks if m.config_id not in present])

    def _write_report(self, report: HistoryReport) -> None:
        name = report.slug + (" (archived)" if report.archived else "")
        signatures = str(report.signatures)
        move_signatures = str(report.move_signatures)
        event_signatures = str(report.event_signatures)
        moves = report.moves or report.move_breaks
        events = report.events or report.event_breaks
        if report.ok:
            line = f"{name}: {report.versions} version(s) intact"
            if signatures:
                line += f"; {signatures}"
            if moves:
                line += f"; {report.moves} label move(s) intact"
                if move_signatures:
                    line += f", {move_signatures}"
            if events:
                line += (
                    f"; {report.events} proposal event(s) of {report.proposals} proposal(s) intact"
                )
                if event_signatures:
                    line += f", {event_signatures}"
            self.stdout.write(line + ".")
            return
        counted = f"{report.versions} version(s), "
        if moves:
            counted += f"{report.moves} label move(s), "
        if events:
            counted += f"{report.events} proposal event(s), "
        breaks = len(report.all_breaks)
        self.stdout.write(self.style.ERROR(f"{name}: {counted}{breaks} break(s):"))
        for found in report.breaks:
            self.stdout.write(f"  version {found.version}: {found.problem}")
        for moved in report.move_breaks:
            self.stdout.write(f"  {moved.where}: {moved.problem}")
        for step in report.event_breaks:
            self.stdout.write(f"  {step.where}: {step.problem}")
        if signatures:
            self.stdout.write(f"  signatures: {signatures}")
        if moves and move_signatures:
            self.stdout.write(f"  label move signatures: {move_signatures}")
        if events and event_signatures:
            self.stdout.write(f"  proposal event signatures: {event_signatures}")

    def _write_text_footer(
        self,
        reports: list[HistoryReport],
        purged: list[PurgedConfig],
        checkpoint: Checkpoint | None,
        gone: list[Gone],
        key: str | None,
        written: str | None,
    ) -> None:
        for tombstone in purged:
            self.stdout.write(f"Purged: {tombstone.slug}, {_describe(tombstone)}")
        if checkpoint is not None:
            compared = sum(1 for r in reports if r.checkpoint is not None)
            signature = "signature valid" if checkpoint.signature_valid else "signature not checked"
            self.stdout.write(
                f"Checkpoint {checkpoint.path} of {checkpoint.created_at} ({signature}): "
                f"{compared} config(s) compared, {len(gone)} gone since."
            )
            for item in gone:
                line = f"  {item.mark.slug} (id {item.mark.config_id}): "
                if item.problem is None:
                    assert item.tombstone is not None
                    line += f"purged since the checkpoint: {_describe(item.tombstone)}"
                    self.stdout.write(line)
                else:
                    self.stdout.write(self.style.ERROR(line + item.problem))
        broken = [r for r in reports if not r.ok]
        breaks = sum(len(r.all_breaks) for r in broken)
        summary = f"Verified {len(reports)} config(s): {len(reports) - len(broken)} intact"
        if broken:
            summary += f", {len(broken)} broken ({breaks} break(s))"
        summary += f"; {len(purged)} purged." if purged else "."
        lost = sum(1 for g in gone if g.problem)
        if lost:
            summary += (
                f" {lost} config(s) of the checkpoint gone without a tombstone that matches it."
            )
        style = self.style.ERROR if broken or lost else self.style.SUCCESS
        self.stdout.write(style(summary))
        if key is None:
            self.stdout.write(NO_KEY)
        if written is not None:
            self.stdout.write(f"Checkpoint written to {written}.")


def _describe(tombstone: PurgedConfig) -> str:
    reason = " ".join(tombstone.reason.split())
    if len(reason) > 200:
        reason = reason[:199] + "…"
    by = tombstone.purged_by or "someone unknown"
    return (
        f"{tombstone.versions} version(s), by {by} at "
        f"{tombstone.purged_at:%Y-%m-%d %H:%M:%S %Z}: {reason or '(no reason given)'}"
    )


def _tombstone(tombstone: PurgedConfig) -> dict[str, Any]:
    return {
        "config_id": tombstone.config_id,
        "slug": tombstone.slug,
        "name": tombstone.name,
        "versions": tombstone.versions,
        "last_chain_hash": tombstone.last_chain_hash,
        "purged_by": tombstone.purged_by,
        "purged_at": tombstone.purged_at.isoformat(),
        "reason": tombstone.reason,
    }


def _document(
    reports: list[HistoryReport],
    purged: list[PurgedConfig],
    checkpoint: Checkpoint | None,
    gone: list[Gone],
    key: str | None,
    written: str | None,
) -> dict[str, Any]:
    broken = [r for r in reports if not r.ok]
    failures = _failures(reports, gone)
    compared = None
    if checkpoint is not None:
        compared = {
            "file": checkpoint.path,
            "created_at": checkpoint.created_at,
            "signature": "valid" if checkpoint.signature_valid else "not checked",
            "compared": sum(1 for r in reports if r.checkpoint is not None),
            "gone": [g.as_dict() for g in gone],
        }
    return {
        "format": FORMAT,
        "checked_at": timezone.now().isoformat(),
        "ok": not failures,
        "signatures_checked": key is not None,
        "configs": [r.as_dict() for r in reports],
        "tombstones": [_tombstone(t) for t in purged],
        "checkpoint": compared,
        "checkpoint_written": written,
        "totals": {
            "configs": len(reports),
            "ok": len(reports) - len(broken),
            "broken": len(broken) + sum(1 for g in gone if g.problem),
            "breaks": failures,
            "versions": sum(r.versions for r in reports),
            "label_moves": sum(r.moves for r in reports),
            "proposal_events": sum(r.events for r in reports),
            "tombstones": len(purged),
        },
    }


def _failures(reports: list[HistoryReport], gone: list[Gone]) -> int:
    breaks = sum(len(r.all_breaks) for r in reports)
    return breaks + sum(1 for g in gone if g.problem)
