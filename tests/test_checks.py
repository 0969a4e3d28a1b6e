from __future__ import annotations

from typing import Any

from django.test import override_settings

from config_versions.checks import check_settings, sqlite_transaction_warnings


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


@override_settings(CONFIG_VERSIONS={"VALIDATORS": "tests.x"})
def test_validators_not_a_list():
    assert _ids() == ["config_versions.E003"]


@override_settings(CONFIG_VERSIONS={"VALIDATORS": ["tests.no_such_module.validator"]})
def test_validator_not_importable():
    assert _ids() == ["config_versions.E004"]


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
