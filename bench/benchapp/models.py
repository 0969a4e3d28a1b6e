"""The peers' side of the benchmark: the same bot config, tracked three other ways.

- ``ReversionBot``: registered with django-reversion; every save inside
  ``reversion.create_revision()`` adds a Revision and a Version row.
- ``HistoryBot``: django-simple-history's ``HistoricalRecords``; every save adds a row
  to ``benchapp_historicalhistorybot``.
- ``FloorVersion``: the raw-SQL floor, a table of the same shape as
  ``config_versions_botconfigversion`` (the same column types: ``json`` on PostgreSQL) with
  the same unique (bot, version) index, written
  with one INSERT per version through the connection's cursor.

The peers keep the config on the tracked row itself, as their users do; config_versions
keeps it only in the history (the head version is the current config).
"""

from __future__ import annotations

import reversion
from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from config_versions.jsonfield import ExactJSONField


class _BotFields(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    schema = models.JSONField(null=True, blank=True)
    config = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name


@reversion.register()
class ReversionBot(_BotFields):
    pass


class HistoryBot(_BotFields):
    history = HistoricalRecords()


class FloorBot(models.Model):
    id = models.BigAutoField(primary_key=True)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)

    def __str__(self) -> str:
        return self.name


class FloorVersion(models.Model):
    """Column for column what config_versions stores per version, and nothing more."""

    id = models.BigAutoField(primary_key=True)
    # Indexed like config_versions: by the unique (bot, version) index only.
    bot = models.ForeignKey(
        FloorBot, on_delete=models.CASCADE, related_name="versions", db_index=False
    )
    version = models.PositiveIntegerField()
    config = ExactJSONField()
    timestamp = models.FloatField()
    created_at = models.DateTimeField()
    reason = models.TextField(blank=True)
    previous_version = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    created_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    metadata = ExactJSONField(default=dict, blank=True)
    content_hash = models.CharField(max_length=64)
    chain_hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bot", "version"], name="benchapp_floor_unique_version")
        ]

    def __str__(self) -> str:
        return f"{self.bot_id} v{self.version}"
