"""The example site's code lives in example_project/, as a host project's would."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

EXAMPLE_DIR = Path(__file__).resolve().parents[2] / "example_project"

# manage.py puts its own directory on sys.path; the tests import the site's modules
# (demo, bot_client, example_project.urls) the same way.
if str(EXAMPLE_DIR) not in sys.path:
    sys.path.insert(0, str(EXAMPLE_DIR))


@pytest.fixture
def example_settings(settings):
    """The example site's API policy, validators and templates on the test settings.

    Its apps stay those of the tests: drf_spectacular_sidecar is not installed there, so
    the docs page loads Swagger UI from its CDN, which no test fetches.
    """
    # By name: seen from the repository root, "example_project" is the outer folder.
    site = importlib.import_module("example_project.settings")

    settings.REST_FRAMEWORK = site.REST_FRAMEWORK
    settings.CONFIG_VERSIONS = site.CONFIG_VERSIONS
    settings.TEMPLATES = site.TEMPLATES
    return settings
