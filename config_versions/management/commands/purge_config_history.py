"""``purge_config_history SLUG --yes``: remove a config and its whole history for good.

The one documented removal (see ``config_versions.purge``): it leaves a tombstone with
the slug, the number of versions and the last chain hash. Without ``--yes`` it only
says what it would remove. Archiving (the admin's delete) is the everyday way to retire
a config; this is for a history that must really go.
"""

from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from config_versions.core.errors import InvalidConfigError
from config_versions.models import BotConfig
from config_versions.purge import purge_history


def _os_user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry (a bare container)
        return None


class Command(BaseCommand):
    help = (
        "Remove a bot config, its versions and its recorded field changes for good, "
        "leaving a tombstone (slug, number of versions, last chain hash). Archive a "
        "config instead to retire it and keep its history."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="Slug of the bot config to purge.")
        parser.add_argument(
            "--yes", action="store_true", help="Really purge (without it, nothing is removed)."
        )
        parser.add_argument("--reason", default="", help="Why, recorded on the tombstone.")
        parser.add_argument(
            "--by",
            default=None,
            help="Who purges, recorded on the tombstone (default: the OS user running this).",
        )

    def handle(
        self, *args: Any, slug: str, yes: bool, reason: str, by: str | None, **options: Any
    ) -> None:
        bot = BotConfig.objects.filter(slug=slug).first()
        if bot is None:
            raise CommandError(f"No bot config with slug {slug!r}; nothing purged.")
        if not yes:
            state = "archived" if bot.is_archived else "active: API clients still read it"
            raise CommandError(
                f"Purging {slug!r} ({state}) removes it and its {_versions(bot.current_version)} "
                "for good, leaving only a tombstone; run again with --yes to do it."
            )
        try:
            tombstone = purge_history(bot, by=by if by is not None else _os_user(), reason=reason)
        except InvalidConfigError as exc:
            raise CommandError(f"{exc} Nothing purged.") from None
        except BotConfig.DoesNotExist:
            raise CommandError(f"No bot config with slug {slug!r}; nothing purged.") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Purged {tombstone.slug!r}: {_versions(tombstone.versions)} removed; "
                f"tombstone {tombstone.pk} records last chain hash "
                f"{tombstone.last_chain_hash or '(none: no version)'}, "
                f"by {tombstone.purged_by or 'unknown'} at {tombstone.purged_at.isoformat()}."
            )
        )


def _versions(n: int) -> str:
    return f"{n} version" if n == 1 else f"{n} versions"
