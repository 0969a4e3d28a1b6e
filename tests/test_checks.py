from __future__ import annotations

import importlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.checks import registry
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection
from django.test import override_settings

from config_versions import conf
from config_versions.checks import (
    BOOLS,
    EVENT_TRIGGERS,
    KEYS,
    LABEL_SETTINGS,
    MOVE_TRIGGERS,
    NON_NEGATIVE_INTS,
    PATH_LISTS,
    POSITIVE_INTS,
    REVIEW_SETTINGS,
    TAG,
    TRIGGERS,
    check_history_triggers,
    check_settings,
    sqlite_transaction_warnings,
)
from config_versions.models import BotConfigVersion

ROOT = Path(__file__).resolve().parents[1]
triggers = importlib.import_module(
    "config_versions.migrations.0006_history_exact_json_signatures_archive_purge"
)


def _ids():
    return sorted({m.id for m in check_settings() if m.id})


def test_default_settings_pass():
    assert _ids() == []


@override_settings(CONFIG_VERSIONS={"MAX_DEPHT": 3})
def test_unknown_key():
    assert _ids() == ["config_versions.E001"]


@override_settings(CONFIG_VERSIONS={"MAX_DEPTH": 0, "API_PAGE_SIZE": "50"})
def test_bad_numbers():
    assert _ids() == ["config_versions.E002"]


@pytest.mark.parametrize("name", ["MAX_REASON_LENGTH", "MAX_DESCRIPTION_LENGTH"])
@pytest.mark.parametrize("value", [0, -1, "10000", 1.5, True])
def test_length_limits_must_be_positive_integers(name, value):
    with override_settings(CONFIG_VERSIONS={name: value}):
        assert [(m.id, name in m.msg) for m in check_settings()] == [("config_versions.E002", True)]


def test_every_key_is_type_checked_once():
    groups = [
        *POSITIVE_INTS,
        *NON_NEGATIVE_INTS,
        *BOOLS,
        *PATH_LISTS,
        *KEYS,
        *LABEL_SETTINGS,
        *REVIEW_SETTINGS,
    ]

    assert sorted(groups) == sorted(conf.DEFAULTS)


@override_settings(
    CONFIG_VERSIONS={
        "MAX_CONFIG_BYTES": 1,
        "MAX_DEPTH": 1,
        "MAX_REASON_LENGTH": 1,
        "MAX_DESCRIPTION_LENGTH": 1,
        "VALIDATORS": ("json.loads",),
        "API_AUTHENTICATION_CLASSES": ["rest_framework.authentication.TokenAuthentication"],
        "API_PERMISSION_CLASSES": [],
        "API_PAGE_SIZE": 1,
        "REQUIRE_PRECONDITION": True,
        "ADMIN_HISTORY_PAGE_SIZE": 1,
        "ADMIN_DIFF_CONTEXT": 0,
    }
)
def test_every_key_at_its_smallest_valid_value_passes():
    assert _ids() == []


@pytest.mark.parametrize("value", ["no", "False", 0, 1, None])
def test_require_precondition_must_be_a_bool(value):
    # "no" is truthy: before this check it passed and turned on 428s.
    with override_settings(CONFIG_VERSIONS={"REQUIRE_PRECONDITION": value}):
        assert _ids() == ["config_versions.E006"]


@pytest.mark.parametrize("value", [-5, "3", 2.0, True, None])
def test_admin_diff_context_must_be_a_non_negative_integer(value):
    with override_settings(CONFIG_VERSIONS={"ADMIN_DIFF_CONTEXT": value}):
        assert _ids() == ["config_versions.E007"]


@pytest.mark.parametrize("value", [["MAX_DEPTH", 3], "MAX_DEPTH=3", 3, ("x",)])
def test_non_dict_setting_is_one_error_not_a_crash(value):
    with override_settings(CONFIG_VERSIONS=value):
        messages = check_settings()

    assert [m.id for m in messages] == ["config_versions.E005"]
    assert type(value).__name__ in messages[0].msg


