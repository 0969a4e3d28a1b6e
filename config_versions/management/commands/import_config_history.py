from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from config_versions.core.errors import InvalidConfigError
from config_versions.managers import restore_history
from config_versions.models import BotConfig
from config_versions.validation import check_schema


class Command(BaseCommand):
    help = (
        "Create a bot config from an exported history (export_config_history) or a plain "
        "ConfigVersionManager.to_dict() dump, keeping numbers, timestamps, reasons, "
        "authors and metadata exactly. All or nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="JSON file to read.")
        parser.add_argument("--slug", required=True, help="Slug of the new bot config.")
        parser.add_argument("--name", help="Name (default: the file's, else the slug).")

    def handle(self, *args: Any, file: str, slug: str, name: str | None, **options: Any) -> None:
        document = self._read(file)
        if BotConfig.objects.filter(slug=slug).exists():
            raise CommandError(f"A bot config with slug {slug!r} already exists; nothing imported.")
        schema = document.get("schema")
        try:
            if schema is not None:
                check_schema(schema)
            with transaction.atomic():
                bot = BotConfig(
                    slug=slug,
                    name=name or str(document.get("name") or slug),
                    description=str(document.get("description") or ""),
                    schema=schema,
                )
                bot.full_clean()
                bot.save()
                # History is imported as it was recorded: today's schema and validators
                # judge new versions, not the past.
                manager = restore_history(bot, document)
        except (ValueError, InvalidConfigError) as exc:
            raise CommandError(f"{file}: {exc}; nothing imported.") from None
        except ValidationError as exc:
            raise CommandError(f"{file}: {'; '.join(exc.messages)}; nothing imported.") from None
        self.stdout.write(f"Imported {len(manager)} version(s) into {slug!r}.")

    @staticmethod
    def _read(file: str) -> dict[str, Any]:
        try:
            with open(file, encoding="utf-8") as handle:
                document = json.load(handle)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CommandError(f"{file} is not valid JSON: {exc}.") from None
        if not isinstance(document, dict) or not isinstance(document.get("versions"), list):
            raise CommandError(
                f"{file} is not a config history: expected an object with a 'versions' list."
            )
        return document
