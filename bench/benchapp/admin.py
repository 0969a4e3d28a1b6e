"""The peers' own admin history pages, for W6's side-by-side view."""

from __future__ import annotations

from django.contrib import admin
from reversion.admin import VersionAdmin
from simple_history.admin import SimpleHistoryAdmin

from bench.benchapp.models import HistoryBot, ReversionBot


@admin.register(ReversionBot)
class ReversionBotAdmin(VersionAdmin):  # type: ignore[type-arg]
    pass


@admin.register(HistoryBot)
class HistoryBotAdmin(SimpleHistoryAdmin):  # type: ignore[type-arg]
    pass