@override_settings(CONFIG_VERSIONS={3: "x", "MAX_DEPHT": 3})
def test_unknown_keys_that_are_not_strings():
    messages = check_settings()

    assert [m.id for m in messages] == ["config_versions.E001"]
    assert "3, MAX_DEPHT" in messages[0].msg


@override_settings(CONFIG_VERSIONS={"API_PERMISSION_CLASSES": ["tests.x", 5]})
def test_path_list_entries_must_be_strings():
    assert _ids() == ["config_versions.E003"]


@override_settings(CONFIG_VERSIONS={"API_AUTHENTICATION_CLASSES": None, "VALIDATORS": None})
def test_only_authentication_classes_may_be_none():
    assert [m.msg.split("]")[0] for m in check_settings()] == ["CONFIG_VERSIONS['VALIDATORS'"]


@override_settings(CONFIG_VERSIONS={"VALIDATORS": "tests.x"})
def test_validators_not_a_list():
    assert _ids() == ["config_versions.E003"]


@override_settings(CONFIG_VERSIONS={"VALIDATORS": ["tests.no_such_module.validator"]})
def test_validator_not_importable():
    assert _ids() == ["config_versions.E004"]


@override_settings(CONFIG_VERSIONS={"REQUIRE_PRECONDITION": "no"})
def test_settings_checks_run_under_the_app_tag():
    # No database to look at: Django 6 would otherwise give the trigger check (also
    # under this tag) every alias, and this test has no database access.
    messages = registry.run_checks(tags=[TAG], databases=[])

    assert "config_versions.E006" in {m.id for m in messages}


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE"))}
    return subprocess.run(
        [sys.executable, "-m", "django", *args, "--settings=tests.check_settings"],
        cwd=ROOT,
        env={**environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("config_versions", "error"),
    [
        ({"REQUIRE_PRECONDITION": "no"}, "config_versions.E006"),
        (["REQUIRE_PRECONDITION"], "config_versions.E005"),
    ],
)
def test_manage_py_check_fails_on_a_bad_setting(config_versions, error):
    result = _manage("check", CV_CONFIG_VERSIONS=json.dumps(config_versions))

    assert result.returncode == 1
    assert error in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("key", [b"x" * 40, "short", 12345, ["x" * 40]])
def test_a_signing_key_must_be_a_long_text(key):
    with override_settings(CONFIG_VERSIONS={"SIGNING_KEY": key}):
        assert _ids() == ["config_versions.E009"]


def test_a_long_text_or_none_is_a_signing_key():
    for key in (None, "k" * 32):
        with override_settings(CONFIG_VERSIONS={"SIGNING_KEY": key}):
            assert _ids() == []


def test_sqlite_transaction_mode_warning():
    databases: dict[str, dict[str, Any]] = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "OPTIONS": {}},
        "immediate": {
            "ENGINE": "django.db.backends.sqlite3",
            "OPTIONS": {"transaction_mode": "IMMEDIATE"},
        },
        "pg": {"ENGINE": "django.db.backends.postgresql"},
    }
    warnings = sqlite_transaction_warnings(databases)
    assert [(w.id, "'default'" in w.msg) for w in warnings] == [("config_versions.W001", True)]


TABLE = BotConfigVersion._meta.db_table


def _drop_trigger(name: str) -> None:
    on_table = f" ON {TABLE}" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER {name}{on_table}")


def _reinstall_triggers() -> None:
    # remove() first: install() cannot create a trigger that still exists.
    with connection.schema_editor() as editor:
        triggers.remove(None, editor)
        triggers.install(None, editor)


@pytest.mark.django_db
def test_healthy_database_has_its_triggers():
    assert check_history_triggers(databases=["default"]) == []


