"""Settings for the test suite. ``DATABASE_URL`` picks the database (SQLite by default).

``CV_TEST_DB_NAME`` names the test database on a server, so that two suites can run
side by side on one server without dropping each other's database.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent

SECRET_KEY = "config-versions-tests-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "config_versions",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "tests.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

STATIC_URL = "/static/"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests

_sqlite_file = Path(tempfile.gettempdir()) / f"config_versions_tests_{os.getpid()}.sqlite3"
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{_sqlite_file}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
_db = DATABASES["default"]
if _db["ENGINE"].endswith("sqlite3"):
    # A file, not :memory:, so that threads and the live server share one database.
    _db["TEST"] = {"NAME": str(_sqlite_file.with_suffix(".test.sqlite3"))}
    _db["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
else:
    _db["TEST"] = {"NAME": os.environ.get("CV_TEST_DB_NAME", "test_config_versions")}
    if _db["ENGINE"].endswith("mysql"):
        _db["OPTIONS"] = {"charset": "utf8mb4"}
        _db["TEST"].update({"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"})

# A second alias on the same database, as a read replica would be: tests/test_routing.py
# routes reads there and proves that writes never go to it.
DATABASES["replica"] = {**_db, "TEST": {**_db.get("TEST", {}), "MIRROR": "default"}}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

SPECTACULAR_SETTINGS = {"TITLE": "config_versions API", "VERSION": "1"}

CONFIG_VERSIONS: dict[str, object] = {}
