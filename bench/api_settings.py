"""The example project's settings, on the benchmark's database, plus the bare views.

Only what a load test needs differs from ``example_project.settings``: the database (see
``bench.settings``), DEBUG off, and a URLconf that adds the bare floor views beside the
example's own URLs. Everything else (middleware, authentication, the site validator) is
the example site as it ships.
"""

from __future__ import annotations

import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "example_project"
if str(EXAMPLE) not in sys.path:
    sys.path.insert(0, str(EXAMPLE))

from bench import settings as _bench  # noqa: E402
from example_project.settings import *  # noqa: E402, F403

DEBUG = False
SECRET_KEY = "config-versions-bench-only"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "bench.api_urls"
DATABASES = _bench.DATABASES
# No request log line per request: wrk sends tens of thousands.
LOGGING = {"version": 1, "disable_existing_loggers": False}