def test_trigger_check_needs_a_database_to_look_at():
    # Plain `check` and runserver pass no databases: nothing to connect to.
    assert check_history_triggers() == []


class RefuseConfigVersions:
    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return False if app_label == "config_versions" else None


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("missing", TRIGGERS)
def test_dropped_trigger_is_reported(missing):
    kept = next(name for name in TRIGGERS if name != missing)
    _drop_trigger(missing)
    try:
        messages = check_history_triggers(databases=["default"])
        # What `manage.py check --database default` and `manage.py migrate` run.
        with pytest.raises(SystemCheckError, match=r"config_versions\.E008"):
            call_command("check", "--database", "default", "--tag", TAG)
        with pytest.raises(SystemCheckError, match=r"config_versions\.E008"):
            call_command("migrate", verbosity=0, skip_checks=False)
        other_app = check_history_triggers(
            app_configs=[apps.get_app_config("auth")], databases=["default"]
        )
        with override_settings(DATABASE_ROUTERS=[f"{__name__}.RefuseConfigVersions"]):
            not_routed_here = check_history_triggers(databases=["default"])
    finally:
        _reinstall_triggers()

    [message] = messages
    assert message.id == "config_versions.E008"
    assert missing in message.msg
    assert kept not in message.msg
    assert "'default'" in message.msg
    assert "migrate config_versions 0001 --database=default --skip-checks" in str(message.hint)
    assert other_app == []
    assert not_routed_here == []
    assert check_history_triggers(databases=["default"]) == []


@pytest.mark.django_db(transaction=True)
def test_disabled_trigger_is_reported_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("only PostgreSQL can disable a trigger without dropping it")
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER config_versions_immutable")
    try:
        messages = check_history_triggers(databases=["default"])
    finally:
        _reinstall_triggers()

    assert [m.id for m in messages] == ["config_versions.E008"]
    assert "config_versions_immutable" in messages[0].msg


def test_trigger_check_from_a_fresh_database_to_a_repaired_one(tmp_path):
    # A SQLite file of its own, so migrate can run forwards and backwards in subprocesses;
    # the vendor queries themselves are tested on every database above.
    if connection.vendor != "sqlite":
        pytest.skip("runs on its own SQLite file; once per suite is enough")
    database = tmp_path / "fresh.sqlite3"

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        return _manage(*args, "-v0", CV_SQLITE_FILE=str(database))

    def installed() -> set[str]:
        with sqlite3.connect(database) as db:
            rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            return {name for (name,) in rows}

    fresh = manage("check", "--database", "default")
    assert (fresh.returncode, fresh.stderr) == (0, "")
    assert manage("migrate").returncode == 0
    assert installed() == {*TRIGGERS, *MOVE_TRIGGERS, *EVENT_TRIGGERS}

    with sqlite3.connect(database) as db:
        db.execute("DROP TRIGGER config_versions_head")
    broken = manage("check", "--database", "default")
    assert broken.returncode == 1
    assert "config_versions.E008" in broken.stderr
    assert "config_versions_head" in broken.stderr
    refused = manage("migrate")
    assert refused.returncode == 1
    assert "config_versions.E008" in refused.stderr

    # The hint's repair: back to 0001 past the check, then forward again.
    assert manage("migrate", "config_versions", "0001", "--skip-checks").returncode == 0
    between = manage("check", "--database", "default")
    assert (between.returncode, between.stderr) == (0, "")
    assert manage("migrate").returncode == 0
    assert installed() == {*TRIGGERS, *MOVE_TRIGGERS, *EVENT_TRIGGERS}
    assert manage("check", "--database", "default").returncode == 0


