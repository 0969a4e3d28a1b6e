"""Settings: one ``CONFIG_VERSIONS`` dict, every key documented here with its default.

``conf.get("MAX_DEPTH")`` reads the live Django setting each time, so
``override_settings`` works in tests.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings

DEFAULTS: dict[str, Any] = {
    # Largest config accepted, measured as compact UTF-8 JSON. Larger ones are refused
    # with a clear error (a 400 in the API).
    "MAX_CONFIG_BYTES": 2 * 1024 * 1024,
    # Deepest nesting of objects/arrays accepted in a config.
    "MAX_DEPTH": 32,
    # Dotted paths of callables ``validator(config, bot_config)`` run on every new version
    # (create, update, rollback); they raise django.core.exceptions.ValidationError.
    "VALIDATORS": [],
    # DRF policy of the REST API. None means "DRF's own DEFAULT_* setting".
    "API_AUTHENTICATION_CLASSES": None,
    "API_PERMISSION_CLASSES": ["config_versions.api.permissions.BotConfigPermission"],
    # Page size of the API's list and history endpoints.
    "API_PAGE_SIZE": 50,
    # When True, PUT and rollback must carry If-Match or expected_version (428 without).
    "REQUIRE_PRECONDITION": False,
    # Versions per page in the admin history view.
    "ADMIN_HISTORY_PAGE_SIZE": 50,
    # Unchanged lines shown around each change in the admin diff before folding.
    "ADMIN_DIFF_CONTEXT": 3,
}


def get(name: str) -> Any:
    if name not in DEFAULTS:
        raise KeyError(f"Unknown config_versions setting {name!r}")
    user = getattr(django_settings, "CONFIG_VERSIONS", None) or {}
    return user.get(name, DEFAULTS[name])


def user_settings() -> dict[str, Any]:
    value = getattr(django_settings, "CONFIG_VERSIONS", None)
    return value if isinstance(value, dict) else {}
