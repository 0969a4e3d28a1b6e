from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from config_versions.integrity import verify_history
from config_versions.models import BotConfig


class Command(BaseCommand):
    help = (
        "Recompute every version's content and chain hashes; exit non-zero naming the "
        "first version that no longer matches (history edited behind the app's back)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", nargs="?", help="Only this bot config (default: all).")

    def handle(self, *args: Any, slug: str | None, **options: Any) -> None:
        configs = BotConfig.objects.order_by("slug")
        if slug is not None:
            configs = configs.filter(slug=slug)
            if not configs.exists():
                raise CommandError(f"No bot config with slug {slug!r}.")
        checked = 0
        for bot in configs.iterator():
            problem = verify_history(bot)
            if problem is not None:
                raise CommandError(f"History broken at {problem}")
            checked += 1
            self.stdout.write(f"{bot.slug}: {bot.current_version} version(s) intact.")
        self.stdout.write(self.style.SUCCESS(f"Verified {checked} config(s)."))