@pytest.mark.parametrize(
    ("labels", "default", "ids"),
    [
        ({}, "latest", []),
        ({"staging": {}, "production": {"protected": True}}, "production", []),
        ({"staging": {"description": "tried first"}}, "latest", []),
        (["staging"], "latest", ["config_versions.E010"]),
        ({"latest": {}}, "latest", ["config_versions.E010"]),
        ({"two words": {}}, "latest", ["config_versions.E010"]),
        ({"x" * 51: {}}, "latest", ["config_versions.E010"]),
        ({"staging": True}, "latest", ["config_versions.E010"]),
        ({"production": {"protected": "yes"}}, "latest", ["config_versions.E010"]),
        ({"production": {"locked": True}}, "latest", ["config_versions.E010"]),
        ({"staging": {}}, "production", ["config_versions.E011"]),
        ({"prod": {}, "Prod": {}}, "latest", ["config_versions.E010"]),
        ({}, None, ["config_versions.E011"]),
        ("staging", "staging", ["config_versions.E010", "config_versions.E011"]),
    ],
)
def test_labels_and_the_default_label_are_checked(labels, default, ids):
    with override_settings(CONFIG_VERSIONS={"LABELS": labels, "DEFAULT_LABEL": default}):
        assert [m.id for m in check_settings()] == ids


@pytest.mark.django_db(transaction=True)
def test_a_missing_label_move_trigger_is_reported():
    if connection.vendor == "postgresql":
        drop = (
            "DROP TRIGGER config_versions_moves_undeletable ON config_versions_botconfiglabelmove"
        )
    else:
        drop = "DROP TRIGGER config_versions_moves_undeletable"
    migration = importlib.import_module("config_versions.migrations.0007_label_moves")
    with connection.cursor() as cursor:
        cursor.execute(drop)
    try:
        messages = check_history_triggers(databases=["default"])
        assert [m.id for m in messages] == ["config_versions.E008"]
        assert "config_versions_moves_undeletable" in messages[0].msg
    finally:
        with connection.schema_editor() as editor:
            migration.install(None, editor)
    assert check_history_triggers(databases=["default"]) == []


@pytest.mark.parametrize(
    ("review", "ids"),
    [
        ({}, []),
        ({"required_approvals": 2, "labels": ["production"], "all_writes": True}, []),
        ({"allow_self_approval": True}, []),
        (["production"], ["config_versions.E012"]),
        ({"labels": ["canary"]}, ["config_versions.E012"]),
        ({"labels": "production"}, ["config_versions.E012"]),
        ({"labels": [1]}, ["config_versions.E012"]),
        ({"required_approvals": 0}, ["config_versions.E012"]),
        ({"required_approvals": True}, ["config_versions.E012"]),
        ({"required_approvals": "2"}, ["config_versions.E012"]),
        ({"allow_self_approval": "no"}, ["config_versions.E012"]),
        ({"approvers": ["ann"]}, ["config_versions.E012"]),
    ],
)
def test_the_review_setting_is_checked(review, ids):
    labels = {"staging": {}, "production": {"protected": True}}
    with override_settings(CONFIG_VERSIONS={"LABELS": labels, "REVIEW": review}):
        assert [m.id for m in check_settings()] == ids
        # Whatever the mistake, the app keeps running on a sound policy meanwhile.
        policy = conf.settings.REVIEW
        assert policy.required_approvals >= 1


@pytest.mark.django_db(transaction=True)
def test_a_missing_proposal_event_trigger_is_reported():
    table = "config_versions_botconfigproposalevent"
    name = "config_versions_proposal_events_immutable"
    drop = (
        f"DROP TRIGGER {name} ON {table}"
        if connection.vendor == "postgresql"
        else (f"DROP TRIGGER {name}")
    )
    migration = importlib.import_module("config_versions.migrations.0008_proposals")
    with connection.cursor() as cursor:
        cursor.execute(drop)
    try:
        messages = check_history_triggers(databases=["default"])
        assert [m.id for m in messages] == ["config_versions.E008"]
        assert name in messages[0].msg
    finally:
        with connection.schema_editor() as editor:
            migration.runner(migration.EVENTS, 0)(None, editor)
    assert check_history_triggers(databases=["default"]) == []
