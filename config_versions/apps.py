from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConfigVersionsConfig(AppConfig):
    name = "config_versions"
    verbose_name = _("Configuration versions")
    # Pinned so host projects with another DEFAULT_AUTO_FIELD get no phantom migration.
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from config_versions import checks  # noqa: F401 - registers the system checks
        from config_versions.managers import database_manager
        from config_versions.models import BotConfig

        if BotConfig.manager_factory is None:  # a site may have set its own
            BotConfig.manager_factory = database_manager
