from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from config_versions.models import BotConfig

FORMAT = "config_versions.history/1"


class Command(BaseCommand):
    help = (
        "Write a config's whole history as JSON: the ConfigVersionManager.to_dict() shape "
        "plus the config's slug, name, description and schema."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="Slug of the bot config to export.")
        parser.add_argument("--output", "-o", default="-", help="File to write; - for stdout.")

    def handle(self, *args: Any, slug: str, output: str, **options: Any) -> None:
        try:
            bot = BotConfig.objects.get(slug=slug)
        except BotConfig.DoesNotExist:
            raise CommandError(f"No bot config with slug {slug!r}.") from None
        state = bot.version_manager.to_dict()
        document = {
            "format": FORMAT,
            "slug": bot.slug,
            "name": bot.name,
            "description": bot.description,
            "schema": bot.schema,
            **state,
        }
        if output == "-":
            json.dump(document, sys.stdout, indent=2, ensure_ascii=False)
            sys.stdout.write("\n")
            return
        try:
            with open(output, "w", encoding="utf-8") as handle:
                json.dump(document, handle, indent=2, ensure_ascii=False)
                handle.write("\n")
        except OSError as exc:
            raise CommandError(f"Cannot write {output}: {exc.strerror}.") from None
        self.stderr.write(f"Exported {len(state['versions'])} version(s) of {slug!r} to {output}.")
