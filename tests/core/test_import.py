"""The core must run in a bare Python process: no Django imported, no settings needed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
from config_versions import ConfigVersion, ConfigVersionManager, VersionConflictError
import config_versions.core
m = ConfigVersionManager()
m.create({"a": 1})
m.update({"a": 2})
assert m.diff(1, 2)["changes"][0]["path"] == "/a"
prefixes = ("django.", "rest_framework")
leaked = sorted(n for n in sys.modules if n == "django" or n.startswith(prefixes))
print(",".join(leaked) or "clean")
"""


def test_core_imports_without_django():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "clean"
