"""The README's examples run, and its settings table matches conf.DEFAULTS."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from config_versions import conf
from config_versions.signals import config_rolled_back, version_created

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)


def block(first_line: str) -> str:
    matches = [b for b in BLOCKS if b.startswith(first_line)]
    assert len(matches) == 1, f"one README block should start with {first_line!r}"
    return matches[0]


def test_the_core_example_runs(capsys):
    exec(block("from config_versions import ConfigVersionManager"), {})

    assert capsys.readouterr().out.splitlines() == [
        "Conflict: expected v1, got v2",
        "v3: Reverting to stable configuration",
        "v2: Switch to Claude",
        "v1: Initial configuration",
    ]


@pytest.mark.django_db
def test_the_django_example_runs(capsys):
    exec(block("from django.contrib.auth import get_user_model"), {})

    assert capsys.readouterr().out == "['/temperature: 3 is greater than the maximum of 1']\n"


@pytest.mark.django_db
def test_the_signal_receivers_get_what_the_readme_says(
    bot, capsys, django_capture_on_commit_callbacks
):
    namespace: dict[str, Any] = {}
    exec(block("from django.dispatch import receiver"), namespace)
    manager = bot.version_manager
    try:
        with django_capture_on_commit_callbacks(execute=True):
            manager.create({"model": "a"})
            manager.update({"model": "b"}, reason="Try b")
            manager.rollback(1, reason="b was worse")
    finally:
        # The receivers live in a reference cycle with their namespace: disconnect them
        # now rather than whenever the garbage collector gets to them.
        version_created.disconnect(namespace["tell_the_bots"])
        config_rolled_back.disconnect(namespace["page_the_owner"])

    assert capsys.readouterr().out.splitlines() == [
        "support-bot is now at version 1: Initial configuration",
        "support-bot is now at version 2: Try b",
        "support-bot is now at version 3: b was worse",
        "support-bot rolled back to version 1 (as version 3)",
    ]


def test_the_settings_table_lists_every_key_with_its_default():
    rows = re.findall(r"^\| `([A-Z_]+)` \| `([^`]*)`", README, flags=re.MULTILINE)

    assert sorted(key for key, _ in rows) == sorted(conf.DEFAULTS)
    for key, default in rows:
        assert ast.literal_eval(default) == conf.DEFAULTS[key], key


def test_the_releases_example_prints_what_the_readme_says(capsys):
    exec(block("# Labels in memory"), {})

    printed = re.search(
        r"# Labels in memory.*?"
        r"prints\n\n```text\n(.*?)```",
        README,
        flags=re.DOTALL,
    )
    assert printed is not None
    assert capsys.readouterr().out == printed.group(1)


def test_the_review_example_prints_what_the_readme_says(capsys):
    exec(block("# Review in memory"), {})

    printed = re.search(
        r"# Review in memory.*?prints\n\n```text\n(.*?)```",
        README,
        flags=re.DOTALL,
    )
    assert printed is not None
    assert capsys.readouterr().out == printed.group(1)


def test_the_review_example_needs_no_django():
    code = "import sys\n" + block("# Review in memory") + "\nassert 'django' not in sys.modules\n"

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("You wrote proposal 1: someone else must review it.\n")


def test_the_settings_table_documents_review():
    row = re.search(r"^\| `REVIEW` \| .*$", README, flags=re.MULTILINE)

    assert row is not None
    for key in conf.DEFAULTS["REVIEW"]:
        assert key in row.group(0), key
