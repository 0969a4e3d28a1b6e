"""The example site's settings, read in a fresh process as manage.py would read them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.example.conftest import EXAMPLE_DIR

READ_SETTINGS = """
import json
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "options": db.get("OPTIONS", {}),
    "debug": settings.DEBUG, "allowed_hosts": settings.ALLOWED_HOSTS,
    "apps": settings.INSTALLED_APPS, "spectacular": settings.SPECTACULAR_SETTINGS,
}))
"""


def run_site(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE"))}
    environ.update(env)
    return subprocess.run(
        [sys.executable, *args],
        cwd=EXAMPLE_DIR,
        env={**environ, "DJANGO_SETTINGS_MODULE": "example_project.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def read_settings(**env: str) -> dict:
    result = run_site("-c", READ_SETTINGS, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("database_url", [None, ""])
def test_defaults_are_the_local_demo_on_sqlite(database_url):
    values = read_settings() if database_url is None else read_settings(DATABASE_URL="")

    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["name"] == str(EXAMPLE_DIR / "db.sqlite3")
    # Concurrent admin saves wait for the lock instead of failing (config_versions.W001).
    assert values["options"]["transaction_mode"] == "IMMEDIATE"
    assert values["debug"] is True
    assert values["allowed_hosts"] == ["127.0.0.1", "localhost"]
    assert "config_versions" in values["apps"]
    # Swagger UI from local static files: the docs page works without the internet.
    assert values["spectacular"]["SWAGGER_UI_DIST"] == "SIDECAR"
    assert "drf_spectacular_sidecar" in values["apps"]


@pytest.mark.parametrize(
    ("url", "engine"),
    [
        ("postgres://u:p@db.internal:5432/bots", "django.db.backends.postgresql"),
        ("mysql://u:p@db.internal:3306/bots", "django.db.backends.mysql"),
    ],
)
def test_database_url_picks_the_server(url, engine):
    values = read_settings(DATABASE_URL=url)

    assert values["engine"] == engine
    assert values["name"] == "bots"


def test_debug_off_refuses_the_public_demo_secret_key():
    result = run_site("manage.py", "check", DJANGO_DEBUG="0")

    assert result.returncode != 0
    assert "Set DJANGO_SECRET_KEY: the demo key is public." in result.stderr


def test_debug_off_with_a_real_key_and_hosts():
    values = read_settings(
        DJANGO_DEBUG="0", DJANGO_SECRET_KEY="x" * 50, DJANGO_ALLOWED_HOSTS="bots.example.com, a"
    )

    assert values["debug"] is False
    assert values["allowed_hosts"] == ["bots.example.com", "a"]


def test_manage_py_check_passes_without_warnings(tmp_path):
    result = run_site(
        "manage.py",
        "check",
        "--fail-level",
        "WARNING",
        DATABASE_URL=f"sqlite:///{tmp_path / 'site.sqlite3'}",
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
