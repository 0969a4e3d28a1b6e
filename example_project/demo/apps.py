from __future__ import annotations

from django.apps import AppConfig


class DemoConfig(AppConfig):
    # Holds only the demo data command: no models, no migrations.
    name = "demo"
    verbose_name = "config_versions demo"
