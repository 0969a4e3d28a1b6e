"""System checks: misconfiguration of ``CONFIG_VERSIONS`` is caught at start-up."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register
from django.utils.module_loading import import_string

from config_versions import conf


@register()
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    user = conf.user_settings()
    unknown = sorted(set(user) - set(conf.DEFAULTS))
    if unknown:
        errors.append(
            Error(
                f"Unknown CONFIG_VERSIONS key(s): {', '.join(unknown)}.",
                hint=f"Known keys: {', '.join(sorted(conf.DEFAULTS))}.",
                id="config_versions.E001",
            )
        )
    for name in ("MAX_CONFIG_BYTES", "MAX_DEPTH", "API_PAGE_SIZE", "ADMIN_HISTORY_PAGE_SIZE"):
        value = conf.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            errors.append(
                Error(
                    f"CONFIG_VERSIONS['{name}'] must be a positive integer, not {value!r}.",
                    id="config_versions.E002",
                )
            )
    for name in ("VALIDATORS", "API_PERMISSION_CLASSES", "API_AUTHENTICATION_CLASSES"):
        paths = conf.get(name)
        if paths is None and name == "API_AUTHENTICATION_CLASSES":
            continue
        if not isinstance(paths, list | tuple):
            errors.append(
                Error(
                    f"CONFIG_VERSIONS['{name}'] must be a list of dotted paths.",
                    id="config_versions.E003",
                )
            )
            continue
        for path in paths:
            try:
                import_string(path)
            except ImportError as exc:
                errors.append(
                    Error(
                        f"CONFIG_VERSIONS['{name}'] names {path!r}, which cannot be imported: "
                        f"{exc}",
                        id="config_versions.E004",
                    )
                )
    return errors


@register()
def check_sqlite_transaction_mode(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    # In a DEFERRED transaction (Django's default on SQLite) a writer that read first
    # gets "database is locked" at once when another writer is active: SQLite cannot
    # wait there without risking a deadlock, and the app cannot retry the caller's
    # whole transaction. IMMEDIATE takes the write lock up front and waits its turn.
    return sqlite_transaction_warnings(settings.DATABASES)


def sqlite_transaction_warnings(databases: Mapping[str, Mapping[str, Any]]) -> list[CheckMessage]:
    warnings: list[CheckMessage] = []
    for alias, database in databases.items():
        if not str(database.get("ENGINE", "")).endswith("sqlite3"):
            continue
        mode = (database.get("OPTIONS") or {}).get("transaction_mode")
        if str(mode).upper() != "IMMEDIATE":
            warnings.append(
                Warning(
                    f"SQLite database {alias!r} uses DEFERRED transactions: concurrent edits "
                    "of a config may fail with 'database is locked'.",
                    hint=f'Set DATABASES["{alias}"]["OPTIONS"]["transaction_mode"] = '
                    '"IMMEDIATE" (and a "timeout" of a few seconds).',
                    id="config_versions.W001",
                )
            )
    return warnings
