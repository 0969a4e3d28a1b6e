"""Django settings for the side-by-side benchmark: config_versions and its peers in one site.

``DATABASE_URL`` picks the database (a temporary SQLite file by default). On a server the
benchmark uses its own database, ``CV_BENCH_DB_NAME`` (default ``cv_bench``), which
``bench.run`` drops and creates afresh, so that it never touches anyone's test database.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent

SECRET_KEY = "config-versions-bench-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
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
    "reversion",
    "simple_history",
    "config_versions",
    "bench.benchapp",
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

ROOT_URLCONF = "bench.urls"

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
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

_sqlite_file = Path(tempfile.gettempdir()) / f"config_versions_bench_{os.getpid()}.sqlite3"
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{_sqlite_file}"
# Persistent connections, as a production site runs: the benchmark measures queries,
# not connection set-up.
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=600)}
_db = DATABASES["default"]
if _db["ENGINE"].endswith("sqlite3"):
    _db["NAME"] = os.environ.get("CV_BENCH_SQLITE_FILE", _db["NAME"])
    _db["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
else:
    _db["NAME"] = os.environ.get("CV_BENCH_DB_NAME", "cv_bench")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
}

# A site with releases, as the example site declares them (W2L reads production).
CONFIG_VERSIONS: dict[str, object] = {
    "LABELS": {"staging": {}, "production": {"protected": True}},
}
