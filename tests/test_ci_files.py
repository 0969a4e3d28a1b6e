"""The GitHub Actions workflow and the coverage gate: what a contributor relies on.

The workflow cannot run here (no GitHub), so these tests read it: valid YAML, the
supported Python x Django matrix, both database services, and the README's command.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "tests.yml"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())

pytestmark = pytest.mark.skipif(not WORKFLOW.exists(), reason="no .github/ (an sdist)")


@pytest.fixture(scope="module")
def job() -> dict[str, Any]:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert {"push", "pull_request"} <= set(triggers)
    return workflow["jobs"]["test"]


def test_matrix_is_every_supported_python_with_each_django(job):
    matrix = job["strategy"]["matrix"]
    excluded = {(cell["python"], cell["django"]) for cell in matrix["exclude"]}
    cells = {(py, dj) for py in matrix["python"] for dj in matrix["django"]} - excluded
    # Django 6 needs Python 3.12 or newer.
    assert cells == {
        ("3.11", "5.2"),
        ("3.12", "5.2"),
        ("3.12", "6"),
        ("3.13", "5.2"),
        ("3.13", "6"),
    }
    classifiers = PYPROJECT["project"]["classifiers"]
    supported = {c.rsplit(" :: ", 1)[1] for c in classifiers if re.match(r".*Python :: 3\.\d+$", c)}
    assert set(matrix["python"]) == supported


def test_runs_the_readme_command_against_both_servers_and_a_browser(job):
    services = job["services"]
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["mariadb"]["image"].startswith("mariadb:")
    assert job["env"]["REQUIRE_ALL_DATABASES"] == "1"
    assert job["env"]["REQUIRE_BROWSER"] == "1"
    assert "5432" in job["env"]["PG_URL"]
    assert "3306" in job["env"]["MYSQL_URL"]
    runs = [step.get("run", "") for step in job["steps"]]
    assert any(run.startswith("make test") for run in runs)
    assert any("CHROMIUM=" in run for run in runs)  # where the browser tests find Chromium


def test_the_projects_own_ci_does_not_call_the_workflow():
    assert ".github" not in (ROOT / ".ci" / "run").read_text()


def test_coverage_is_measured_and_gated():
    test_extra = PYPROJECT["project"]["optional-dependencies"]["test"]
    assert any(requirement.startswith("coverage") for requirement in test_extra)
    coverage = PYPROJECT["tool"]["coverage"]
    assert coverage["run"]["source"] == ["config_versions"]
    assert coverage["run"]["parallel"] is True
    assert coverage["report"]["fail_under"] > 0
    script = (ROOT / "scripts" / "test.sh").read_text()
    assert "-m coverage run" in script
    assert "coverage combine" in script
