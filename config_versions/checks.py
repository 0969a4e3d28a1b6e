"""System checks: misconfiguration is caught at start-up, a damaged database by ``migrate``.

Every check carries the ``config_versions`` tag (``manage.py check --tag config_versions``
runs them alone). The trigger check also carries ``Tags.database``: Django runs it in
``migrate`` and in ``check --database <alias>``, never on plain start-up.

Ids: E001 unknown key, E002 not a positive integer, E003 not a list of dotted paths,
E004 a path that cannot be imported, E005 ``CONFIG_VERSIONS`` not a dict, E006 not a
bool, E007 not a non-negative integer, E008 history triggers missing from a database,
E009 a signing key that is not a long enough text, E010 a ``LABELS`` that is not a
dict of label names to options, E011 a ``DEFAULT_LABEL`` that is neither ``latest``
nor a declared label, E012 a ``REVIEW`` with unknown options, wrong types or undeclared
labels;
W001 SQLite in DEFERRED transaction mode.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.apps import AppConfig, apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.recorder import MigrationRecorder
from django.utils.module_loading import import_string

from config_versions import conf

TAG = "config_versions"

# Every key of conf.DEFAULTS belongs to exactly one group (a test holds this), so a new
# setting cannot ship without a type check.
POSITIVE_INTS = (
    "MAX_CONFIG_BYTES",
    "MAX_DEPTH",
    "MAX_REASON_LENGTH",
    "MAX_DESCRIPTION_LENGTH",
    "API_PAGE_SIZE",
    "ADMIN_HISTORY_PAGE_SIZE",
)
NON_NEGATIVE_INTS = ("ADMIN_DIFF_CONTEXT",)
BOOLS = ("REQUIRE_PRECONDITION",)
PATH_LISTS = ("VALIDATORS", "API_PERMISSION_CLASSES", "API_AUTHENTICATION_CLASSES")
# None there means "DRF's own DEFAULT_* setting".
MAY_BE_NONE = ("API_AUTHENTICATION_CLASSES",)
# A text of at least MIN_KEY_LENGTH characters, or None (E009).
KEYS = ("SIGNING_KEY",)
MIN_KEY_LENGTH = 32
# Checked by check_labels (E010, E011).
LABEL_SETTINGS = ("LABELS", "DEFAULT_LABEL")
LABEL_OPTIONS = {"protected": bool, "description": str}
# Checked by _review_errors (E012).
REVIEW_SETTINGS = ("REVIEW",)
REVIEW_OPTIONS = {
    "required_approvals": int,
    "allow_self_approval": bool,
    "labels": list,
    "all_writes": bool,
}


def _is_int(value: object) -> bool:
    # bool is an int subclass, but True as a page size is a mistake, not a 1.
    return isinstance(value, int) and not isinstance(value, bool)


# Which keys, what a valid value is, how the error names it, and its id.
_VALUE_RULES: tuple[tuple[tuple[str, ...], Callable[[Any], bool], str, str], ...] = (
    (POSITIVE_INTS, lambda v: _is_int(v) and v >= 1, "a positive integer", "E002"),
    # Truthiness would read "no" or "False" as True.
    (BOOLS, lambda v: isinstance(v, bool), "True or False", "E006"),
    (NON_NEGATIVE_INTS, lambda v: _is_int(v) and v >= 0, "an integer of 0 or more", "E007"),
    (
        KEYS,
        lambda v: v is None or (isinstance(v, str) and len(v) >= MIN_KEY_LENGTH),
        f"None or a secret text of at least {MIN_KEY_LENGTH} characters",
        "E009",
    ),
)


@register(TAG)
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    value = getattr(settings, "CONFIG_VERSIONS", None)
    if value is not None and not isinstance(value, dict):
        # conf reads a non-dict as "no overrides", so the per-key checks would only
        # vouch for the defaults: report the one real mistake.
        return [
            Error(
                f"CONFIG_VERSIONS must be a dict, not {type(value).__name__}.",
                hint='For example CONFIG_VERSIONS = {"MAX_DEPTH": 32}.',
                id="config_versions.E005",
            )
        ]
    errors: list[CheckMessage] = []
    unknown = sorted(set(conf.user_settings()) - set(conf.DEFAULTS), key=str)
    if unknown:
        errors.append(
            Error(
                f"Unknown CONFIG_VERSIONS key(s): {', '.join(map(str, unknown))}.",
                hint=f"Known keys: {', '.join(sorted(conf.DEFAULTS))}.",
                id="config_versions.E001",
            )
        )
    for names, valid, kind, code in _VALUE_RULES:
        for name in names:
            value = conf.get(name)
            if not valid(value):
                errors.append(
                    Error(
                        f"CONFIG_VERSIONS['{name}'] must be {kind}, not {value!r}.",
                        id=f"config_versions.{code}",
                    )
                )
    for name in PATH_LISTS:
        errors.extend(_path_list_errors(name, conf.get(name)))
    errors.extend(_label_errors(conf.get("LABELS"), conf.get("DEFAULT_LABEL")))
    errors.extend(_review_errors(conf.get("REVIEW"), conf.get("LABELS")))
    return errors


def _review_errors(review: object, labels: object) -> list[CheckMessage]:
    example = '{"required_approvals": 1, "allow_self_approval": False, "labels": ["production"]}'

    def error(problem: str) -> Error:
        return Error(
            f"CONFIG_VERSIONS['REVIEW'] {problem}.",
            hint=f"For example {example}.",
            id="config_versions.E012",
        )

    if not isinstance(review, dict):
        return [error(f"must be a dict of review options, not {review!r}")]
    errors: list[CheckMessage] = []
    for key, value in review.items():
        kind = REVIEW_OPTIONS.get(key)
        if kind is None:
            errors.append(
                error(f"has an unknown option {key!r} (known: {', '.join(REVIEW_OPTIONS)})")
            )
        elif kind is list:
            if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                errors.append(error(f"option {key!r} must be a list of label names, not {value!r}"))
        elif kind is int:
            if not _is_int(value) or value < 1:
                errors.append(
                    error(f"option {key!r} must be a whole number of at least 1, not {value!r}")
                )
        elif not isinstance(value, kind):
            errors.append(error(f"option {key!r} must be a {kind.__name__}, not {value!r}"))
    declared = labels if isinstance(labels, dict) else {}
    listed = review.get("labels", [])
    for name in listed if isinstance(listed, list | tuple) else []:
        if isinstance(name, str) and name not in declared:
            errors.append(
                error(f"lists label {name!r} under 'labels', which LABELS does not declare")
            )
    return errors


def _label_errors(labels: object, default: object) -> list[CheckMessage]:
    from config_versions.core.errors import UnknownLabelError
    from config_versions.core.labels import LATEST, check_label_name

    errors: list[CheckMessage] = []
    example = 'For example {"staging": {}, "production": {"protected": True}}.'
    if not isinstance(labels, dict):
        errors.append(
            Error(
                f"CONFIG_VERSIONS['LABELS'] must be a dict of label names to options, "
                f"not {labels!r}.",
                hint=example,
                id="config_versions.E010",
            )
        )
        labels = {}
    assert isinstance(labels, dict)
    for name, options in labels.items():
        problem = None
        try:
            check_label_name(name, movable=True)
        except UnknownLabelError as exc:
            problem = str(exc)
        if problem is None and not isinstance(options, dict):
            problem = f"its options must be a dict, not {options!r}"
        elif problem is None:
            for key, value in options.items():
                kind = LABEL_OPTIONS.get(key)
                if kind is None:
                    problem = f"unknown option {key!r} (known: {', '.join(LABEL_OPTIONS)})"
                elif not isinstance(value, kind):
                    problem = f"option {key!r} must be a {kind.__name__}, not {value!r}"
        if problem is not None:
            errors.append(
                Error(
                    f"CONFIG_VERSIONS['LABELS'] declares {name!r}: {problem}.",
                    hint=example,
                    id="config_versions.E010",
                )
            )
    folded: dict[str, str] = {}
    for name in labels:
        if isinstance(name, str) and folded.setdefault(name.lower(), name) != name:
            errors.append(
                Error(
                    f"CONFIG_VERSIONS['LABELS'] declares {folded[name.lower()]!r} and "
                    f"{name!r}: label names that differ only in case are one label on "
                    "databases that compare text without case (MySQL/MariaDB).",
                    id="config_versions.E010",
                )
            )
    if default != LATEST and default not in labels:
        errors.append(
            Error(
                f"CONFIG_VERSIONS['DEFAULT_LABEL'] is {default!r}, which is neither 'latest' "
                "nor a label declared in CONFIG_VERSIONS['LABELS'].",
                id="config_versions.E011",
            )
        )
    return errors


def _path_list_errors(name: str, paths: object) -> list[CheckMessage]:
    if paths is None and name in MAY_BE_NONE:
        return []
    if not isinstance(paths, list | tuple) or not all(isinstance(p, str) for p in paths):
        return [
            Error(
                f"CONFIG_VERSIONS['{name}'] must be a list of dotted paths (strings), "
                f"not {paths!r}.",
                id="config_versions.E003",
            )
        ]
    errors: list[CheckMessage] = []
    for path in paths:
        try:
            import_string(path)
        except ImportError as exc:
            errors.append(
                Error(
                    f"CONFIG_VERSIONS['{name}'] names {path!r}, which cannot be imported: {exc}",
                    id="config_versions.E004",
                )
            )
    return errors


@register(TAG)
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


# The history triggers (migration 0006 says what each one guards).
TRIGGERS = (
    "config_versions_immutable",
    "config_versions_undeletable",
    "config_versions_head",
)
# The migration that installs them as they are now (0002 installed the first two).
TRIGGERS_MIGRATION = ("config_versions", "0006_history_exact_json_signatures_archive_purge")
# The label moves' triggers (migration 0007).
MOVE_TRIGGERS = ("config_versions_moves_immutable", "config_versions_moves_undeletable")
MOVE_TRIGGERS_MIGRATION = ("config_versions", "0007_label_moves")
EVENT_TRIGGERS = (
    "config_versions_proposal_events_immutable",
    "config_versions_proposal_events_undeletable",
)
EVENT_TRIGGERS_MIGRATION = ("config_versions", "0008_proposals")
# Names of the enabled triggers on a table, per vendor. PostgreSQL can disable a trigger
# without dropping it, which guards nothing either.
TRIGGER_QUERIES = {
    "postgresql": "SELECT tgname FROM pg_trigger "
    "WHERE tgrelid = to_regclass(%s) AND NOT tgisinternal AND tgenabled <> 'D'",
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
    "mysql": "SELECT trigger_name FROM information_schema.triggers "
    "WHERE event_object_schema = DATABASE() AND event_object_table = %s",
}


@register(Tags.database, TAG)
def check_history_triggers(
    app_configs: Iterable[AppConfig] | None = None,
    databases: Iterable[str] | None = None,
    **kwargs: Any,
) -> list[CheckMessage]:
    # Without the triggers raw SQL can rewrite history and appends stop moving the
    # config's current version; a restore from a dump without triggers, a manual DROP,
    # or a SQLite table rebuild by a later migration loses them without a sound.
    app = apps.get_app_config("config_versions")
    if databases is None or (app_configs is not None and app not in app_configs):
        return []
    model = app.get_model("BotConfigVersion")
    moves = app.get_model("BotConfigLabelMove")
    events = app.get_model("BotConfigProposalEvent")
    errors: list[CheckMessage] = []
    for alias in databases:
        if not router.allow_migrate_model(alias, model):
            continue
        missing = missing_triggers(connections[alias], model._meta.db_table)
        missing_on_moves = missing_triggers(
            connections[alias], moves._meta.db_table, MOVE_TRIGGERS, MOVE_TRIGGERS_MIGRATION
        )
        if missing_on_moves:
            errors.append(
                Error(
                    f"Database {alias!r} lacks the trigger(s) {', '.join(missing_on_moves)} "
                    f"on {moves._meta.db_table} (missing or disabled): label moves can be "
                    "rewritten or deleted.",
                    hint="Run migration 0007's remove() and install() on this database.",
                    id="config_versions.E008",
                )
            )
        missing_on_events = missing_triggers(
            connections[alias], events._meta.db_table, EVENT_TRIGGERS, EVENT_TRIGGERS_MIGRATION
        )
        if missing_on_events:
            errors.append(
                Error(
                    f"Database {alias!r} lacks the trigger(s) {', '.join(missing_on_events)} "
                    f"on {events._meta.db_table} (missing or disabled): proposal events can "
                    "be rewritten or deleted.",
                    hint="Run migration 0008's RunPython again (its reverse, then forward) "
                    "on this database.",
                    id="config_versions.E008",
                )
            )
        if missing:
            errors.append(
                Error(
                    f"Database {alias!r} lacks the history trigger(s) {', '.join(missing)} "
                    f"on {model._meta.db_table} (missing or disabled): version rows can be "
                    "rewritten and new versions do not move the config's current version.",
                    hint="Re-install them with migration 0002: `manage.py migrate "
                    f"config_versions 0001 --database={alias} --skip-checks`, then `manage.py "
                    f"migrate --database={alias}`; or run that migration's remove() and "
                    "install() on this database.",
                    id="config_versions.E008",
                )
            )
    return errors


def missing_triggers(
    connection: BaseDatabaseWrapper,
    table: str,
    names: tuple[str, ...] = TRIGGERS,
    migration: tuple[str, str] = TRIGGERS_MIGRATION,
) -> list[str]:
    query = TRIGGER_QUERIES.get(connection.vendor)
    if query is None:
        return []  # migration 0002 refuses other vendors, so there is nothing to look for
    with connection.cursor() as cursor:
        if table not in connection.introspection.table_names(cursor):
            return []  # a fresh database, before migrate
    # Until 0002 is recorded the triggers are not due: between `migrate config_versions
    # 0001` and `migrate` this check must not stand in the way of the migrate that
    # installs them.
    if migration not in MigrationRecorder(connection).applied_migrations():
        return []
    with connection.cursor() as cursor:
        cursor.execute(query, [table])
        present = {row[0] for row in cursor.fetchall()}
    return [name for name in names if name not in present]
