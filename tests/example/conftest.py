"""The example site's code lives in example_project/, as a host project's would."""

from __future__ import annotations

import sys
from pathlib import Path

EXAMPLE_DIR = Path(__file__).resolve().parents[2] / "example_project"

# manage.py puts its own directory on sys.path; the tests import the site's modules
# (demo, bot_client, example_project.urls) the same way.
if str(EXAMPLE_DIR) not in sys.path:
    sys.path.insert(0, str(EXAMPLE_DIR))
