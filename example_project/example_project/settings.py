"""Settings of the example site: a host project using config_versions as any site would.

Everything is read from the environment, with defaults that suit the local demo only:

- ``DATABASE_URL``: any dj-database-url URL; default the SQLite file ``db.sqlite3`` here.
- ``DJANGO_DEBUG``: ``1`` (default, DEMO ONLY) or ``0``.
- ``DJANGO_SECRET_KEY``: required once ``DJANGO_DEBUG=0``; the default is public.
- ``DJANGO_ALLOWED_HOSTS``: comma-separated; default ``127.0.0.1,localhost``.
- ``CONFIG_VERSIONS_SIGNING_KEY``: the key that signs chain heads (32 characters or
  more); with ``DJANGO_DEBUG`` on the default is a public demo key, without it none.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

# DEMO ONLY: this key is published in the repository. Anything reachable by others must
# set DJANGO_SECRET_KEY and DJANGO_DEBUG=0.
DEMO_SECRET_KEY = "demo-only-insecure-secret-key-do-not-deploy"
DEBUG = os.environ.get("DJANGO_DEBUG", "1").lower() in ("1", "true", "yes", "on")
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", DEMO_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEMO_SECRET_KEY:
    raise ImproperlyConfigured("Set DJANGO_SECRET_KEY: the demo key is public.")
ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if host.strip()
]

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
    # Swagger UI's JavaScript and CSS as static files: the docs page works offline.
    "drf_spectacular_sidecar",
    "config_versions",
    "demo",
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

ROOT_URLCONF = "example_project.urls"
WSGI_APPLICATION = "example_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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

# An empty DATABASE_URL counts as unset (dj_database_url.config() would return {}).
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
# Persistent connections (conn_max_age) need health checks: after a database restart or a
# dropped connection, each worker's next request would otherwise fail on its dead
# connection. With them Django checks a connection before a request's first query.
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # IMMEDIATE: two admins saving at once wait their turn instead of failing with
    # "database is locked" (system check config_versions.W001 explains).
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
elif DATABASES["default"]["ENGINE"].endswith("mysql"):
    DATABASES["default"]["OPTIONS"] = {"charset": "utf8mb4"}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where `manage.py collectstatic` puts files for a real web server; runserver with
# DEBUG on serves them straight from the apps.
STATIC_ROOT = BASE_DIR / "staticfiles"

REST_FRAMEWORK = {
    # Bots send "Authorization: Token <key>" (keys are managed in the admin under
    # "Tokens"); staff use the browsable API with their admin session. Token comes first
    # so that a bot with a bad key gets 401 with "WWW-Authenticate: Token", not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Bot configurations API",
    "DESCRIPTION": "Numbered, immutable versions of bot configurations (config_versions).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# DEMO ONLY, like DEMO_SECRET_KEY: this signing key is published in the repository.
# A real site sets CONFIG_VERSIONS_SIGNING_KEY (kept out of the database); without it
# and with DEBUG off, chain heads are not signed.
DEMO_SIGNING_KEY = "demo-only-insecure-signing-key-do-not-deploy"
SIGNING_KEY = os.environ.get("CONFIG_VERSIONS_SIGNING_KEY") or (DEMO_SIGNING_KEY if DEBUG else None)

CONFIG_VERSIONS = {
    # Every new version of every config also passes this site's own rule: credentials
    # are referenced by environment variable name, never written into a config.
    "VALIDATORS": ["demo.validators.reject_inline_secrets"],
    "SIGNING_KEY": SIGNING_KEY,
    # Releases: a version is tried on staging, then released to production, which the
    # running bots read (bot_client.py asks for ?label=production). Editors may move
    # staging (permission promote_botconfig); production is protected (moving it needs
    # promote_protected_botconfig as well: Leads) and reviewed (below). "latest" is
    # always the newest version.
    "LABELS": {
        "staging": {"description": "tried by the team before a release"},
        "production": {"protected": True, "description": "what the live bots run"},
    },
    # Review: production moves only by applying a proposal that someone other than its
    # author approved (review_botconfig: Leads and Reviewers); applying it needs what
    # moving production needs (Leads). Plain edits stay direct: all_writes is off, so
    # Editors save versions and move staging as before, and Proposers (propose_botconfig
    # only) see "Propose change" instead of "Save".
    "REVIEW": {
        "required_approvals": 1,
        "allow_self_approval": False,
        "labels": ["production"],
        "all_writes": False,
    },
}

LOGIN_URL = "admin:login"
