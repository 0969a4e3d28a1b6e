"""``tests.settings`` for ``manage.py`` runs in a subprocess, changed through the environment.

- ``CV_CONFIG_VERSIONS``: JSON to use as ``CONFIG_VERSIONS`` (any JSON, so a list too).
- ``CV_SQLITE_FILE``: a SQLite file of the test's own as the default database, so a
  subprocess can migrate and break it without touching the suite's database.
"""

from __future__ import annotations

import json
import os

from tests.settings import *  # noqa: F403

if "CV_CONFIG_VERSIONS" in os.environ:
    CONFIG_VERSIONS = json.loads(os.environ["CV_CONFIG_VERSIONS"])

if "CV_SQLITE_FILE" in os.environ:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ["CV_SQLITE_FILE"],
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
